#pragma once

// The create wizard (issue 13): a new vault from the medium to the first backup.
//
//   Where      the mounted removable drives (core/media) or another folder, with the checks the
//              helper will make (FAT32's 4 GiB limit, no sparse files on vfat/exfat, free
//              space) shown before anything is written
//   Name/size  bounded by the free space and FAT32's limit
//   Passphrase with a strength estimate and confirmation
//   Key file   optional: one the person has, or a new random one saved where they say
//   Folders    ~/.ssh, ~/.gnupg, ~/.password-store suggested when present; exclude patterns
//   Mode       mirror, or snapshots with retention
//   Preview    the sync engine's dry run in this process against an empty temporary folder:
//              what goes in, and whether it fits in a vault of that size
//   When       ask / back up on plug / manual
//   Summary, then Create: the helper makes it (JobHandle progress); the vault is registered,
//              an automatic header backup is kept off the drive
//              ($XDG_DATA_HOME/coffer/headers/<uuid>.img, 0600), and the first backup offered.
//
// Opening it (main window, tray menu):
//     (new Coffer::Ui::CreateWizard(helper, registry, mediaMonitor, window))->show();
// It deletes itself when closed. Connect firstBackupRequested(uuid) to the backup flow.

#include "block/vault.h"
#include "create/newvault.h"

#include <QWizard>

#include <string>

namespace Coffer::Client {
class HelperClient;
}
namespace Coffer::Config {
class Registry;
}
namespace Coffer::Media {
class MediaMonitor;
}

namespace Coffer::Ui {

class CreateWizard : public QWizard
{
    Q_OBJECT

public:
    enum Page {
        MediumPage,
        NameSizePage,
        PassphrasePage,
        KeyFilePage,
        FoldersPage,
        ModePage,
        PreviewPage,
        TriggerPage,
        SummaryPage,
        CreatingPage,
    };

    // media may be null (no udev: only "another folder").
    CreateWizard(Client::HelperClient *helper, Config::Registry *registry, Media::MediaMonitor *media,
                 QWidget *parent = nullptr);
    ~CreateWizard() override;

    // What the folder's filesystem is; Vault::mediumInfo unless set (tests stand in FAT32 and
    // exFAT, which the host cannot mount).
    void setMediumProbe(Create::MediumProbe probe);
    Create::MediumProbe mediumProbe() const { return m_probe; }
    // The key derivation of the new key slots (cryptsetup's benchmark unless set).
    void setKeyDerivation(const Vault::PbkdfOptions &pbkdf) { m_pbkdf = pbkdf; }
    Vault::PbkdfOptions keyDerivation() const { return m_pbkdf; }

    // Adds a folder to back up (the Folders page's "Add folder…" does this too).
    void addFolder(const QString &path);

    Client::HelperClient *helper() const { return m_helper; }
    Config::Registry *registry() const { return m_registry; }
    Media::MediaMonitor *mediaMonitor() const { return m_media; }

    // Once created: its LUKS UUID and file.
    QString createdVaultId() const { return m_createdId; }
    void setCreated(const QString &luksUuid) { m_createdId = luksUuid; }

    // Closing while the vault is being made asks the helper to stop first.
    void reject() override;
    void accept() override;

Q_SIGNALS:
    void vaultCreated(const QString &luksUuid);
    // The person wants the first backup now (the wizard has closed).
    void firstBackupRequested(const QString &luksUuid);

private:
    Client::HelperClient *m_helper;
    Config::Registry *m_registry;
    Media::MediaMonitor *m_media;
    Create::MediumProbe m_probe;
    Vault::PbkdfOptions m_pbkdf;
    QString m_createdId;
};

} // namespace Coffer::Ui
