#pragma once

#include "client/secret.h"
#include "client/userfiles.h"
#include "dbus/options.h"

#include <QDBusPendingCall>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <functional>
#include <string>

class OrgCofferHelper1VaultInterface;

namespace Coffer::Client {

class HelperClient;
class JobHandle;
class Request;

// What the helper says of an open vault (org.coffer.Helper1.Vault's properties).
struct VaultInfo
{
    QString path; // the Vault object
    QString id;   // LUKS UUID
    QString name, backingFile, mountPoint, loopDevice, mapperDevice;
    uint ownerUid = 0;
    quint64 size = 0, used = 0;
    quint64 backingDevice = 0, backingInode = 0; // st_dev, st_ino of the backing file
    bool operator==(const VaultInfo &) const = default;
};

// The vault object's properties, as GetAll gives them.
VaultInfo vaultInfoFrom(const QString &path, const QVariantMap &properties);

// One vault file of the user's, unlocked or not: HelperClient::vault(file) finds it (or the
// helper's VaultAdded announces it). It stays valid while its HelperClient lives and follows
// the vault: unlocked() and locked() say when that changes, whoever did it. Every operation
// returns a Request (or a JobHandle) and never blocks.
class VaultHandle : public QObject
{
    Q_OBJECT

public:
    ~VaultHandle() override;

    // The vault file as last named to HelperClient::vault() (the helper's BackingFile for a vault
    // only the helper named).
    const std::string &file() const { return m_file; }
    bool isUnlocked() const { return !m_info.path.isEmpty(); }
    // Valid while unlocked.
    const VaultInfo &info() const { return m_info; }

    // With a passphrase or a key file. The backing file is opened here, as the user.
    Request *unlock(const Secret &secret, const Helper1::UnlockOptions &options = {});
    Request *lock(const Helper1::LockOptions &options = {});
    // Sync the sources (made absolute here; the helper's child resolves them as the user) into
    // the unlocked vault. Options through Helper1::SyncOptions; a dry run's plan arrives in the
    // job's result.
    JobHandle *sync(const QStringList &sources, const Helper1::SyncOptions &options);

    // Key management and the header: through the helper while the vault is unlocked, else here,
    // on the user's own file (the header is in it; no privileges needed), on a worker thread.
    Request *changePassphrase(const Secret &current, const Secret &replacement);
    Request *addKey(const Secret &existing, const Secret &added);
    // Saves the LUKS header into `out`, a new file (mode 0600; removed again on failure).
    Request *backupHeader(const std::string &out);
    // Grows the vault to `size` bytes. A locked vault is unlocked with `passphrase` for it and
    // locked again afterwards (also after a failure).
    Request *resize(uint64_t size, const Secret &passphrase);

Q_SIGNALS:
    void unlocked();
    // reason: the helper's ("locked", ...); empty when the helper no longer listed the vault.
    void locked(const QString &reason);
    void infoChanged();

private:
    friend class HelperClient;
    VaultHandle(HelperClient *client, std::string file, const FileIdentity &identity);

    FileIdentity identity() const;
    void setInfo(const VaultInfo &info);
    void setLocked(const QString &reason);
    // The Vault object's proxy; NotFound while locked.
    OrgCofferHelper1VaultInterface *vaultObject() const;
    // viaHelper() while unlocked; else onFile(fd) on a worker thread, with the backing file
    // opened here.
    Request *throughHelperOrOwnFile(const std::function<QDBusPendingCall()> &viaHelper, Access access,
                                    std::function<void(int fd)> onFile);

    HelperClient *m_client;
    std::string m_file;
    FileIdentity m_identity; // of m_file when it was named
    VaultInfo m_info;
    OrgCofferHelper1VaultInterface *m_proxy = nullptr;
};

} // namespace Coffer::Client
