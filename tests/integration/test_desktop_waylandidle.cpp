// The ext-idle-notify-v1 backend against a real compositor. Debian 12's wlroots (0.15) predates
// the protocol, so no wlroots compositor here has it; KWin 5.27 does, and runs headless
// (--virtual). Input comes from KWin's fake-input protocol, spoken here by hand (two requests).

#include "desktop/idlemonitor.h"
#include "desktop/waylandidlemonitor.h"
#include "desktoptest.h"
#include "error.h"

#include <QFile>
#include <QSignalSpy>
#include <QTest>

#include <wayland-client.h>

#include <cstring>

using namespace Coffer;
using namespace Coffer::Test;
using namespace std::chrono_literals;

namespace {

// org_kde_kwin_fake_input, its first two requests: authenticate(s, s), pointer_motion(f, f).
const wl_interface *const NoTypes[] = {nullptr, nullptr};
const wl_message FakeInputRequests[] = {
    {"authenticate", "ss", const_cast<const wl_interface **>(NoTypes)},
    {"pointer_motion", "ff", const_cast<const wl_interface **>(NoTypes)},
};
const wl_interface FakeInputInterface = {"org_kde_kwin_fake_input", 1, 2, FakeInputRequests, 0, nullptr};

// A client of the compositor that moves the pointer: the user coming back.
class FakeInput
{
public:
    explicit FakeInput(const QByteArray &socket)
        : m_display(wl_display_connect(socket.constData()))
    {
        if (!m_display)
            return;
        static const wl_registry_listener listener = {
            [](void *data, wl_registry *registry, uint32_t name, const char *interface, uint32_t) {
                if (std::strcmp(interface, FakeInputInterface.name) == 0)
                    static_cast<FakeInput *>(data)->m_input = static_cast<wl_proxy *>(
                        wl_registry_bind(registry, name, &FakeInputInterface, 1));
            },
            [](void *, wl_registry *, uint32_t) {},
        };
        m_registry = wl_display_get_registry(m_display);
        wl_registry_add_listener(m_registry, &listener, this);
        wl_display_roundtrip(m_display);
        if (m_input) {
            wl_proxy_marshal_flags(m_input, 0, nullptr, 1, 0, "Coffer test", "simulated user activity");
            wl_display_roundtrip(m_display);
        }
    }
    ~FakeInput()
    {
        if (m_input)
            wl_proxy_destroy(m_input);
        if (m_registry)
            wl_registry_destroy(m_registry);
        if (m_display)
            wl_display_disconnect(m_display);
    }
    bool isValid() const { return m_input != nullptr; }
    void movePointer()
    {
        wl_proxy_marshal_flags(m_input, 1, nullptr, 1, 0, wl_fixed_from_int(7), wl_fixed_from_int(3));
        wl_display_roundtrip(m_display);
    }

private:
    wl_display *m_display;
    wl_registry *m_registry = nullptr;
    wl_proxy *m_input = nullptr;
};

} // namespace

class TestDesktopWaylandIdle : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_runtime;
    std::unique_ptr<TestBus> m_bus;
    QProcess m_kwin;
    QByteArray m_socket;

private Q_SLOTS:
    void initTestCase()
    {
        if (!QFile::exists(QStringLiteral("/usr/bin/kwin_wayland")))
            QSKIP("needs kwin-wayland (packages.txt)");
        QFile::setPermissions(m_runtime.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        // A copy without the file capabilities Debian gives it (a container may refuse to exec
        // those); KWin's platform plugin insists the binary be named kwin_wayland.
        const QString kwin = m_runtime.filePath(QStringLiteral("kwin_wayland"));
        QVERIFY(QFile::copy(QStringLiteral("/usr/bin/kwin_wayland"), kwin));
        m_bus = std::make_unique<TestBus>(QStringLiteral("session"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), m_runtime.path());
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_bus->address());
        env.insert(QStringLiteral("KWIN_WAYLAND_NO_PERMISSION_CHECKS"), QStringLiteral("1"));
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        env.remove(QStringLiteral("QT_QPA_PLATFORM"));
        m_kwin.setProcessEnvironment(env);
        m_kwin.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_kwin.setStandardOutputFile(QProcess::nullDevice());
        dieWithParent(m_kwin);
        m_kwin.start(kwin, {QStringLiteral("--virtual"), QStringLiteral("--no-lockscreen"),
                            QStringLiteral("--no-global-shortcuts"), QStringLiteral("--no-kactivities"),
                            QStringLiteral("--socket"), QStringLiteral("coffer-test")});
        QVERIFY(m_kwin.waitForStarted());
        m_socket = m_runtime.filePath(QStringLiteral("coffer-test")).toLocal8Bit();
        QVERIFY(waitFor([&] { return QFile::exists(QString::fromLocal8Bit(m_socket)); }, 90000));
    }
    void cleanupTestCase()
    {
        m_kwin.kill();
        m_kwin.waitForFinished();
        m_bus.reset();
    }

    void idleThenActiveOnInput()
    {
        std::unique_ptr<WaylandIdleMonitor> monitor;
        // The socket exists a moment before KWin has its globals up.
        QVERIFY(waitFor([&] {
            try {
                monitor = WaylandIdleMonitor::create(800ms, nullptr, m_socket.constData());
            } catch (const Error &) {
            }
            return monitor != nullptr;
        }, 30000));
        QCOMPARE(monitor->backendName(), QStringLiteral("ext-idle-notify-v1"));
        FakeInput input(m_socket);
        QVERIFY(input.isValid());
        QSignalSpy idle(monitor.get(), &IdleMonitor::idle);
        QSignalSpy active(monitor.get(), &IdleMonitor::active);
        QVERIFY(idle.wait(15000));
        input.movePointer();
        QVERIFY(active.wait(15000));
        QVERIFY(!monitor->isIdle());
        QVERIFY(idle.wait(15000));
        input.movePointer();
        QVERIFY(active.wait(15000));
        QCOMPARE(idle.count(), 2);
    }

    void compositorGoneIsLost()
    {
        auto monitor = WaylandIdleMonitor::create(1min, nullptr, m_socket.constData());
        QSignalSpy lost(monitor.get(), &IdleMonitor::lost);
        cleanupTestCase();
        QVERIFY(lost.wait(15000));
    }
};

QTEST_GUILESS_MAIN(TestDesktopWaylandIdle)
#include "test_desktop_waylandidle.moc"
