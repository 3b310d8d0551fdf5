// The busy-lock dialog (ui/busylockdialog.h) as the main window shows it when the helper refuses
// a Lock with Busy (the fake helper's, L0): the programs it names (name, pid, what they hold),
// Force Lock asks the helper to force, Try Again asks again without force, Cancel asks nothing,
// and programs of other users leave Force out. The real helper's busy lock runs in the VM
// (helper-flow: the holder named, force refused for root's program, then alice's stopped).

#include "guitest.h"
#include "mainwindowfixture.h"
#include "xvfbmain.h"

#include "busylockdialog.h"

#include <QPushButton>
#include <QTreeWidget>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::BusyLockDialog;

namespace {

const QString HeldByTwo = QStringLiteral(
    "The vault is in use by gpg-agent (pid 812, working directory), vim (pid 900, open file). Close these programs "
    "and try again, or lock it by force");
const QString HeldByOthers = QStringLiteral(
    "The vault is in use by programs of other users: bash (pid 5, working directory). Coffer stops only your own "
    "programs; ask an administrator, or wait until they let go");

} // namespace

class TestBusyLock : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<MainWindowFixture> m_main;
    GuiFixture *f = nullptr;
    Ui::MainWindow *m_window = nullptr;
    FakeVault *m_vault = nullptr;

    int lockCalls() const { return int(f->fake->calls.count(QStringLiteral("Lock"))); }

    // Ctrl+L on the selected vault, refused with `message`: the dialog it brings.
    BusyLockDialog *refusedLock(const QString &message)
    {
        f->fake->errors[QStringLiteral("Lock")] = f->errorName(ErrorCode::Busy);
        f->fake->errorMessages[QStringLiteral("Lock")] = message;
        QTest::keyClick(m_window, Qt::Key_L, Qt::ControlModifier);
        BusyLockDialog *dialog = nullptr;
        const bool shown = QTest::qWaitFor(
            [&] { return (dialog = m_window->findChild<BusyLockDialog *>()) && dialog->isVisible(); }, waitMs);
        return shown && QTest::qWaitForWindowActive(dialog) ? dialog : nullptr;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
    }

    void init()
    {
        m_main = std::make_unique<MainWindowFixture>(m_bus.address());
        f = m_main->f.get();
        m_window = m_main->window.get();
        QVERIFY(m_main->ready());
        m_vault = f->openInHelper(f->vaultFile("keys"));
        QVERIFY(m_vault);
    }

    void cleanup() { m_main.reset(); }

    void namesTheHoldersAndForces()
    {
        BusyLockDialog *dialog = refusedLock(HeldByTwo);
        QVERIFY(dialog);
        QCOMPARE(dialog->windowTitle(), QStringLiteral("“keys” is in use"));
        QTreeWidget *holders = dialog->holders();
        QCOMPARE(holders->topLevelItemCount(), 2);
        QCOMPARE(holders->topLevelItem(0)->text(0), QStringLiteral("gpg-agent"));
        QCOMPARE(holders->topLevelItem(0)->text(1), QStringLiteral("812"));
        QCOMPARE(holders->topLevelItem(0)->text(2), QStringLiteral("working directory"));
        QCOMPARE(holders->topLevelItem(1)->text(0), QStringLiteral("vim"));
        QCOMPARE(holders->topLevelItem(1)->text(1), QStringLiteral("900"));
        QCOMPARE(holders->topLevelItem(1)->data(0, Qt::AccessibleTextRole).toString(),
                 QStringLiteral("vim, process 900, open file"));
        QVERIFY(dialog->forceButton()->isEnabled());
        COFFER_CHECK_KEYBOARD_AND_NAMES(dialog);
        screenshot(dialog, QStringLiteral("busy-lock-dialog"));

        const int before = lockCalls();
        QTest::keyClick(dialog, Qt::Key_F, Qt::AltModifier);
        QTRY_COMPARE_WITH_TIMEOUT(lockCalls(), before + 1, waitMs);
        QCOMPARE(f->fake->lastLockOptions.value(QLatin1String(Helper1::Key::Force)).toBool(), true);
        QTRY_VERIFY_WITH_TIMEOUT(!f->model->row(fakeVaultId(1))->isOpen(), waitMs);
    }

    void tryAgainAsksWithoutForce()
    {
        BusyLockDialog *dialog = refusedLock(HeldByTwo);
        QVERIFY(dialog);
        const int before = lockCalls();
        QTest::keyClick(dialog, Qt::Key_Return); // Try Again is the default
        QTRY_COMPARE_WITH_TIMEOUT(lockCalls(), before + 1, waitMs);
        QVERIFY(!f->fake->lastLockOptions.value(QLatin1String(Helper1::Key::Force)).toBool());
        QTRY_VERIFY_WITH_TIMEOUT(!f->model->row(fakeVaultId(1))->isOpen(), waitMs);
    }

    void cancelLocksNothing()
    {
        QPointer<BusyLockDialog> dialog = refusedLock(HeldByTwo);
        QVERIFY(dialog);
        const int before = lockCalls();
        QTest::keyClick(dialog, Qt::Key_Escape);
        QTRY_VERIFY(!dialog);
        QTest::qWait(200);
        QCOMPARE(lockCalls(), before);
        QVERIFY(f->model->row(fakeVaultId(1))->isOpen());
    }

    void otherUsersCannotBeForced()
    {
        BusyLockDialog *dialog = refusedLock(HeldByOthers);
        QVERIFY(dialog);
        QCOMPARE(dialog->holders()->topLevelItemCount(), 1);
        QCOMPARE(dialog->holders()->topLevelItem(0)->text(0), QStringLiteral("bash"));
        QVERIFY(!dialog->forceButton()->isEnabled());
        QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("advice"))->text().contains(QStringLiteral("other users")));
        screenshot(dialog, QStringLiteral("busy-lock-other-users"));
    }

    void aMessageNamingNobodyIsShownAsItIs()
    {
        const QString vague = QStringLiteral("The vault is in use. Close these programs and try again, or lock it by force");
        BusyLockDialog *dialog = refusedLock(vague);
        QVERIFY(dialog);
        QVERIFY(!dialog->holders()->isVisible());
        QCOMPARE(dialog->findChild<QLabel *>(QStringLiteral("helperMessage"))->text(), vague);
        QVERIFY(dialog->forceButton()->isEnabled());
    }
};

COFFER_XVFB_MAIN(TestBusyLock)
#include "test_busylock.moc"
