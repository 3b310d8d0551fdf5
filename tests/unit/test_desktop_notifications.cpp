// core/desktop/notifications against python-dbusmock's notification daemon on a private session
// bus: what Notify carries (actions, default action, urgency, category, replaces_id), the
// signals mapped back to our handles, a server without "actions", a server that vanishes and
// comes back, and no server at all. A real daemon (dunst) is in tests/integration.

#include "desktop/notifications.h"
#include "desktoptest.h"

#include <QSignalSpy>
#include <QTest>

using namespace Coffer;
using namespace Coffer::Test;

namespace {

const QString Service = QStringLiteral("org.freedesktop.Notifications");
const QString Path = QStringLiteral("/org/freedesktop/Notifications");
const QString Interface = QStringLiteral("org.freedesktop.Notifications");
const QString TestInterface = QStringLiteral("org.coffer.Test");

Notifications::Notification plugged()
{
    Notifications::Notification n;
    n.summary = QStringLiteral("Backup drive plugged in");
    n.body = QStringLiteral("“keys” is on it");
    n.iconName = QStringLiteral("drive-removable-media");
    n.actions = {{QStringLiteral("backup"), QStringLiteral("Back up now")},
                 {QStringLiteral("unlock"), QStringLiteral("Unlock only")}};
    n.defaultActionLabel = QStringLiteral("Open Coffer");
    n.urgency = Notifications::Urgency::Critical;
    n.category = QStringLiteral("device.added");
    n.desktopEntry = QStringLiteral("org.coffer.Coffer");
    n.timeoutMs = 0;
    return n;
}

} // namespace

class TestDesktopNotifications : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestBus> m_bus;
    std::unique_ptr<DBusMock> m_server;

    void startServer(const QString &capabilities)
    {
        m_server = std::make_unique<DBusMock>(
            *m_bus, Service,
            QStringList{QStringLiteral("-t"), QStringLiteral("notification_daemon"), QStringLiteral("-p"),
                        QStringLiteral("{\"capabilities\": \"%1\"}").arg(capabilities)});
        QVERIFY(m_server->isReady());
        // The specification's reason for CloseNotification is 3 (the template says 1).
        QVERIFY(isReply(m_server->addMethod(
            Path, Interface, QStringLiteral("CloseNotification"), QStringLiteral("u"), QString(),
            QStringLiteral("self.EmitSignal('', 'NotificationClosed', 'uu', [args[0], 3])"))));
        // What the last Notify carried, for the test to read back.
        QVERIFY(isReply(m_server->addMethod(
            Path, TestInterface, QStringLiteral("LastNotify"), QString(), QStringLiteral("a{sv}"),
            QStringLiteral("c = [x for x in self.call_log if x[1] == 'Notify'][-1][2]\n"
                           "h = c[6]\n"
                           "ret = {'app': c[0], 'replaces': dbus.UInt32(c[1]), 'icon': c[2], 'summary': c[3],\n"
                           "       'body': c[4], 'actions': dbus.Array(c[5], signature='s'),\n"
                           "       'urgency': dbus.Byte(h['urgency']), 'category': h.get('category', ''),\n"
                           "       'desktop-entry': h.get('desktop-entry', ''), 'timeout': dbus.Int32(c[7]),\n"
                           "       'calls': dbus.UInt32(len([x for x in self.call_log if x[1] == 'Notify']))}"))));
    }
    QVariantMap lastNotify() const
    {
        const QDBusMessage reply = m_server->call(Path, TestInterface, QStringLiteral("LastNotify"));
        return isReply(reply) ? qdbus_cast<QVariantMap>(reply.arguments().value(0)) : QVariantMap();
    }
    uint notifyCalls() const { return lastNotify().value(QStringLiteral("calls")).toUInt(); }
    void emitSignal(const QString &name, const QString &signature, const QVariantList &arguments)
    {
        QVERIFY(isReply(m_server->emitSignal(Path, Interface, name, signature, arguments)));
    }
    // A notification the server has answered for (its id is 1, the mock's first).
    uint shown(Notifications &notifications)
    {
        QSignalSpy ready(&notifications, &Notifications::serverChanged);
        if (!notifications.isServerPresent())
            ready.wait();
        const uint handle = notifications.notify(plugged());
        waitFor([&] { return notifyCalls() == 1; });
        // Notify's reply came in on this connection before LastNotify's: it is queued ahead of
        // anything the test makes the server say next.
        QCoreApplication::processEvents();
        return handle;
    }

