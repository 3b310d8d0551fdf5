// The progress window (ui/progresswindow): each phase as the helper reports it (the final flush a
// phase of its own, with no bar that pretends to measure it), each outcome (ok, partial with
// what could not be read, cancelled, failed), Cancel asks the helper and Esc only hides; and a
// backup through the controller end to end: progress from the fake job, the record in the
// registry, the lock and "Safe to unplug".

#include "guifixture.h"

#include "progresswindow.h"

#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::ProgressWindow;

class TestGuiProgress : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<GuiFixture> f;

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        Ui::installTranslations();
    }
    void init() { f = std::make_unique<GuiFixture>(m_bus.address()); }
    void cleanup() { f.reset(); }

    void eachPhase_data()
    {
        QTest::addColumn<Client::JobProgress>("progress");
        QTest::addColumn<QString>("phase");
        QTest::addColumn<QString>("counts");
        QTest::addColumn<bool>("indeterminate");
        QTest::newRow("before the first report") << jobProgress(std::nullopt, 0, 0, 0, 0, 0) << "Starting…" << "" << true;
        QTest::newRow("scan") << jobProgress(Sync::Phase::Scan, 0, 1830, 0, 0, 0, QStringLiteral("ssh/known_hosts"))
                              << "Looking for changes…" << "1830 items looked at" << true;
        QTest::newRow("copy") << jobProgress(Sync::Phase::Copy, 0.5, 41, 112, 1 << 20, 4 << 20, QStringLiteral("ssh/id"))
                              << "Copying files…" << "41 of 112 files, 1.0 MiB of 4.0 MiB" << false;
        QTest::newRow("delete") << jobProgress(Sync::Phase::Delete, 0.9, 3, 7, 0, 0) << "Removing what was deleted here…"
                                << "3 of 7 removed" << false;
        QTest::newRow("flush") << jobProgress(Sync::Phase::Flush, 0.95, 112, 112, 4 << 20, 4 << 20)
                               << "Writing everything to the drive…"
                               << "Waiting for the drive to confirm that the data is written." << true;
        QTest::newRow("done") << jobProgress(Sync::Phase::Done, 1, 112, 112, 4 << 20, 4 << 20) << "Finishing…" << "" << false;
    }
    void eachPhase()
    {
        QFETCH(Client::JobProgress, progress);
        QFETCH(QString, phase);
        QFETCH(QString, counts);
        QFETCH(bool, indeterminate);
        ProgressWindow w(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        w.setProgress(progress);
        QCOMPARE(w.phaseText(), phase);
        QCOMPARE(w.countsText(), counts);
        QCOMPARE(w.currentItemText(), progress.currentItem);
        QCOMPARE(w.isProgressIndeterminate(), indeterminate);
        if (!indeterminate)
            QCOMPARE(w.findChild<QProgressBar *>(QStringLiteral("bar"))->value(), int(progress.fraction * 1000));
        QVERIFY(w.isRunning());
        QVERIFY(w.outcomeText().isEmpty());
    }

    void eachOutcome_data()
    {
        QTest::addColumn<JobOutcome>("outcome");
        QTest::addColumn<QString>("phase");
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("unreadable");
        QTest::newRow("ok") << JobOutcome::Ok << "Backed up." << "2 files copied (300 B), 1 removed, 9 looked at." << 0;
        QTest::newRow("partial") << JobOutcome::Partial << "Backed up, with gaps."
                                 << "3 items could not be read and are not in this backup:" << 3;
        QTest::newRow("cancelled") << JobOutcome::Cancelled << "Cancelled."
                                   << "The vault holds the last complete backup; nothing half-copied is in it." << 0;
        QTest::newRow("failed") << JobOutcome::Failed << "The backup failed." << "The vault is full." << 0;
    }
    void eachOutcome()
    {
        QFETCH(JobOutcome, outcome);
        QFETCH(QString, phase);
        QFETCH(QString, text);
        QFETCH(int, unreadable);
        ProgressWindow w(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        w.setProgress(jobProgress(Sync::Phase::Copy, 0.5, 1, 2, 100, 200, QStringLiteral("ssh/a")));
        Client::JobResult result;
        result.sync = Sync::Result{};
        result.sync->filesCopied = 2;
        result.sync->bytesCopied = 300;
        result.sync->filesDeleted = 1;
        result.sync->filesScanned = 9;
        if (outcome == JobOutcome::Partial) {
            result.sync->warnings = {{"ssh/id_rsa", "Permission denied", 13}, {"gnupg/S.agent", "Not a regular file", 0}};
            result.sync->warningsDropped = 1;
        }
        std::optional<Error> error;
        if (outcome == JobOutcome::Failed)
            error = Error(ErrorCode::NoSpace, "The vault is full.");
        if (outcome == JobOutcome::Cancelled)
            error = Error(ErrorCode::Cancelled, "Cancelled.");
        w.setFinished(outcome, error, result);
        QVERIFY(!w.isRunning());
        QCOMPARE(w.phaseText(), phase);
        QCOMPARE(w.outcomeText(), text);
        QVERIFY(w.currentItemText().isEmpty());
        QCOMPARE(w.unreadableItems().size(), unreadable);
        if (unreadable) {
            QCOMPARE(w.unreadableItems().at(0), QStringLiteral("ssh/id_rsa: Permission denied"));
            QCOMPARE(w.unreadableItems().at(2), QStringLiteral("… and 1 more"));
        }
        // Only Close is left, and it is the default.
        QVERIFY(w.findChild<QPushButton *>(QStringLiteral("cancelButton"))->isHidden());
        QVERIFY(w.findChild<QPushButton *>(QStringLiteral("closeButton"))->isDefault());
        w.setLocking();
        QCOMPARE(w.unplugText(), QStringLiteral("Locking the vault…"));
        w.setLocked({QStringLiteral("docs")});
        QCOMPARE(w.unplugText(), QStringLiteral("Locked. “docs” is still open on MY STICK: lock it before you unplug the drive."));
        w.setLocked({});
        QCOMPARE(w.unplugText(), QStringLiteral("Locked. Safe to unplug MY STICK."));
    }

    void cancelAsksEscOnlyHides()
    {
        ProgressWindow w(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        QSignalSpy cancel(&w, &ProgressWindow::cancelRequested);
        w.show();
        QTest::keyClick(&w, Qt::Key_Escape);
        QVERIFY(!w.isVisible());
        QCOMPARE(cancel.count(), 0);
        w.show();
        w.findChild<QPushButton *>(QStringLiteral("cancelButton"))->click();
        QCOMPARE(cancel.count(), 1);
        QCOMPARE(w.phaseText(), QStringLiteral("Cancelling…"));
        QVERIFY(w.isVisible()); // it says how the cancel ended
    }

    // Through the controller: the fake job's phases reach the window; Cancel reaches the
    // helper; the cancelled backup is recorded, the vault (locked before) is locked again and
    // the drive is safe to unplug.
    void backupThroughTheController()
    {
        f->registerVault(1, "keys");
        f->useKeyFile(1);
        f->model->setMedia({f->drive()});
        QSignalSpy safe(f->controller.get(), &Ui::VaultController::safeToUnplug);
        f->controller->backUp(fakeVaultId(1));
        QTRY_VERIFY_WITH_TIMEOUT(f->fake->calls.contains(QStringLiteral("Sync")), waitMs);
        ProgressWindow *w = f->controller->progressWindow(fakeVaultId(1));
        QVERIFY(w && w->isVisible());
        QCOMPARE(w->windowTitle(), QStringLiteral("Backing up “keys”"));
        QCOMPARE(f->model->row(fakeVaultId(1))->state(), Ui::VaultState::Syncing);
        FakeJob *job = f->fake->jobs.last();
        job->setPhase(QStringLiteral("copy"), 1, 4, 10, 40, QStringLiteral("ssh/config"));
        QTRY_COMPARE_WITH_TIMEOUT(w->phaseText(), QStringLiteral("Copying files…"), waitMs);
        QCOMPARE(w->currentItemText(), QStringLiteral("ssh/config"));
        job->setPhase(QStringLiteral("flush"), 4, 4, 40, 40);
        QTRY_COMPARE_WITH_TIMEOUT(w->phaseText(), QStringLiteral("Writing everything to the drive…"), waitMs);
        QVERIFY(w->isProgressIndeterminate());

        w->findChild<QPushButton *>(QStringLiteral("cancelButton"))->click();
        QTRY_COMPARE_WITH_TIMEOUT(job->cancelCalls, 1, waitMs);
        QTRY_COMPARE_WITH_TIMEOUT(w->phaseText(), QStringLiteral("Cancelled."), waitMs);
        // The lock may well finish while the line above waits: count, do not wait for a new one.
        QTRY_COMPARE_WITH_TIMEOUT(safe.count(), 1, waitMs);
        QCOMPARE(w->unplugText(), QStringLiteral("Locked. Safe to unplug MY STICK."));
        QCOMPARE(f->registry->vault(fakeVaultUuid(1))->lastSync->outcome, JobOutcome::Cancelled);
        QVERIFY(!f->registry->vault(fakeVaultUuid(1))->lastSuccess);
        QVERIFY(!f->model->row(fakeVaultId(1))->isOpen());
    }

    // A vault that was open before the backup stays open after it.
    void openVaultStaysOpen()
    {
        f->registerVault(1, "keys");
        f->model->setMedia({f->drive()});
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        f->controller->backUp(fakeVaultId(1));
        QTRY_VERIFY_WITH_TIMEOUT(f->fake->calls.contains(QStringLiteral("Sync")), waitMs);
        f->fake->jobs.last()->finish(JobOutcome::Ok);
        ProgressWindow *w = f->controller->progressWindow(fakeVaultId(1));
        QTRY_VERIFY_WITH_TIMEOUT(!w->isRunning(), waitMs);
        QCOMPARE(w->unplugText(), QStringLiteral("The vault stays open. Lock it before you unplug the drive."));
        QTest::qWait(100);
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Lock")));
        QVERIFY(f->model->row(fakeVaultId(1))->isOpen());
    }
};

QTEST_MAIN(TestGuiProgress)
#include "test_gui_progress.moc"
