#include "desktop/mutteridlemonitor.h"

#include "desktop/dbuscall.h"
#include "error.h"

#include <QDBusConnectionInterface>
#include <QDBusServiceWatcher>

namespace Coffer {

namespace {

const QString Service = QStringLiteral("org.gnome.Mutter.IdleMonitor");
const QString Path = QStringLiteral("/org/gnome/Mutter/IdleMonitor/Core");
const QString Interface = QStringLiteral("org.gnome.Mutter.IdleMonitor");

} // namespace

std::unique_ptr<MutterIdleMonitor> MutterIdleMonitor::create(const QDBusConnection &sessionBus,
                                                             std::chrono::milliseconds timeout,
                                                             QObject *parent)
{
    QDBusConnectionInterface *daemon = sessionBus.interface();
    if (!daemon || !daemon->isServiceRegistered(Service))
        throw Error(ErrorCode::NotSupported, "no Mutter idle monitor on the session bus");
    return std::unique_ptr<MutterIdleMonitor>(new MutterIdleMonitor(sessionBus, timeout, parent));
}

MutterIdleMonitor::MutterIdleMonitor(const QDBusConnection &sessionBus,
                                     std::chrono::milliseconds timeout, QObject *parent)
    : IdleMonitor(timeout, parent)
    , m_bus(sessionBus)
{
    m_bus.connect(Service, Path, Interface, QStringLiteral("WatchFired"), this, SLOT(onWatchFired(uint)));
    auto *watcher = new QDBusServiceWatcher(Service, m_bus, QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(watcher, &QDBusServiceWatcher::serviceOwnerChanged, this,
            [this](const QString &, const QString &, const QString &newOwner) {
                mutterChanged(!newOwner.isEmpty());
            });
    addWatch(Watch::Idle);
}

MutterIdleMonitor::~MutterIdleMonitor()
{
    removeWatch(m_idleWatch);
    removeWatch(m_activeWatch);
}

void MutterIdleMonitor::mutterChanged(bool present)
{
    ++m_generation;
    m_idleWatch = m_activeWatch = 0;
    // A new Mutter starts counting afresh: the user is not idle to it.
    setIdle(false);
    if (present)
        addWatch(Watch::Idle);
}

void MutterIdleMonitor::addWatch(Watch watch)
{
    QDBusMessage message = QDBusMessage::createMethodCall(
        Service, Path, Interface,
        watch == Watch::Idle ? QStringLiteral("AddIdleWatch") : QStringLiteral("AddUserActiveWatch"));
    if (watch == Watch::Idle)
        message << quint64(timeout().count());
    DesktopDBus::callAsync(m_bus, message, this, [this, watch, generation = m_generation](const QDBusMessage &reply) {
        if (generation != m_generation)
            return;
        if (reply.type() != QDBusMessage::ReplyMessage) {
            Q_EMIT lost(QString::fromStdString(
                DesktopDBus::errorFromReply(reply, "Mutter refused an idle watch").message()));
            return;
        }
            (watch == Watch::Idle ? m_idleWatch : m_activeWatch) = reply.arguments().value(0).toUInt();
    });
}

void MutterIdleMonitor::removeWatch(uint id)
{
    if (id == 0)
        return;
    QDBusMessage message = QDBusMessage::createMethodCall(Service, Path, Interface, QStringLiteral("RemoveWatch"));
    message << id;
    m_bus.send(message);
}

void MutterIdleMonitor::onWatchFired(uint id)
{
    if (id == 0)
        return;
    if (id == m_idleWatch) {
        setIdle(true);
        if (m_activeWatch == 0)
            addWatch(Watch::UserActive);
    } else if (id == m_activeWatch) {
        // A user-active watch fires once and is gone.
        m_activeWatch = 0;
        setIdle(false);
    }
}

} // namespace Coffer
