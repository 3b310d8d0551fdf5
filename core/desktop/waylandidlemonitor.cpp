#include "desktop/waylandidlemonitor.h"

#include "error.h"

#include "ext-idle-notify-v1-client-protocol.h"

#include <QSocketNotifier>

#include <cerrno>
#include <cstring>

namespace Coffer {

std::unique_ptr<WaylandIdleMonitor> WaylandIdleMonitor::create(std::chrono::milliseconds timeout,
                                                               QObject *parent, const char *socketName)
{
    if (!socketName && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        throw Error(ErrorCode::NotSupported, "no Wayland compositor (WAYLAND_DISPLAY is not set)");
    wl_display *display = wl_display_connect(socketName);
    if (!display)
        throw Error::fromErrno(ErrorCode::NotSupported, errno, "cannot connect to the Wayland compositor");
    std::unique_ptr<WaylandIdleMonitor> monitor(new WaylandIdleMonitor(display, timeout, parent));
    monitor->bindGlobals();
    return monitor;
}

WaylandIdleMonitor::WaylandIdleMonitor(wl_display *display, std::chrono::milliseconds timeout, QObject *parent)
    : IdleMonitor(timeout, parent)
    , m_display(display)
{
}

WaylandIdleMonitor::~WaylandIdleMonitor()
{
    delete m_socket; // before its fd closes
    if (m_notification)
        ext_idle_notification_v1_destroy(m_notification);
    if (m_notifier)
        ext_idle_notifier_v1_destroy(m_notifier);
    if (m_seat)
        wl_seat_destroy(m_seat);
    if (m_registry)
        wl_registry_destroy(m_registry);
    wl_display_flush(m_display);
    wl_display_disconnect(m_display);
}

void WaylandIdleMonitor::bindGlobals()
{
    static const wl_registry_listener registryListener = {
        [](void *data, wl_registry *registry, uint32_t name, const char *interface, uint32_t) {
            auto *self = static_cast<WaylandIdleMonitor *>(data);
            if (!self->m_notifier && std::strcmp(interface, ext_idle_notifier_v1_interface.name) == 0) {
                self->m_notifier = static_cast<ext_idle_notifier_v1 *>(
                    wl_registry_bind(registry, name, &ext_idle_notifier_v1_interface, 1));
            } else if (!self->m_seat && std::strcmp(interface, wl_seat_interface.name) == 0) {
                // The first seat: the one a desktop session has.
                self->m_seat = static_cast<wl_seat *>(wl_registry_bind(registry, name, &wl_seat_interface, 1));
            }
        },
        [](void *, wl_registry *, uint32_t) {},
    };
    m_registry = wl_display_get_registry(m_display);
    wl_registry_add_listener(m_registry, &registryListener, this);
    if (wl_display_roundtrip(m_display) < 0)
        throw Error::fromErrno(ErrorCode::NotSupported, wl_display_get_error(m_display),
                               "the Wayland compositor hung up");
    if (!m_notifier)
        throw Error(ErrorCode::NotSupported, "the Wayland compositor does not offer ext-idle-notify-v1");
    if (!m_seat)
        throw Error(ErrorCode::NotSupported, "the Wayland compositor has no seat");

    static const ext_idle_notification_v1_listener notificationListener = {
        [](void *data, ext_idle_notification_v1 *) { static_cast<WaylandIdleMonitor *>(data)->setIdle(true); },
        [](void *data, ext_idle_notification_v1 *) { static_cast<WaylandIdleMonitor *>(data)->setIdle(false); },
    };
    m_notification = ext_idle_notifier_v1_get_idle_notification(m_notifier, uint32_t(timeout().count()), m_seat);
    ext_idle_notification_v1_add_listener(m_notification, &notificationListener, this);
    wl_display_flush(m_display);

    m_socket = new QSocketNotifier(wl_display_get_fd(m_display), QSocketNotifier::Read, this);
    connect(m_socket, &QSocketNotifier::activated, this, &WaylandIdleMonitor::dispatch);
}

void WaylandIdleMonitor::dispatch()
{
    // The socket is readable, so read_events does not block; events queued by an earlier read
    // are dispatched first (prepare_read refuses while there are any).
    while (wl_display_prepare_read(m_display) != 0) {
        if (wl_display_dispatch_pending(m_display) < 0)
            return connectionLost();
    }
    if (wl_display_read_events(m_display) < 0 || wl_display_dispatch_pending(m_display) < 0)
        return connectionLost();
    wl_display_flush(m_display);
}

void WaylandIdleMonitor::connectionLost()
{
    m_socket->setEnabled(false);
    const int err = wl_display_get_error(m_display);
    Q_EMIT lost(QStringLiteral("The Wayland compositor closed the connection (%1)")
                    .arg(QString::fromLocal8Bit(std::strerror(err ? err : EPIPE))));
}

} // namespace Coffer
