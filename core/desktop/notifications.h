#pragma once

// Desktop notifications (org.freedesktop.Notifications on the session bus): actions and a
// default action, updates in place, urgency and category, and what became of each one. Without a
// server, or with one that shows no actions, the app falls back to a window: isServerPresent()
// and supportsActions() say which.

#include <QDBusConnection>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace Coffer {

class Notifications : public QObject
{
    Q_OBJECT
public:
    enum class Urgency : uchar { Low = 0, Normal = 1, Critical = 2 };
    // The specification's reasons, and ServerGone: the server left the bus (crashed, replaced),
    // taking every notification with it.
    enum class CloseReason : uint { ServerGone = 0, Expired = 1, Dismissed = 2, Closed = 3, Undefined = 4 };
    Q_ENUM(CloseReason)

    struct Action {
        QString key;   // what actionInvoked() reports
        QString label; // what the person reads
    };

    struct Notification {
        QString summary;
        QString body;
        QString iconName;
        QList<Action> actions;
        // Non-empty: clicking the notification itself invokes DefaultActionKey. Some servers
        // show the label too.
        QString defaultActionLabel;
        Urgency urgency = Urgency::Normal;
        QString category;     // "device.added", "transfer.complete", ... (empty: none)
        QString desktopEntry; // the app's .desktop file name without ".desktop" (empty: none)
        int timeoutMs = -1;   // -1: the server's default, 0: until the person closes it
    };

    static constexpr const char *DefaultActionKey = "default";

    // appName is what the server shows as the sender. Asks the server for its capabilities at
    // once (which starts a D-Bus-activatable server) and again whenever one appears.
    Notifications(const QDBusConnection &sessionBus, const QString &appName, QObject *parent = nullptr);

    // A server answered GetCapabilities and is still on the bus.
    bool isServerPresent() const { return m_serverPresent; }
    QStringList capabilities() const { return m_capabilities; }
    // The server shows actions. If not, actions are not offered: ask in a window instead.
    bool supportsActions() const { return m_capabilities.contains(QLatin1String("actions")); }

    // Shows `notification`; returns its handle (never 0), which the signals below carry. With
    // `replaces`, the handle of a notification still shown, that one is updated in place and
    // keeps its handle. Never blocks; failed() says if the server refused it.
    uint notify(const Notification &notification, uint replaces = 0);
    // CloseNotification (once the server has said its id): closed(handle, Closed) follows when
    // the server confirms it.
    void close(uint handle);

Q_SIGNALS:
    // A server appeared or answered, or it left: isServerPresent() and capabilities() changed.
    void serverChanged();
    void actionInvoked(uint handle, const QString &actionKey);
    // The notification is gone; its handle means nothing any more.
    void closed(uint handle, Notifications::CloseReason reason);
    // Notify failed (no server, or it refused): the person has not seen it.
    void failed(uint handle, const QString &message);

private Q_SLOTS:
    void onActionInvoked(uint id, const QString &actionKey);
    void onNotificationClosed(uint id, uint reason);

private:
    struct Shown {
        uint serverId = 0;                     // 0 until the server answered
        std::optional<Notification> queued;    // an update that waits for serverId
        bool closeQueued = false;              // close() came before serverId
    };

    void queryCapabilities();
    void send(uint handle, const Notification &notification, uint replacesServerId);
    void serverVanished();
    void sendClose(uint serverId);
    uint handleOf(uint serverId) const;

    QDBusConnection m_bus;
    QString m_appName;
    bool m_serverPresent = false;
    QStringList m_capabilities;
    uint m_lastHandle = 0;
    QHash<uint, Shown> m_shown; // by handle
};

} // namespace Coffer
