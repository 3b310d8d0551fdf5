// Notifications against a real notification daemon: dunst under Xvfb on a private session bus.
// It says it shows actions; a notification appears; its default action, invoked the way a click
// does (dunstctl action), comes back as actionInvoked(handle, "default"); an update in place
// keeps one notification; dismissing it (dunstctl close) is closed(handle, Dismissed).

#include "desktop/notifications.h"
#include "desktoptest.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace Coffer;
using namespace Coffer::Test;

class TestDesktopDunst : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestBus> m_bus;
    QProcess m_xvfb, m_dunst;
    QProcessEnvironment m_env;

    QString dunstctl(const QStringList &arguments)
    {
        QProcess tool;
        tool.setProcessEnvironment(m_env);
        tool.start(QStringLiteral("dunstctl"), arguments);
        tool.waitForFinished();
        return QString::fromUtf8(tool.readAllStandardOutput()).trimmed();
    }

private Q_SLOTS:
    void initTestCase()
    {
        for (const char *tool : {"Xvfb", "dunst", "dunstctl"}) {
            if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
                QSKIP("needs Xvfb and dunst (packages.txt)");
        }
        m_bus = std::make_unique<TestBus>(QStringLiteral("session"));
        QVERIFY(m_bus->isConnected());
        dieWithParent(m_xvfb);
        m_xvfb.start(QStringLiteral("Xvfb"), {QStringLiteral("-displayfd"), QStringLiteral("1"),
                                               QStringLiteral("-nolisten"), QStringLiteral("tcp"), QStringLiteral("-noreset")});
        QVERIFY(m_xvfb.waitForReadyRead(20000));
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert(QStringLiteral("DISPLAY"), QLatin1Char(':') + QString::fromLatin1(m_xvfb.readLine()).trimmed());
        m_env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_bus->address());
        m_env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        dieWithParent(m_dunst);
        m_dunst.setProcessEnvironment(m_env);
        m_dunst.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_dunst.start(QStringLiteral("dunst"), {QStringLiteral("-config"), QStringLiteral("/dev/null")});
        QVERIFY(waitFor([&] { return m_bus->hasOwner(QStringLiteral("org.freedesktop.Notifications")); }, 20000));
    }
    void cleanupTestCase()
    {
        m_dunst.kill();
        m_dunst.waitForFinished();
        m_xvfb.kill();
        m_xvfb.waitForFinished();
        m_bus.reset();
    }

    void defaultActionUpdateAndDismiss()
    {
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        QSignalSpy changed(&notifications, &Notifications::serverChanged);
        QVERIFY(changed.wait());
        QVERIFY(notifications.isServerPresent());
        QVERIFY(notifications.supportsActions());

        Notifications::Notification n;
        n.summary = QStringLiteral("Backup drive plugged in");
        n.body = QStringLiteral("Back up “keys” now?");
        n.actions = {{QStringLiteral("backup"), QStringLiteral("Back up now")}};
        n.defaultActionLabel = QStringLiteral("Open Coffer");
        n.category = QStringLiteral("device.added");
        n.timeoutMs = 0;
        QSignalSpy invoked(&notifications, &Notifications::actionInvoked);
        QSignalSpy closed(&notifications, &Notifications::closed);
        QSignalSpy failed(&notifications, &Notifications::failed);
        const uint handle = notifications.notify(n);
        QVERIFY(waitFor([&] { return dunstctl({QStringLiteral("count"), QStringLiteral("displayed")}) == QLatin1String("1"); }));

        n.body = QStringLiteral("Back up “keys” now? (updated)");
        QCOMPARE(notifications.notify(n, handle), handle);
        QTest::qWait(200);
        QCOMPARE(dunstctl({QStringLiteral("count"), QStringLiteral("displayed")}), QStringLiteral("1"));

        // What a click on the notification does.
        dunstctl({QStringLiteral("action"), QStringLiteral("0")});
        QVERIFY(waitFor([&] { return !invoked.isEmpty(); }));
        QCOMPARE(invoked.at(0).at(0).toUInt(), handle);
        QCOMPARE(invoked.at(0).at(1).toString(), QString::fromLatin1(Notifications::DefaultActionKey));
        // dunst closes a notification whose action was taken; otherwise the person dismisses it.
        if (closed.isEmpty() && !closed.wait(2000))
            dunstctl({QStringLiteral("close")});
        QVERIFY(waitFor([&] { return !closed.isEmpty(); }));
        QCOMPARE(closed.at(0).at(0).toUInt(), handle);
        QVERIFY(closed.at(0).at(1).value<Notifications::CloseReason>() == Notifications::CloseReason::Dismissed
                || closed.at(0).at(1).value<Notifications::CloseReason>() == Notifications::CloseReason::Closed);
        QCOMPARE(failed.count(), 0);
    }

    void dismissedByThePerson()
    {
        Notifications notifications(m_bus->connection(), QStringLiteral("Coffer"));
        QSignalSpy changed(&notifications, &Notifications::serverChanged);
        QVERIFY(changed.wait());
        Notifications::Notification n;
        n.summary = QStringLiteral("Safe to unplug");
        n.timeoutMs = 0;
        QSignalSpy closed(&notifications, &Notifications::closed);
        const uint handle = notifications.notify(n);
        QVERIFY(waitFor([&] { return dunstctl({QStringLiteral("count"), QStringLiteral("displayed")}) == QLatin1String("1"); }));
        dunstctl({QStringLiteral("close")});
        QVERIFY(closed.wait());
        QCOMPARE(closed.at(0).at(0).toUInt(), handle);
        QCOMPARE(closed.at(0).at(1).value<Notifications::CloseReason>(), Notifications::CloseReason::Dismissed);
    }
};

QTEST_GUILESS_MAIN(TestDesktopDunst)
#include "test_desktop_dunst.moc"
