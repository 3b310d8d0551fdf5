// The XSync IDLETIME backend against a real X server (Xvfb), with real input from xdotool
// (XTest): idle after the timeout, active again on a pointer move or a key, idle again, chosen
// by IdleMonitor::create when DISPLAY is the only thing the session has, and lost() when the
// server goes.

#include "desktop/idlemonitor.h"
#include "desktop/x11idlemonitor.h"
#include "desktoptest.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace Coffer;
using namespace Coffer::Test;
using namespace std::chrono_literals;

class TestDesktopX11Idle : public QObject
{
    Q_OBJECT

private:
    QProcess m_xvfb;
    QString m_display;

    void xdotool(const QStringList &arguments)
    {
        QProcess tool;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DISPLAY"), m_display);
        tool.setProcessEnvironment(env);
        tool.start(QStringLiteral("xdotool"), arguments);
        QVERIFY(tool.waitForFinished());
        QCOMPARE(tool.exitCode(), 0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("Xvfb")).isEmpty()
            || QStandardPaths::findExecutable(QStringLiteral("xdotool")).isEmpty())
            QSKIP("needs Xvfb and xdotool (packages.txt)");
        dieWithParent(m_xvfb);
        // -displayfd: the server picks a free display and tells us on stdout when it is ready.
        // -noreset: each test's monitor is the only client; without it the server resets when that
        // one leaves, and the next test's connection can come while it does (refused).
        m_xvfb.start(QStringLiteral("Xvfb"), {QStringLiteral("-displayfd"), QStringLiteral("1"),
                                               QStringLiteral("-nolisten"), QStringLiteral("tcp"), QStringLiteral("-noreset"),
                                               QStringLiteral("-screen"), QStringLiteral("0"),
                                               QStringLiteral("640x480x24")});
        QVERIFY(m_xvfb.waitForStarted());
        QVERIFY(m_xvfb.waitForReadyRead(20000));
        m_display = QLatin1Char(':') + QString::fromLatin1(m_xvfb.readLine()).trimmed();
    }
    void cleanupTestCase()
    {
        m_xvfb.kill();
        m_xvfb.waitForFinished();
    }

    void idleThenActiveOnInput()
    {
        auto monitor = X11IdleMonitor::create(600ms, nullptr, m_display.toLocal8Bit().constData());
        QCOMPARE(monitor->backendName(), QStringLiteral("xsync"));
        QSignalSpy idle(monitor.get(), &IdleMonitor::idle);
        QSignalSpy active(monitor.get(), &IdleMonitor::active);
        QVERIFY(idle.wait(10000));
        QVERIFY(monitor->isIdle());

        xdotool({QStringLiteral("mousemove"), QStringLiteral("100"), QStringLiteral("100")});
        QVERIFY(active.wait(10000));
        QVERIFY(!monitor->isIdle());

        // Idle again after the next quiet spell, and back on a key this time.
        QVERIFY(idle.wait(10000));
        xdotool({QStringLiteral("key"), QStringLiteral("shift")});
        QVERIFY(active.wait(10000));
        QCOMPARE(idle.count(), 2);
        QCOMPARE(active.count(), 2);
    }

    void inputBeforeTheTimeoutKeepsItActive()
    {
        auto monitor = X11IdleMonitor::create(3s, nullptr, m_display.toLocal8Bit().constData());
        QSignalSpy idle(monitor.get(), &IdleMonitor::idle);
        // Input every half timeout: never idle.
        for (int i = 0; i < 4; ++i) {
            xdotool({QStringLiteral("mousemove"), QString::number(10 + i * 7), QStringLiteral("20")});
            QVERIFY(!idle.wait(1500));
        }
        QCOMPARE(idle.count(), 0);
        QVERIFY(!monitor->isIdle());
    }

    void chosenWhenOnlyXIsThere()
    {
        TestBus session(QStringLiteral("session"));
        const QByteArray wayland = qgetenv("WAYLAND_DISPLAY"), x11 = qgetenv("DISPLAY");
        qunsetenv("WAYLAND_DISPLAY");
        qputenv("DISPLAY", m_display.toLocal8Bit());
        auto monitor = IdleMonitor::create(session.connection(), 1min);
        qputenv("DISPLAY", x11);
        if (!wayland.isEmpty())
            qputenv("WAYLAND_DISPLAY", wayland);
        QCOMPARE(monitor->backendName(), QStringLiteral("xsync"));
    }

    void serverGoneIsLost()
    {
        auto monitor = X11IdleMonitor::create(1min, nullptr, m_display.toLocal8Bit().constData());
        QSignalSpy lost(monitor.get(), &IdleMonitor::lost);
        cleanupTestCase();
        QVERIFY(lost.wait(10000));
    }
};

QTEST_GUILESS_MAIN(TestDesktopX11Idle)
#include "test_desktop_x11idle.moc"
