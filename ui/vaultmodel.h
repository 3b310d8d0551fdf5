#pragma once

// The one model the desktop app's widgets share (gui.md "One model"): one row per vault the
// person knows (the registry), joined with the helper's open vaults (VaultAdded/VaultRemoved:
// open vaults Coffer has not registered get rows too, so they can be locked) and the drives
// present (MediaMonitor). Each row says whether its drive is here, whether it is locked, open,
// backing up or failed, how stale its last backup is, and its space. The tray, the main window
// and the flows observe it; nothing here has a widget.

#include "client/helperclient.h"
#include "config/registry.h"
#include "media/medium.h"

#include <QAbstractTableModel>
#include <QDateTime>

#include <optional>
#include <string>
#include <vector>

namespace Coffer {
class WallClockTimer;
}

namespace Coffer::Ui {

enum class VaultState { Locked, Open, Syncing, Error };

// What the tray shows: the most pressing state of all vaults, in this order of precedence:
// Error, Syncing, Open, Stale (all locked, one not backed up for too long), AllLocked.
enum class TrayState { AllLocked, Stale, Open, Syncing, Error };

struct VaultRow
{
    QString id;                               // the LUKS UUID, lower case
    std::optional<Config::VaultEntry> entry;  // registered: what Coffer remembers of it
    std::optional<Media::Medium> medium;      // its drive, when plugged in
    Client::VaultHandle *handle = nullptr;    // while it is open
    Client::JobHandle *job = nullptr;         // the backup this app watches
    Client::JobProgress progress;             // of that backup
    QString error;                            // the last failure, until the next success

    bool isRegistered() const { return entry.has_value(); }
    bool isOpen() const { return handle && handle->isUnlocked(); }
    bool isSyncing() const { return job != nullptr; }
    VaultState state() const;
    QString name() const;
    QString driveName() const;
    // Where the vault file is now: the open vault's, else on the mounted drive. Nothing when
    // its drive is not here (or not mounted).
    std::optional<std::string> file() const;
    // The first mount point of the drive (bytes), if it is mounted.
    std::optional<std::string> mountPoint() const;
};

class VaultModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, DriveColumn, StateColumn, LastBackupColumn, SpaceColumn, ColumnCount };
    enum Role { IdRole = Qt::UserRole + 1, StateRole, StaleRole };

    // Follows the registry's changes and the client's open vaults; call setMedia() and the
    // medium slots for the drives.
    VaultModel(Config::Registry *registry, Client::HelperClient *client, QObject *parent = nullptr);
    ~VaultModel() override;

    Config::Registry *registry() const { return m_registry; }
    Client::HelperClient *client() const { return m_client; }

    // Every change replaces the rows: keep copies, never references, across calls that may
    // change the model (a registry write, a job watched).
    const std::vector<VaultRow> &rows() const { return m_rows; }
    std::optional<VaultRow> row(const QString &id) const;
    int rowOf(const QString &id) const;
    QString idAt(int row) const;
    Config::Staleness staleness(const VaultRow &row) const;
    bool isStale(const VaultRow &row) const;
    TrayState trayState() const;
    // What the tray would show for this vault alone (its icon in the list).
    TrayState trayStateOf(const VaultRow &row) const;
    // One line per vault (name, state, last backup): the tray's tooltip.
    QStringList summary() const;
    const std::vector<Media::Medium> &media() const { return m_media; }
    // The medium this vault file lies on, if it is one of the drives present.
    std::optional<Media::Medium> mediumOfDevice(quint64 device) const;
    // The vaults whose drive this is.
    QStringList vaultsOn(const Media::Medium &medium) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

public Q_SLOTS:
    void setMedia(const std::vector<Coffer::Media::Medium> &media);
    void addMedium(const Coffer::Media::Medium &medium);
    void changeMedium(const Coffer::Media::Medium &medium);
    void removeMedium(const Coffer::Media::Medium &medium);
    // Follows a backup of the vault: Syncing until it ends; a failure becomes its error.
    void watchJob(const QString &id, Coffer::Client::JobHandle *job);
    void setError(const QString &id, const QString &message);
    void clearError(const QString &id);
    // The rows again from the registry, the open vaults and the drives (also what the signals
    // above lead to); "how long ago" texts are recomputed too.
    void refresh();

Q_SIGNALS:
    void trayStateChanged(Coffer::Ui::TrayState state);
    // Anything of the vault changed (state, drive, progress, registry entry).
    void vaultChanged(const QString &id);
    // The vault was locked, by anyone (reason as the helper said it).
    void vaultLocked(const QString &id, const QString &reason);
    void vaultUnlocked(const QString &id);
    void jobFinished(const QString &id, Coffer::Helper1::JobOutcome outcome,
                     const std::optional<Coffer::Error> &error, const Coffer::Client::JobResult &result);

private:
    struct Extra
    {
        Client::JobHandle *job = nullptr;
        Client::JobProgress progress;
        QString error;
    };
    std::vector<VaultRow> computeRows() const;
    void apply(std::vector<VaultRow> rows);
    void armStaleTimer();
    void onVaultAdded(Client::VaultHandle *vault);
    void onVaultRemoved(Client::VaultHandle *vault, const QString &reason);
    QString displayState(const VaultRow &row) const;

    Config::Registry *m_registry;
    Client::HelperClient *m_client;
    std::vector<Media::Medium> m_media;
    std::vector<VaultRow> m_rows;
    QHash<QString, Extra> m_extra; // by id: what the registry, helper and drives do not say
    TrayState m_trayState = TrayState::AllLocked;
    WallClockTimer *m_staleTimer;
};

} // namespace Coffer::Ui

Q_DECLARE_METATYPE(Coffer::Ui::TrayState)
