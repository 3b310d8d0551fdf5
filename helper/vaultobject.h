#pragma once

#include "block/uniquefd.h"
#include "block/vault.h"
#include "callerchecks.h"
#include "exportedobject.h"

#include <QPointer>
#include <QString>

#include <atomic>
#include <memory>

namespace Coffer::Helper {

class Manager;
class SyncJob;
class VaultObject;

// A vault's busy state held by one operation (VaultObject::claim): while it lives, a second
// operation on the vault gets Busy; destroying it frees the vault.
class VaultClaim
{
public:
    ~VaultClaim();
    VaultClaim(const VaultClaim &) = delete;
    VaultClaim &operator=(const VaultClaim &) = delete;

private:
    friend class VaultObject;
    explicit VaultClaim(VaultObject *vault);
    QPointer<VaultObject> m_vault;
};

// /org/coffer/Helper1/vault/<n>, org.coffer.Helper1.Vault: one open vault, its owner's (the user
// who unlocked it). Its method handlers live here: each checks polkit (Manager::authorize),
// validates its arguments, claims the vault and hands slow work to the worker pool.
class VaultObject : public ExportedObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.coffer.Helper1.Vault")
    Q_PROPERTY(QString Id READ id)
    Q_PROPERTY(QString Name READ name)
    Q_PROPERTY(QString BackingFile READ backingFile)
    Q_PROPERTY(qulonglong BackingDevice READ backingDevice)
    Q_PROPERTY(qulonglong BackingInode READ backingInode)
    Q_PROPERTY(QString MountPoint READ mountPoint)
    Q_PROPERTY(QString LoopDevice READ loopDevice)
    Q_PROPERTY(QString MapperDevice READ mapperDevice)
    Q_PROPERTY(uint OwnerUid READ ownerUid)
    Q_PROPERTY(qulonglong Size READ size)
    Q_PROPERTY(qulonglong Used READ used)

public:
    VaultObject(Manager *manager, const QString &path, const Vault::OpenVault &open, uid_t owner,
                const FileId &backing, const std::string &name, UniqueFd backingFd, bool lockOnSuspend);

    QString path() const override { return m_path; }
    QString interfaceName() const override;
    std::set<uid_t> owners() const override { return {m_owner}; }
    void call(const QDBusMessage &message) override;
    static const std::vector<Method<VaultObject>> &methods();

    QString id() const { return QString::fromStdString(m_open.luksUuid); }
    QString name() const { return QString::fromStdString(m_name); }
    QString backingFile() const { return QString::fromStdString(m_open.backingFile); }
    qulonglong backingDevice() const { return m_backing.dev; }
    qulonglong backingInode() const { return m_backing.ino; }
    QString mountPoint() const { return QString::fromStdString(m_open.mountPoint); }
    QString loopDevice() const { return QString::fromStdString(m_open.loopDevice); }
    QString mapperDevice() const { return QString::fromStdString(m_open.mapperDevice); }
    uint ownerUid() const { return m_owner; }
    qulonglong size() const;
    qulonglong used() const;

    const Vault::OpenVault &open() const { return m_open; }
    uid_t owner() const { return m_owner; }
    const FileId &backing() const { return m_backing; }

    // Takes the vault for `operation` ("sync", "lock", ...): Busy, naming the operation in
    // progress, if another one has it; MediumGone once its drive was removed.
    std::shared_ptr<VaultClaim> claim(const QString &operation);
    QString busyWith() const { return m_busyWith; }

    // Unlock's lock-on-suspend: the helper locks it before the system sleeps or shuts down.
    bool lockOnSuspend() const { return m_lockOnSuspend; }

    // The drive holding the backing file was removed: no operation may start any more, and a
    // running sync is stopped (SIGTERM, SIGKILL if it does not end within a few seconds) and
    // ends with MediumGone. The caller tears the vault down.
    void mediumGone();
    bool isGone() const { return *m_gone; }

private:
    friend class VaultClaim;
    enum class KeyOp { ChangePassphrase, AddKey, RemoveKey, BackupHeader };

    void lock(const QDBusMessage &message);
    void sync(const QDBusMessage &message);
    void changePassphrase(const QDBusMessage &message) { keys(message, KeyOp::ChangePassphrase); }
    void addKey(const QDBusMessage &message) { keys(message, KeyOp::AddKey); }
    void removeKey(const QDBusMessage &message) { keys(message, KeyOp::RemoveKey); }
    void backupHeader(const QDBusMessage &message) { keys(message, KeyOp::BackupHeader); }
    void keys(const QDBusMessage &message, KeyOp op);
    void resize(const QDBusMessage &message);
    // A descriptor of the backing file for header work, the caller's to keep: a copy of the
    // caller's validated fd, or (for a vault adopted after a restart) the loop device, which
    // shows the same bytes.
    std::shared_ptr<UniqueFd> headerFd() const;

    Manager *m_manager;
    QString m_path;
    Vault::OpenVault m_open;
    uid_t m_owner;
    FileId m_backing;
    std::string m_name;
    UniqueFd m_backingFd;
    QString m_busyWith;
    bool m_lockOnSuspend = true;
    // Shared with a sync's completion, which may come after this object is gone.
    std::shared_ptr<bool> m_gone = std::make_shared<bool>(false);
    QPointer<SyncJob> m_sync; // the sync running now, if any
};

} // namespace Coffer::Helper
