#pragma once

#include "desktop/idlemonitor.h"

struct wl_display;
struct wl_registry;
struct wl_seat;
struct ext_idle_notifier_v1;
struct ext_idle_notification_v1;
class QSocketNotifier;

namespace Coffer {

// ext-idle-notify-v1 over a Wayland connection of its own (Qt 6.4 does not hand out its
// wl_display, and a Qt app on X11 has none): the compositor sends idled and resumed.
class WaylandIdleMonitor : public IdleMonitor
{
    Q_OBJECT
public:
    // Connects to `socketName` (nullptr: WAYLAND_DISPLAY). Throws Error(NotSupported) if there
    // is no compositor, or it offers no ext_idle_notifier_v1 or no seat.
    static std::unique_ptr<WaylandIdleMonitor> create(std::chrono::milliseconds timeout,
                                                      QObject *parent = nullptr,
                                                      const char *socketName = nullptr);
    ~WaylandIdleMonitor() override;

    QString backendName() const override { return QStringLiteral("ext-idle-notify-v1"); }

private:
    WaylandIdleMonitor(wl_display *display, std::chrono::milliseconds timeout, QObject *parent);
    void bindGlobals();
    void dispatch();
    void connectionLost();

    wl_display *m_display;
    wl_registry *m_registry = nullptr;
    wl_seat *m_seat = nullptr;
    ext_idle_notifier_v1 *m_notifier = nullptr;
    ext_idle_notification_v1 *m_notification = nullptr;
    QSocketNotifier *m_socket = nullptr;
};

} // namespace Coffer
