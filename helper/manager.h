#pragma once

#include "block/uniquefd.h"
#include "block/vault.h"
#include "callerchecks.h"
#include "dbus/options.h"
#include "polkitauthority.h"
#include "runtimestate.h"

#include <QDBusConnection>
#include <QDBusContext>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusUnixFileDescriptor>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QVariantMap>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace Coffer::Helper {

class Job;
class VaultObject;

// Who is calling: identity from the bus, never from an argument (design.md 4.2).
struct Caller
{
    QDBusMessage message;
    QString sender;
    uid_t uid = uid_t(-1);
};

// /org/coffer/Helper1, org.coffer.Helper1.Manager, and the helper's whole state: open vaults,
// jobs, the runtime records, idle exit. Every handler, here and on the vault and job objects,
// starts with authorize(): caller uid from the bus, polkit for that bus name, then validation
// of every argument, then the work (slow work on a worker thread; the reply is delayed).
class Manager : public QObject, protected QDBusContext
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.coffer.Helper1.Manager")

public:
    Manager(const QDBusConnection &bus, Authority *authority, RuntimeState *state,
            QObject *parent = nullptr);
    ~Manager() override;

    // Registers /org/coffer/Helper1. Call reconcile() before taking the bus name.
    bool registerOnBus();
    // Adopts vaults still mounted by a previous helper, tears down half-attached ones and
    // forgets records of vaults the kernel no longer has.
    void reconcile();

    // Idle: no open vault, no running job, no call in progress.
    bool isIdle() const;
    // Quits the application after `seconds` of idleness (checked once a second).
    void setIdleExit(int seconds);

    QDBusConnection bus() const { return m_bus; }

    // ---- called by the Vault and Job objects' slots (the reply is already delayed) ----
    void vaultLock(VaultObject *vault, const QDBusMessage &msg, const QVariantMap &options);
    void vaultSync(VaultObject *vault, const QDBusMessage &msg, const QStringList &sources,
                   const QVariantMap &options);
    enum class KeyOp { ChangePassphrase, AddKey, RemoveKey, BackupHeader };
    void vaultKeys(VaultObject *vault, const QDBusMessage &msg, KeyOp op,
                   const QDBusUnixFileDescriptor &a, const QDBusUnixFileDescriptor &b);
    void vaultResize(VaultObject *vault, const QDBusMessage &msg, qulonglong size,
                     const QDBusUnixFileDescriptor &passphrase);
    void jobCancel(Job *job, const QDBusMessage &msg);

    static void log(const QString &line);

public Q_SLOTS:
    QDBusObjectPath CreateVault(const QDBusUnixFileDescriptor &backing, qulonglong size,
                                const QDBusUnixFileDescriptor &passphrase, const QVariantMap &options);
    QDBusObjectPath Unlock(const QDBusUnixFileDescriptor &backing,
                           const QDBusUnixFileDescriptor &passphrase, const QVariantMap &options,
                           QString &mount_point);
    QList<QDBusObjectPath> ListVaults();
    void LockAll();

Q_SIGNALS:
    void MediaAdded(const QVariantMap &medium);
    void MediaRemoved(const QVariantMap &medium);
    void VaultAdded(const QDBusObjectPath &vault);
    void VaultRemoved(const QDBusObjectPath &vault, const QString &reason);

private:
    using ActionFor = std::function<QString(uid_t)>;
    using Work = std::function<void(const Caller &)>;
    // The top of every handler: identity, polkit, then work(caller) on the event loop. Errors
    // thrown by work become the named D-Bus error reply.
    void authorize(const QDBusMessage &msg, const ActionFor &actionFor, Work work);
    static ActionFor ownAction(const QString &action, uid_t owner);
    // Runs work() on a worker thread, then done(error) back on the event loop.
    void runWorker(std::function<void()> work, std::function<void(std::optional<Error>)> done);
    void sendReply(const QDBusMessage &msg, const QList<QVariant> &args = {});
    void sendError(const QDBusMessage &msg, const Error &error);
    // The done() of a vault method's worker: frees the vault for the next operation, then replies.
    std::function<void(std::optional<Error>)> replyWhenDone(QPointer<VaultObject> vault,
                                                            const Caller &caller);

    int openVaultsOf(uid_t uid) const;
    int runningJobsOf(uid_t uid) const;
    VaultObject *vaultByBacking(const FileId &id) const;
    void checkFileFree(const FileId &id) const;
    Job *newJob(const QString &operation, const QString &actionId, uid_t startedBy, uid_t owner,
                bool cancelable);
    void finishJob(Job *job, const std::optional<Error> &error,
                   Helper1::JobOutcome success = Helper1::JobOutcome::Ok, const QString &note = {},
                   const QVariantMap &result = {});
    VaultObject *addVault(const Vault::OpenVault &open, uid_t owner, const FileId &backing,
                          const std::string &name, UniqueFd backingFd);
    void removeVault(VaultObject *vault, const QString &reason);
    // Closes one vault on a worker thread; done(error) on the event loop.
    void closeVault(VaultObject *vault, bool force, std::function<void(std::optional<Error>)> done);
    void checkIdle();

    QDBusConnection m_bus;
    Authority *m_authority;
    RuntimeState *m_state;
    std::map<std::string, VaultObject *> m_vaults; // by LUKS UUID
    QMap<QString, Job *> m_jobs;
    std::set<FileId> m_filesInUse; // backing files an operation is working on right now
    uint m_nextJob = 1;
    int m_inflight = 0; // calls not yet answered, worker threads
    QTimer m_idleTimer;
    int m_idleLimit = 0;
    int m_idleSeconds = 0;
};

} // namespace Coffer::Helper
