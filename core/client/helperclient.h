#pragma once

// core/client: the asynchronous client of the Coffer helper (org.coffer.Helper1, design.md 3),
// shared by cofferctl and the GUI. No widgets, no terminal; nothing here blocks on the helper or
// runs an event loop of its own: every call returns at once, and its answer comes as a signal.
//
//   HelperClient  the helper itself: whether it runs, the user's vaults, create, lock all
//   VaultHandle   one vault file: unlock, lock, sync, keys, header backup, resize
//   JobHandle     one long operation (create, sync): progress, cancel, outcome, result
//   Request       one shorter call in flight: finished(error)
//
// Errors arrive as Coffer::Error (an ErrorCode and a sentence for people) in Request::finished
// and JobHandle::finished; D-Bus error names are mapped in core/dbus/errornames.h. All options go
// through the codec in core/dbus/options.h.

#include "client/jobhandle.h"
#include "client/request.h"
#include "client/secret.h"
#include "client/vaulthandle.h"
#include "dbus/options.h"

#include <QDBusConnection>
#include <QList>
#include <QObject>
#include <QVariantMap>

#include <functional>
#include <string>

class OrgCofferHelper1ManagerInterface;
class QDBusObjectPath;

namespace Coffer::Client {

class HelperClient : public QObject
{
    Q_OBJECT

public:
    // On the system bus, where the helper lives.
    explicit HelperClient(QObject *parent = nullptr);
    // On another bus (tests run a fake helper on a private one).
    explicit HelperClient(const QDBusConnection &bus, QObject *parent = nullptr);
    ~HelperClient() override;

    QDBusConnection bus() const { return m_bus; }
    // Whether the helper owns its bus name now. D-Bus starts it for the first call and it exits
    // when idle, so not running is its normal state.
    bool isHelperRunning() const { return m_helperRunning; }

    // The user's unlocked vaults as this client knows them: from refreshVaults(), the helper's
    // VaultAdded/VaultRemoved and this client's own calls.
    QList<VaultHandle *> vaults() const;

    // Asks the helper for the user's unlocked vaults and their properties (vaults() then).
    Request *refreshVaults();
    // The vault in `file`, unlocked or not: an open vault is recognised by the file's device and
    // inode (stat()ed here, as the user; the helper never resolves a path). NotFound if there is
    // no such file.
    VaultRequest *vault(const std::string &file);
    // Creates `file` (it must not exist yet; mode 0600) and has the helper make a vault in it.
    // The file is removed again if the job does not end Ok. A key file for a second key slot
    // goes in options.keyFile (keyFileFd()).
    JobHandle *createVault(const std::string &file, uint64_t size, const Secret &passphrase,
                           const Helper1::CreateOptions &options);
    // Locks every vault of the user's.
    Request *lockAll();
    // The drives the helper sees that concern the user (those with the user's open vaults,
    // every one while the user sits at a seat). Calling it also subscribes this client to the
    // helper's signals while the helper runs (as any call does). Starts the helper if needed.
    MediaRequest *listMedia();

Q_SIGNALS:
    void helperAppeared();
    // Every job still running fails; open vaults stay open (a restarted helper adopts them:
    // call refreshVaults() once it is back).
    void helperVanished();
    // A vault of the user's was unlocked (by this client or any other).
    void vaultAdded(Coffer::Client::VaultHandle *vault);
    // reason: Helper1::RemovedReason ("locked", "medium-gone", "suspend", "shutdown").
    void vaultRemoved(Coffer::Client::VaultHandle *vault, const QString &reason);
    // The helper could not lock the vault before a suspend or shutdown (reason) and left it
    // open: message says why.
    void lockFailed(Coffer::Client::VaultHandle *vault, const QString &reason, const QString &message);
    // A drive appeared or went (the helper's MediaAdded/MediaRemoved, passed on as they are).
    void mediaAdded(const QVariantMap &medium);
    void mediaRemoved(const QVariantMap &medium);

private:
    friend class JobHandle;
    friend class VaultHandle;

    // The Manager object's proxy; NotFound when there is no bus to reach it on.
    OrgCofferHelper1ManagerInterface *manager() const;
    void requireBus() const;
    // Reads the vault at `path`; then(handle) once it is tracked. Errors fail `request`.
    void readVault(Request *request, const QString &path, std::function<void(VaultHandle *)> then);
    VaultHandle *track(const VaultInfo &info);
    void untrack(const QString &path, const QString &reason);
    VaultHandle *handleFor(const std::string &file, const FileIdentity &identity);
    void onVaultAdded(const QDBusObjectPath &path);
    void onVaultRemoved(const QDBusObjectPath &path, const QString &reason);
    void onLockFailed(const QDBusObjectPath &path, const QString &reason, const QString &message);
    void setHelperRunning(bool running);

    QDBusConnection m_bus;
    OrgCofferHelper1ManagerInterface *m_manager;
    QList<VaultHandle *> m_handles;
    bool m_helperRunning = false;
};

// How long a call may wait for its answer: a polkit prompt waits for the person.
inline constexpr int callTimeoutMs = 10 * 60 * 1000;

} // namespace Coffer::Client