private Q_SLOTS:
    void init()
    {
        m_bus = std::make_unique<TestBus>(QStringLiteral("session"));
        QVERIFY(m_bus->isConnected());
    }
    void cleanup()
    {
        m_server.reset();
        m_bus.reset();
    }

    void serverWithoutActions()
    {
        // notification-daemon's usual set: no "actions", so the app asks in a window.
        startServer(QStringLiteral("body body-markup icon-static"));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        QSignalSpy changed(&notifications, &Notifications::serverChanged);
        QVERIFY(changed.wait());
        QVERIFY(notifications.isServerPresent());
        QVERIFY(!notifications.supportsActions());
        QCOMPARE(notifications.capabilities(), QStringList({QStringLiteral("body"), QStringLiteral("body-markup"),
                                                            QStringLiteral("icon-static")}));
    }

    void notifyCarriesActionsAndHints()
    {
        startServer(QStringLiteral("actions body"));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        QSignalSpy changed(&notifications, &Notifications::serverChanged);
        QVERIFY(changed.wait());
        QVERIFY(notifications.supportsActions());

        const uint handle = notifications.notify(plugged());
        QVERIFY(handle != 0);
        QVERIFY(waitFor([&] { return notifyCalls() == 1; }));
        const QVariantMap sent = lastNotify();
        QCOMPARE(sent.value(QStringLiteral("app")).toString(), QStringLiteral("Coffer"));
        QCOMPARE(sent.value(QStringLiteral("replaces")).toUInt(), 0u);
        QCOMPARE(sent.value(QStringLiteral("icon")).toString(), QStringLiteral("drive-removable-media"));
        QCOMPARE(sent.value(QStringLiteral("summary")).toString(), QStringLiteral("Backup drive plugged in"));
        QCOMPARE(sent.value(QStringLiteral("body")).toString(), QStringLiteral("“keys” is on it"));
        QCOMPARE(sent.value(QStringLiteral("actions")).toStringList(),
                 QStringList({QStringLiteral("default"), QStringLiteral("Open Coffer"), QStringLiteral("backup"),
                              QStringLiteral("Back up now"), QStringLiteral("unlock"), QStringLiteral("Unlock only")}));
        QCOMPARE(sent.value(QStringLiteral("urgency")).toUInt(), 2u);
        QCOMPARE(sent.value(QStringLiteral("category")).toString(), QStringLiteral("device.added"));
        QCOMPARE(sent.value(QStringLiteral("desktop-entry")).toString(), QStringLiteral("org.coffer.Coffer"));
        QCOMPARE(sent.value(QStringLiteral("timeout")).toInt(), 0);
    }

    void actionsAndClosingComeBackByHandle()
    {
        startServer(QStringLiteral("actions"));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        const uint handle = shown(notifications);
        QSignalSpy invoked(&notifications, &Notifications::actionInvoked);
        QSignalSpy closed(&notifications, &Notifications::closed);
        // Another app's notification (id 77) is none of ours.
        emitSignal(QStringLiteral("ActionInvoked"), QStringLiteral("us"), {77u, QStringLiteral("backup")});
        emitSignal(QStringLiteral("ActionInvoked"), QStringLiteral("us"), {1u, QStringLiteral("backup")});
        emitSignal(QStringLiteral("ActionInvoked"), QStringLiteral("us"), {1u, QStringLiteral("default")});
        emitSignal(QStringLiteral("NotificationClosed"), QStringLiteral("uu"), {77u, 2u});
        emitSignal(QStringLiteral("NotificationClosed"), QStringLiteral("uu"), {1u, 2u});
        QVERIFY(waitFor([&] { return closed.count() == 1; }));
        QCOMPARE(invoked.count(), 2);
        QCOMPARE(invoked.at(0).at(0).toUInt(), handle);
        QCOMPARE(invoked.at(0).at(1).toString(), QStringLiteral("backup"));
        QCOMPARE(invoked.at(1).at(1).toString(), QString::fromLatin1(Notifications::DefaultActionKey));
        QCOMPARE(closed.at(0).at(0).toUInt(), handle);
        QCOMPARE(closed.at(0).at(1).value<Notifications::CloseReason>(), Notifications::CloseReason::Dismissed);
        // Gone: a later signal with the same id (the server may reuse it) is not ours.
        emitSignal(QStringLiteral("ActionInvoked"), QStringLiteral("us"), {1u, QStringLiteral("backup")});
        QTest::qWait(100);
        QCOMPARE(invoked.count(), 2);
    }

    void closeAsksTheServer()
    {
        startServer(QStringLiteral("actions"));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        const uint handle = shown(notifications);
        QSignalSpy closed(&notifications, &Notifications::closed);
        notifications.close(handle);
        QVERIFY(closed.wait());
        QCOMPARE(closed.at(0).at(0).toUInt(), handle);
        QCOMPARE(closed.at(0).at(1).value<Notifications::CloseReason>(), Notifications::CloseReason::Closed);
    }

    void replacesKeepsTheHandle()
    {
        startServer(QStringLiteral("actions"));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        const uint handle = shown(notifications);
        Notifications::Notification progress = plugged();
        progress.summary = QStringLiteral("Backing up “keys”: 40 %");
        QCOMPARE(notifications.notify(progress, handle), handle);
        QVERIFY(waitFor([&] { return notifyCalls() == 2; }));
        QCOMPARE(lastNotify().value(QStringLiteral("replaces")).toUInt(), 1u);
        QCOMPARE(lastNotify().value(QStringLiteral("summary")).toString(), progress.summary);
        // An unknown handle is a new notification.
        const uint other = notifications.notify(progress, 9999);
        QVERIFY(other != handle && other != 9999);
    }

    void updateBeforeTheServerAnsweredWaitsForItsId()
    {
        startServer(QStringLiteral("actions"));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        QSignalSpy ready(&notifications, &Notifications::serverChanged);
        QVERIFY(ready.wait());
        const uint handle = notifications.notify(plugged());
        Notifications::Notification update = plugged();
        update.summary = QStringLiteral("Updated at once");
        QCOMPARE(notifications.notify(update, handle), handle);
        QVERIFY(waitFor([&] { return notifyCalls() == 2; }));
        QCOMPARE(lastNotify().value(QStringLiteral("replaces")).toUInt(), 1u);
        QCOMPARE(lastNotify().value(QStringLiteral("summary")).toString(), update.summary);
    }

    void serverVanishesAndComesBack()
    {
        startServer(QStringLiteral("actions"));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        const uint handle = shown(notifications);
        QSignalSpy changed(&notifications, &Notifications::serverChanged);
        QSignalSpy closed(&notifications, &Notifications::closed);
        m_server->stop();
        QVERIFY(closed.wait());
        QCOMPARE(closed.at(0).at(0).toUInt(), handle);
        QCOMPARE(closed.at(0).at(1).value<Notifications::CloseReason>(), Notifications::CloseReason::ServerGone);
        QCOMPARE(changed.count(), 1);
        QVERIFY(!notifications.isServerPresent());
        QVERIFY(!notifications.supportsActions());

        startServer(QStringLiteral("actions body"));
        QVERIFY(waitFor([&] { return changed.count() == 2; }));
        QVERIFY(notifications.isServerPresent());
        QVERIFY(notifications.supportsActions());
    }

    void noServer()
    {
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        QSignalSpy failed(&notifications, &Notifications::failed);
        const uint handle = notifications.notify(plugged());
        QVERIFY(failed.wait());
        QCOMPARE(failed.at(0).at(0).toUInt(), handle);
        QVERIFY(!failed.at(0).at(1).toString().isEmpty());
        QVERIFY(!notifications.isServerPresent());
    }

    void serverRefusesNotify()
    {
        startServer(QStringLiteral("actions"));
        QVERIFY(isReply(m_server->addMethod(
            Path, Interface, QStringLiteral("Notify"), QStringLiteral("susssasa{sv}i"), QStringLiteral("u"),
            QStringLiteral("raise dbus.exceptions.DBusException('Too many notifications', "
                           "name='org.freedesktop.Notifications.Error.ExcessNotificationGeneration')"))));
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        QSignalSpy failed(&notifications, &Notifications::failed);
        const uint handle = notifications.notify(plugged());
        QVERIFY(failed.wait());
        QCOMPARE(failed.at(0).at(0).toUInt(), handle);
        QVERIFY2(failed.at(0).at(1).toString().contains(QLatin1String("Too many notifications")),
                 qPrintable(failed.at(0).at(1).toString()));
    }
};

QTEST_GUILESS_MAIN(TestDesktopNotifications)
#include "test_desktop_notifications.moc"
