#pragma once

// The restore browser (issue 13): for an unlocked vault, pick a snapshot (snapshots/<UTC time>/)
// or the mirror (current/), browse its tree compared with the live folders (changed / deleted
// since the backup / added since, with counts), and restore a file or folder to a place the
// person picks: by default a new folder named after the vault and the backup, and never over
// an existing file without asking (replace, or keep both). Progress and Cancel. It all runs as
// the user, on the vault's mount (core/restore): no helper call is needed.
//
// Opening it (main window, tray menu), for an unlocked vault:
//     (new Coffer::Ui::RestoreBrowser(vault, registry, window))->show();
// It deletes itself when closed, and says so when the vault is locked meanwhile.

#include "restore/backups.h"
#include "restore/restorecopy.h"

#include <QDialog>

#include <atomic>
#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace Coffer::Client {
class VaultHandle;
}
namespace Coffer::Config {
class Registry;
}

namespace Coffer::Ui {

class StatusLine;

class RestoreBrowser : public QDialog
{
    Q_OBJECT

public:
    RestoreBrowser(Client::VaultHandle *vault, const Config::Registry *registry, QWidget *parent = nullptr);
    ~RestoreBrowser() override;

    // The backups found, in the order of the Backup list.
    const std::vector<Restore::Backup> &backups() const { return m_backups; }
    // Whether a backup's tree is being read or a restore runs.
    bool isBusy() const { return m_reading || m_restoring; }

    void reject() override;

Q_SIGNALS:
    // A backup's tree is read and shown (tests and screen readers wait for it).
    void treeShown();
    // A restore ended: restored is where it went ("" when it failed or was cancelled).
    void restoreFinished(const QString &restored);

private:
    struct Job;

    void showBackup(int index);
    void fillTree(const Restore::Tree &tree);
    void applyFilter();
    void updateActions();
    QString defaultTarget() const;
    // Restores what is selected, one item after another.
    void startRestore();
    void restoreNext();
    void runRestore(const Restore::RestoreRequest &request);
    void finishRestore(const QString &message, bool ok);
    std::string backupDir() const;
    void vaultLocked();

    Client::VaultHandle *m_vault;
    QString m_vaultName;
    std::string m_root; // the vault's mount point
    std::vector<std::string> m_liveFolders;
    std::vector<std::string> m_excludes;
    std::vector<Restore::Backup> m_backups;

    QComboBox *m_backupList;
    QCheckBox *m_onlyDifferences;
    QLabel *m_counts;
    QTreeWidget *m_tree;
    QLineEdit *m_target;
    QPushButton *m_restore;
    QPushButton *m_cancel;
    QPushButton *m_open;
    QProgressBar *m_progress;
    StatusLine *m_status;

    std::shared_ptr<std::atomic<bool>> m_readCancel;
    bool m_reading = false;
    bool m_restoring = false;
    std::unique_ptr<Job> m_job;
};

} // namespace Coffer::Ui
