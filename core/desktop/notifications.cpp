#include "desktop/notifications.h"

#include "desktop/dbuscall.h"

#include <QDBusError>
#include <QDBusServiceWatcher>

namespace Coffer {

namespace {

const QString Service = QStringLiteral("org.freedesktop.Notifications");
const QString Path = QStringLiteral("/org/freedesktop/Notifications");
const QString Interface = QStringLiteral("org.freedesktop.Notifications");

Notifications::CloseReason closeReasonFrom(uint reason)
{
    switch (reason) {
    case 1: return Notifications::CloseReason::Expired;
    case 2: return Notifications::CloseReason::Dismissed;
    case 3: return Notifications::CloseReason::Closed;
    default: return Notifications::CloseReason::Undefined;
    }
}

} // namespace

Notifications::Notifications(const QDBusConnection &sessionBus, const QString &appName, QObject *parent)
    : QObject(parent)
    , m_bus(sessionBus)
    , m_appName(appName)
{
    m_bus.connect(Service, Path, Interface, QStringLiteral("ActionInvoked"), this,
                  SLOT(onActionInvoked(uint, QString)));
    m_bus.connect(Service, Path, Interface, QStringLiteral("NotificationClosed"), this,
                  SLOT(onNotificationClosed(uint, uint)));
    auto *watcher = new QDBusServiceWatcher(Service, m_bus, QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(watcher, &QDBusServiceWatcher::serviceOwnerChanged, this,
            [this](const QString &, const QString &oldOwner, const QString &newOwner) {
                if (!oldOwner.isEmpty())
                    serverVanished();
                if (!newOwner.isEmpty())
                    queryCapabilities();
            });
    queryCapabilities();
}

void Notifications::queryCapabilities()
{
    const auto message = QDBusMessage::createMethodCall(Service, Path, Interface,
                                                        QStringLiteral("GetCapabilities"));
    DesktopDBus::callAsync(m_bus, message, this, [this](const QDBusMessage &reply) {
        const bool present = reply.type() == QDBusMessage::ReplyMessage;
        const QStringList capabilities = present ? reply.arguments().value(0).toStringList() : QStringList();
        if (present == m_serverPresent && capabilities == m_capabilities)
            return;
        m_serverPresent = present;
        m_capabilities = capabilities;
        Q_EMIT serverChanged();
    });
}

uint Notifications::notify(const Notification &notification, uint replaces)
{
    const auto shown = m_shown.find(replaces);
    if (replaces != 0 && shown != m_shown.end()) {
        if (shown->serverId == 0)
            shown->queued = notification; // sent once the server told us its id
        else
            send(replaces, notification, shown->serverId);
        return replaces;
    }
    if (++m_lastHandle == 0)
        ++m_lastHandle;
    m_shown.insert(m_lastHandle, Shown());
    send(m_lastHandle, notification, 0);
    return m_lastHandle;
}

void Notifications::send(uint handle, const Notification &notification, uint replacesServerId)
{
    QStringList actions;
    if (!notification.defaultActionLabel.isEmpty())
        actions << QString::fromLatin1(DefaultActionKey) << notification.defaultActionLabel;
    for (const Action &action : notification.actions)
        actions << action.key << action.label;
    QVariantMap hints;
    hints.insert(QStringLiteral("urgency"), QVariant::fromValue(uchar(notification.urgency)));
    if (!notification.category.isEmpty())
        hints.insert(QStringLiteral("category"), notification.category);
    if (!notification.desktopEntry.isEmpty())
        hints.insert(QStringLiteral("desktop-entry"), notification.desktopEntry);

    QDBusMessage message = QDBusMessage::createMethodCall(Service, Path, Interface, QStringLiteral("Notify"));
    message << m_appName << replacesServerId << notification.iconName << notification.summary
            << notification.body << actions << hints << qint32(notification.timeoutMs);
    DesktopDBus::callAsync(m_bus, message, this, [this, handle](const QDBusMessage &reply) {
        auto shown = m_shown.find(handle);
        if (reply.type() != QDBusMessage::ReplyMessage) {
            // A first Notify that failed leaves nothing shown; a failed update leaves the old one.
            if (shown != m_shown.end() && shown->serverId == 0)
                m_shown.erase(shown);
            Q_EMIT failed(handle, QDBusError(reply).message());
            return;
        }
        if (shown == m_shown.end())
            return; // the server vanished meanwhile; closed() was said
        shown->serverId = reply.arguments().value(0).toUInt();
        if (shown->closeQueued) {
            sendClose(shown->serverId);
        } else if (shown->queued) {
            const Notification update = *std::exchange(shown->queued, std::nullopt);
            send(handle, update, shown->serverId);
        }
    });
}

void Notifications::close(uint handle)
{
    const auto shown = m_shown.find(handle);
    if (shown == m_shown.end())
        return;
    if (shown->serverId == 0) {
        shown->queued.reset();
        shown->closeQueued = true;
    } else {
        sendClose(shown->serverId);
    }
}

void Notifications::sendClose(uint serverId)
{
    QDBusMessage message = QDBusMessage::createMethodCall(Service, Path, Interface,
                                                          QStringLiteral("CloseNotification"));
    message << serverId;
    m_bus.send(message);
}

uint Notifications::handleOf(uint serverId) const
{
    for (auto it = m_shown.constBegin(); it != m_shown.constEnd(); ++it) {
        if (it->serverId == serverId && serverId != 0)
            return it.key();
    }
    return 0;
}

void Notifications::onActionInvoked(uint id, const QString &actionKey)
{
    if (const uint handle = handleOf(id))
        Q_EMIT actionInvoked(handle, actionKey);
}

void Notifications::onNotificationClosed(uint id, uint reason)
{
    if (const uint handle = handleOf(id)) {
        m_shown.remove(handle);
        Q_EMIT closed(handle, closeReasonFrom(reason));
    }
}

void Notifications::serverVanished()
{
    QList<uint> gone;
    for (auto it = m_shown.constBegin(); it != m_shown.constEnd(); ++it) {
        if (it->serverId != 0)
            gone << it.key();
    }
    for (uint handle : gone)
        m_shown.remove(handle);
    const bool changed = m_serverPresent;
    m_serverPresent = false;
    m_capabilities.clear();
    if (changed)
        Q_EMIT serverChanged();
    for (uint handle : gone)
        Q_EMIT closed(handle, CloseReason::ServerGone);
}

} // namespace Coffer
