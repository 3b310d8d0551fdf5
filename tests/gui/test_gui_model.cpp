// The shared model (ui/vaultmodel): one row per registered vault joined with the helper's open
// vaults and the drives present; the states locked / open / syncing / error / stale, and the
// tray's state over all of them, against the fake helper on a private bus.

#include "guifixture.h"

#include <QSignalSpy>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::TrayState;
using Ui::VaultModel;
using Ui::VaultState;

class TestGuiModel : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<GuiFixture> f;

    QString cell(const QString &id, int column) const
    {
        return f->model->data(f->model->index(f->model->rowOf(id), column)).toString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        Ui::installTranslations();
    }
    void init() { f = std::make_unique<GuiFixture>(m_bus.address()); }
    void cleanup() { f.reset(); }

    void registeredVaultWithoutItsDrive()
    {
        const Config::VaultEntry e = f->registerVault(1, "keys");
        const QString id = fakeVaultId(1);
        QCOMPARE(f->model->rowCount(), 1);
        const std::optional<Ui::VaultRow> row = f->model->row(id);
        QVERIFY(row);
        QCOMPARE(row->state(), VaultState::Locked);
        QVERIFY(!row->medium);
        QVERIFY(!row->file()); // nowhere to unlock it from
        QCOMPARE(cell(id, VaultModel::NameColumn), QStringLiteral("keys"));
        QCOMPARE(cell(id, VaultModel::DriveColumn), QStringLiteral("MY STICK (not plugged in)"));
        QCOMPARE(cell(id, VaultModel::LastBackupColumn), QStringLiteral("Never backed up, overdue"));
        // Never backed up: stale, and the tray says so while everything is locked.
        QCOMPARE(f->model->trayState(), TrayState::Stale);
    }

    void theDriveComesAndGoes()
    {
        f->registerVault(1, "keys");
        const QString id = fakeVaultId(1);
        QSignalSpy changed(f->model.get(), &VaultModel::vaultChanged);
        f->model->addMedium(f->drive(false));
        QVERIFY(f->model->row(id)->medium);
        QVERIFY(!f->model->row(id)->file()); // plugged in, not mounted yet
        QCOMPARE(cell(id, VaultModel::DriveColumn), QStringLiteral("MY STICK (not mounted)"));
        f->model->changeMedium(f->drive(true));
        QCOMPARE(*f->model->row(id)->file(), f->vaultFile("keys"));
        QCOMPARE(cell(id, VaultModel::DriveColumn), QStringLiteral("MY STICK"));
        QCOMPARE(cell(id, VaultModel::SpaceColumn), QStringLiteral("3.0 GiB free on the drive"));
        QVERIFY(changed.count() >= 2);
        f->model->removeMedium(f->drive());
        QVERIFY(!f->model->row(id)->medium);
    }

    void openSyncingFailedAndLockedAgain()
    {
        f->registerVault(1, "keys");
        const QString id = fakeVaultId(1);
        f->model->setMedia({f->drive()});
        QSignalSpy tray(f->model.get(), &VaultModel::trayStateChanged);
        QSignalSpy unlocked(f->model.get(), &VaultModel::vaultUnlocked);
        FakeVault *vault = f->openInHelper(f->vaultFile("keys"));
        QVERIFY(vault);
        QCOMPARE(f->model->row(id)->state(), VaultState::Open);
        QCOMPARE(f->model->trayState(), TrayState::Open);
        QCOMPARE(tray.last().at(0).value<TrayState>(), TrayState::Open);
        QCOMPARE(unlocked.count(), 1);
        QCOMPARE(cell(id, VaultModel::SpaceColumn), QStringLiteral("1.0 MiB of 64.0 MiB used; 3.0 GiB free on the drive"));

        // A backup the app watches: syncing, with its progress, until it ends.
        Client::JobHandle *job = f->model->row(id)->handle->sync({f->path(QStringLiteral("home/.ssh"))}, {});
        f->model->watchJob(id, job);
        QCOMPARE(f->model->row(id)->state(), VaultState::Syncing);
        QCOMPARE(f->model->trayState(), TrayState::Syncing);
        QTRY_VERIFY_WITH_TIMEOUT(!f->fake->jobs.isEmpty(), waitMs);
        FakeJob *fakeJob = f->fake->jobs.last();
        fakeJob->setProgress(0.5, 1, 2, QStringLiteral("ssh/id_ed25519"));
        QTRY_COMPARE_WITH_TIMEOUT(cell(id, VaultModel::StateColumn), QStringLiteral("Backing up, 50%"), waitMs);

        QSignalSpy finished(f->model.get(), &VaultModel::jobFinished);
        fakeJob->finish(JobOutcome::Failed, errorNameOf(ErrorCode::NoSpace), QStringLiteral("The vault is full."));
        QVERIFY(finished.wait(waitMs));
        QCOMPARE(f->model->row(id)->state(), VaultState::Error);
        QCOMPARE(f->model->trayState(), TrayState::Error);
        QCOMPARE(cell(id, VaultModel::StateColumn), QStringLiteral("Failed: The vault is full."));

        // Locked by someone else (cofferctl, the helper on unplug): the model follows.
        QSignalSpy locked(f->model.get(), &VaultModel::vaultLocked);
        f->fake->removeVault(vault, QStringLiteral("locked"));
        QVERIFY(locked.wait(waitMs));
        QCOMPARE(locked.at(0).at(0).toString(), id);
        QVERIFY(!f->model->row(id)->isOpen());
        QCOMPARE(f->model->row(id)->state(), VaultState::Error); // the failure stays until a success
        f->model->clearError(id);
        QCOMPARE(f->model->row(id)->state(), VaultState::Locked);

        // Unlocked again: open again.
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        QTRY_VERIFY_WITH_TIMEOUT(f->model->row(id)->isOpen(), waitMs);
        QCOMPARE(unlocked.count(), 2);
    }

    void recentBackupIsNotStale()
    {
        f->registerVault(1, "keys");
        const std::string uuid = fakeVaultUuid(1);
        f->registry->recordSync(uuid, {QDateTime::currentDateTimeUtc().addSecs(-3 * 3600), JobOutcome::Ok, 10, 1});
        QCOMPARE(f->model->trayState(), TrayState::AllLocked);
        QCOMPARE(cell(fakeVaultId(1), VaultModel::LastBackupColumn), QStringLiteral("Backed up 3 hours ago"));
        // Older than the limit: stale.
        f->registry->recordSync(uuid, {QDateTime::currentDateTimeUtc().addDays(-9), JobOutcome::Ok, 10, 1});
        QCOMPARE(f->model->trayState(), TrayState::Stale);
        QVERIFY(cell(fakeVaultId(1), VaultModel::LastBackupColumn).endsWith(QStringLiteral(", overdue")));
        QVERIFY(f->model->data(f->model->index(0, 0), VaultModel::StaleRole).toBool());
        // A failed attempt since does not freshen it, and is said.
        f->registry->recordSync(uuid, {QDateTime::currentDateTimeUtc(), JobOutcome::Failed, 0, 0});
        QCOMPARE(cell(fakeVaultId(1), VaultModel::LastBackupColumn),
                 QStringLiteral("Backed up 9 days ago (the last attempt failed), overdue"));
    }

    void openVaultCofferDoesNotKnowGetsARow()
    {
        // A vault someone opened with cofferctl from a file Coffer has not registered.
        QFile file(f->path(QStringLiteral("loose.coffer")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        FakeVault *vault = f->openInHelper(QFile::encodeName(file.fileName()).toStdString(), QStringLiteral("loose"));
        QVERIFY(vault);
        const std::optional<Ui::VaultRow> row = f->model->row(vault->id);
        QVERIFY(row);
        QVERIFY(!row->isRegistered());
        QCOMPARE(row->name(), QStringLiteral("loose"));
        QCOMPARE(cell(vault->id, VaultModel::LastBackupColumn), QStringLiteral("Not added to Coffer"));
        QCOMPARE(f->model->trayState(), TrayState::Open);
        // Locked: it goes, nothing remembers it.
        f->fake->removeVault(vault, QStringLiteral("locked"));
        QTRY_VERIFY_WITH_TIMEOUT(!f->model->row(vault->id), waitMs);
    }

    void tooltipHasALinePerVault()
    {
        f->registerVault(1, "keys");
        f->registerVault(2, "docs");
        const QStringList lines = f->model->summary();
        QCOMPARE(lines.size(), 2);
        QCOMPARE(lines.at(0), QStringLiteral("docs: Locked, never backed up"));
        QCOMPARE(lines.at(1), QStringLiteral("keys: Locked, never backed up"));
    }

private:
    static QString errorNameOf(ErrorCode code) { return GuiFixture::errorName(code); }
};

QTEST_MAIN(TestGuiModel)
#include "test_gui_model.moc"
