// Auto-lock (ui/autolock) by the vault's LockPolicy, else the application's settings: a screen
// saver's ActiveChanged(true) (python-dbusmock's org.freedesktop.ScreenSaver on a private bus,
// with the fake helper) locks the open vaults that lock on screen lock, and not the others; a
// vault backing up is locked when the backup ends; idle locks through the idle monitor of the
// vault's timeout (a stand-in monitor; the real backends have tests of their own), and says
// when there is none; the maximum open time is a deadline armed at unlock.

#include "desktoptest.h"
#include "guifixture.h"

#include "autolock.h"
#include "desktop/idlemonitor.h"
#include "desktop/screenlockmonitor.h"
#include "desktop/wallclocktimer.h"

#include <QSignalSpy>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::AutoLock;

namespace {

const QString SaverService = QStringLiteral("org.freedesktop.ScreenSaver");
const QString SaverPath = QStringLiteral("/org/freedesktop/ScreenSaver");

// An idle monitor the test makes idle.
class StandInIdle : public IdleMonitor
{
public:
    explicit StandInIdle(std::chrono::milliseconds timeout)
        : IdleMonitor(timeout, nullptr)
    {
    }
    QString backendName() const override { return QStringLiteral("stand-in"); }
    void goIdle() { setIdle(true); }
};

} // namespace

class TestGuiAutoLock : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestBus> m_bus;
    std::unique_ptr<DBusMock> m_saver;
    std::unique_ptr<GuiFixture> f;
    std::unique_ptr<ScreenLockMonitor> m_screen;
    QList<QPointer<StandInIdle>> m_idle; // the monitors AutoLock made
    std::unique_ptr<AutoLock> m_autoLock;

    void lockScreen(bool locked)
    {
        QVERIFY(isReply(m_saver->emitSignal(SaverPath, SaverService, QStringLiteral("ActiveChanged"), QStringLiteral("b"),
                                            {locked})));
    }
    void setLockPolicy(int n, const Config::LockPolicy &policy)
    {
        Config::VaultEntry e = *f->registry->vault(fakeVaultUuid(n));
        e.lock = policy;
        f->registry->putVault(e);
    }
    bool isOpen(int n) const { return f->model->row(fakeVaultId(n)) && f->model->row(fakeVaultId(n))->isOpen(); }

