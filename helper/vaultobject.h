#pragma once

#include "block/uniquefd.h"
#include "block/vault.h"
#include "callerchecks.h"

#include <QDBusContext>
#include <QDBusObjectPath>
#include <QDBusUnixFileDescriptor>
#include <QObject>
#include <QVariantMap>

namespace Coffer::Helper {

class Manager;

// /org/coffer/Helper1/vault/<id>, org.coffer.Helper1.Vault: one open vault. Thin: every slot
// hands the call to the Manager, which checks polkit and validates before any work.
class VaultObject : public QObject, protected QDBusContext
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
    VaultObject(Manager *manager, const Vault::OpenVault &open, uid_t owner, const FileId &backing,
                const std::string &name, UniqueFd backingFd);

    static QString pathFor(const std::string &luksUuid);
    QString path() const { return m_path; }

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
    Vault::OpenVault &open() { return m_open; }
    uid_t owner() const { return m_owner; }
    const FileId &backing() const { return m_backing; }
    // A descriptor of the backing file for header work: the caller's validated fd, or (for a
    // vault adopted after a restart) the loop device, which shows the same bytes.
    int headerFd();

    // The operation in progress on this vault ("sync", "lock", ...), empty if none: a second
    // operation gets Busy.
    QString busyWith;

public Q_SLOTS:
    void Lock(const QVariantMap &options);
    QDBusObjectPath Sync(const QStringList &sources, const QVariantMap &options);
    void ChangePassphrase(const QDBusUnixFileDescriptor &old, const QDBusUnixFileDescriptor &new_);
    void AddKey(const QDBusUnixFileDescriptor &existing, const QDBusUnixFileDescriptor &new_);
    void RemoveKey(const QDBusUnixFileDescriptor &key);
    void BackupHeader(const QDBusUnixFileDescriptor &out);
    void Resize(qulonglong size, const QDBusUnixFileDescriptor &passphrase);

private:
    Manager *m_manager;
    Vault::OpenVault m_open;
    uid_t m_owner;
    FileId m_backing;
    std::string m_name;
    UniqueFd m_backingFd;
    QString m_path;
};

} // namespace Coffer::Helper
