// IdleMonitor: the backend chosen at run time, and Mutter's against a mock of
// org.gnome.Mutter.IdleMonitor (tests/desktopmocks/mutter_idlemonitor.py) on a private session
// bus: idle and back, de-duplicated, watches added again when Mutter restarts and removed when
// the monitor goes. XSync (Xvfb) and ext-idle-notify-v1 (KWin) run for real in
// tests/integration.

#include "desktop/idlemonitor.h"
#include "desktop/mutteridlemonitor.h"
#include "desktop/waylandidlemonitor.h"
#include "desktop/x11idlemonitor.h"
#include "desktoptest.h"
#include "testerror.h"

#include <QSignalSpy>
#include <QTest>

using namespace Coffer;
using namespace Coffer::Test;
using namespace std::chrono_literals;

namespace {

const QString Service = QStringLiteral("org.gnome.Mutter.IdleMonitor");
const QString Path = QStringLiteral("/org/gnome/Mutter/IdleMonitor/Core");

} // namespace

class TestDesktopIdle : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestBus> m_bus;
    std::unique_ptr<DBusMock> m_mutter;

    void startMutter()
    {
        m_mutter = std::make_unique<DBusMock>(
            *m_bus, Service,
            QStringList{QStringLiteral("-t"), QStringLiteral(COFFER_SOURCE_DIR "/tests/desktopmocks/mutter_idlemonitor.py")});
        QVERIFY(m_mutter->isReady());
    }
    uint watchCount() const
    {
        const QDBusMessage reply = m_mutter->mock(Path, QStringLiteral("WatchCount"));
        return isReply(reply) ? reply.arguments().value(0).toUInt() : 0;
    }
    QList<qulonglong> idleIntervals() const
    {
        const QDBusMessage reply = m_mutter->mock(Path, QStringLiteral("IdleIntervals"));
        return isReply(reply) ? qdbus_cast<QList<qulonglong>>(reply.arguments().value(0)) : QList<qulonglong>();
    }
    void simulate(const char *what)
    {
        QVERIFY(isReply(m_mutter->mock(Path, QString::fromLatin1(what))));
    }

private Q_SLOTS:
    void init()
    {
        m_bus = std::make_unique<TestBus>(QStringLiteral("session"));
        QVERIFY(m_bus->isConnected());
    }
    void cleanup()
    {
        m_mutter.reset();
        m_bus.reset();
    }

    void mutterIsChosenFirst()
    {
        startMutter();
        auto monitor = IdleMonitor::create(m_bus->connection(), 300s);
        QCOMPARE(monitor->backendName(), QStringLiteral("mutter"));
        QCOMPARE(monitor->timeout(), 300000ms);
        QVERIFY(waitFor([&] { return idleIntervals() == QList<qulonglong>{300000}; }));
    }

    void mutterIdleAndBack()
    {
        startMutter();
        auto monitor = IdleMonitor::create(m_bus->connection(), 2min);
        QSignalSpy idle(monitor.get(), &IdleMonitor::idle);
        QSignalSpy active(monitor.get(), &IdleMonitor::active);
        QVERIFY(waitFor([&] { return watchCount() == 1; }));
        simulate("SimulateIdle");
        QVERIFY(idle.wait());
        QVERIFY(monitor->isIdle());
        // The user-active watch is added on idle.
        QVERIFY(waitFor([&] { return watchCount() == 2; }));
        simulate("SimulateIdle"); // a second report of the same idle period
        simulate("SimulateActivity");
        QVERIFY(active.wait());
        QVERIFY(!monitor->isIdle());
        QCOMPARE(idle.count(), 1);
        QCOMPARE(watchCount(), 1u);
        // The idle watch stays: the next idle period is reported too.
        simulate("SimulateIdle");
        QVERIFY(idle.wait());
        QVERIFY(waitFor([&] { return watchCount() == 2; }));
        simulate("SimulateActivity");
        QVERIFY(active.wait());
        QCOMPARE(idle.count(), 2);
        QCOMPARE(active.count(), 2);
    }

    void mutterRestartAddsTheWatchAgain()
    {
        startMutter();
        auto monitor = IdleMonitor::create(m_bus->connection(), 1min);
        QSignalSpy idle(monitor.get(), &IdleMonitor::idle);
        QSignalSpy active(monitor.get(), &IdleMonitor::active);
        QVERIFY(waitFor([&] { return watchCount() == 1; }));
        simulate("SimulateIdle");
        QVERIFY(idle.wait());
        // gnome-shell restarts (Alt+F2 r on X11): the new one knows none of our watches.
        m_mutter->stop();
        QVERIFY(active.wait()); // a new Mutter counts afresh: not idle
        startMutter();
        QVERIFY(waitFor([&] { return watchCount() == 1; }));
        simulate("SimulateIdle");
        QVERIFY(waitFor([&] { return idle.count() == 2; }));
    }

    void watchesRemovedWithTheMonitor()
    {
        startMutter();
        auto monitor = IdleMonitor::create(m_bus->connection(), 1min);
        QVERIFY(waitFor([&] { return watchCount() == 1; }));
        QSignalSpy idle(monitor.get(), &IdleMonitor::idle);
        simulate("SimulateIdle");
        QVERIFY(idle.wait());
        QVERIFY(waitFor([&] { return watchCount() == 2; }));
        // The reply with the user-active watch's id came before WatchCount's: let it in.
        QCoreApplication::processEvents();
        monitor.reset();
        QVERIFY(waitFor([&] { return watchCount() == 0; }));
    }

    void noBackendSaysWhatWasTried()
    {
        const QByteArray wayland = qgetenv("WAYLAND_DISPLAY"), x11 = qgetenv("DISPLAY");
        qunsetenv("WAYLAND_DISPLAY");
        qunsetenv("DISPLAY");
        std::string message;
        const ErrorCode code = codeOf([&] {
            try {
                IdleMonitor::create(m_bus->connection(), 1min);
            } catch (const Error &e) {
                message = e.message();
                throw;
            }
        });
        if (!wayland.isEmpty())
            qputenv("WAYLAND_DISPLAY", wayland);
        if (!x11.isEmpty())
            qputenv("DISPLAY", x11);
        QCOMPARE(code, ErrorCode::NotSupported);
        QVERIFY2(message.find("Mutter") != std::string::npos && message.find("WAYLAND_DISPLAY") != std::string::npos
                     && message.find("DISPLAY is not set") != std::string::npos,
                 message.c_str());
    }

    void unreachableDisplaysAreNotSupported()
    {
        QCOMPARE(codeOf([] { WaylandIdleMonitor::create(1min, nullptr, "coffer-test-no-such-compositor"); }),
                 ErrorCode::NotSupported);
        QCOMPARE(codeOf([] { X11IdleMonitor::create(1min, nullptr, ":4711"); }), ErrorCode::NotSupported);
        QCOMPARE(codeOf([&] { MutterIdleMonitor::create(m_bus->connection(), 1min); }), ErrorCode::NotSupported);
    }
};

QTEST_GUILESS_MAIN(TestDesktopIdle)
#include "test_desktop_idle.moc"