private Q_SLOTS:
    void initTestCase()
    {
        Ui::installTranslations();
        m_bus = std::make_unique<TestBus>(QStringLiteral("session"));
        QVERIFY(m_bus->isConnected());
        m_saver = std::make_unique<DBusMock>(*m_bus, SaverService, QStringList{SaverService, SaverPath, SaverService});
        QVERIFY(m_saver->isReady());
    }
    void init()
    {
        f = std::make_unique<GuiFixture>(m_bus->address());
        // No logind on this bus: the session is not found, the screensaver alone tells.
        m_screen = std::make_unique<ScreenLockMonitor>(f->connect(QStringLiteral("system")), f->connect(QStringLiteral("session")));
        m_idle.clear();
        m_autoLock = std::make_unique<AutoLock>(f->model.get(), f->controller.get(), m_screen.get(),
                                                [this](std::chrono::milliseconds timeout) {
            auto monitor = std::make_unique<StandInIdle>(timeout);
            m_idle << monitor.get();
            return monitor;
        });
        f->registerVault(1, "keys");
        f->registerVault(2, "docs");
        f->model->setMedia({f->drive()});
    }
    void cleanup()
    {
        m_autoLock.reset();
        m_screen.reset();
        f.reset();
    }

    void screenLockLocksThoseThatSaySo()
    {
        Config::LockPolicy stays;
        stays.onScreenLock = false;
        setLockPolicy(2, stays);
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        QVERIFY(f->openInHelper(f->vaultFile("docs"), QStringLiteral("docs")));
        QSignalSpy locked(m_screen.get(), &ScreenLockMonitor::locked);
        lockScreen(true);
        QVERIFY(locked.wait(waitMs));
        QTRY_VERIFY_WITH_TIMEOUT(!isOpen(1), waitMs);
        QTest::qWait(100);
        QVERIFY(isOpen(2)); // its own policy keeps it open
        lockScreen(false);
    }

    void theApplicationSettingApplies()
    {
        Config::Settings s = f->registry->settings();
        s.lockOnScreenLock = false;
        f->registry->setSettings(s);
        Config::LockPolicy locks;
        locks.onScreenLock = true;
        setLockPolicy(2, locks);
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        QVERIFY(f->openInHelper(f->vaultFile("docs"), QStringLiteral("docs")));
        QSignalSpy locked(m_screen.get(), &ScreenLockMonitor::locked);
        lockScreen(true);
        QVERIFY(locked.wait(waitMs));
        QTRY_VERIFY_WITH_TIMEOUT(!isOpen(2), waitMs);
        QTest::qWait(100);
        QVERIFY(isOpen(1)); // follows the application: off
        lockScreen(false);
    }

    void aBackupFinishesFirst()
    {
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        f->controller->backUp(fakeVaultId(1));
        QTRY_VERIFY_WITH_TIMEOUT(f->fake->calls.contains(QStringLiteral("Sync")), waitMs);
        QSignalSpy locked(m_screen.get(), &ScreenLockMonitor::locked);
        lockScreen(true);
        QVERIFY(locked.wait(waitMs));
        QTest::qWait(100);
        QVERIFY(isOpen(1));
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Lock")));
        f->fake->jobs.last()->finish(JobOutcome::Ok);
        QTRY_VERIFY_WITH_TIMEOUT(!isOpen(1), waitMs);
        lockScreen(false);
    }

    void idleLocksByTheVaultsMinutes()
    {
        Config::Settings s = f->registry->settings();
        s.idleLockMinutes = 10;
        f->registry->setSettings(s);
        Config::LockPolicy quick;
        quick.idleMinutes = 2;
        setLockPolicy(2, quick);
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        QVERIFY(f->openInHelper(f->vaultFile("docs"), QStringLiteral("docs")));
        QCOMPARE(m_autoLock->idleMinutesWatched(), (QList<int>{2, 10}));
        QVERIFY(m_autoLock->idleUnavailable().isEmpty());
        StandInIdle *two = nullptr;
        for (const QPointer<StandInIdle> &m : std::as_const(m_idle)) {
            if (m && m->timeout() == std::chrono::minutes(2))
                two = m;
        }
        QVERIFY(two);
        two->goIdle();
        QTRY_VERIFY_WITH_TIMEOUT(!isOpen(2), waitMs);
        QVERIFY(isOpen(1));
        // The 2-minute monitor is gone with the vault that needed it.
        QTRY_COMPARE_WITH_TIMEOUT(m_autoLock->idleMinutesWatched(), QList<int>{10}, waitMs);
    }

    void noIdleMonitorIsSaid()
    {
        AutoLock without(f->model.get(), f->controller.get(), nullptr, [](std::chrono::milliseconds) -> std::unique_ptr<IdleMonitor> {
            throw Error(ErrorCode::NotSupported, "No idle monitor: no Mutter, no Wayland compositor, no X server.");
        });
        QSignalSpy changed(&without, &AutoLock::idleAvailabilityChanged);
        Config::Settings s = f->registry->settings();
        s.idleLockMinutes = 5;
        f->registry->setSettings(s);
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        QTRY_VERIFY_WITH_TIMEOUT(!without.idleUnavailable().isEmpty(), waitMs);
        QCOMPARE(without.idleUnavailable(), QStringLiteral("No idle monitor: no Mutter, no Wayland compositor, no X server."));
        QVERIFY(changed.count() >= 1);
    }

    void maximumOpenTimeIsADeadline()
    {
        Config::Settings s = f->registry->settings();
        s.maxOpenMinutes = 30;
        f->registry->setSettings(s);
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        QVERIFY(m_autoLock->hasDeadline(fakeVaultId(1)));
        QVERIFY(!m_autoLock->hasDeadline(fakeVaultId(2)));
        WallClockTimer *deadline = m_autoLock->findChild<WallClockTimer *>();
        QVERIFY(deadline);
        QVERIFY(!deadline->repeats());
        QVERIFY(deadline->remaining() > std::chrono::minutes(29));
        QVERIFY(deadline->remaining() <= std::chrono::minutes(30));
        Q_EMIT deadline->timeout(); // what the kernel does in 30 minutes
        QTRY_VERIFY_WITH_TIMEOUT(!isOpen(1), waitMs);
        QVERIFY(!m_autoLock->hasDeadline(fakeVaultId(1)));
    }
};

QTEST_MAIN(TestGuiAutoLock)
#include "test_gui_autolock.moc"
