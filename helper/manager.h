#pragma once

#include "block/uniquefd.h"
#include "block/vault.h"
#include "dbus/helper1.h"
#include "callerchecks.h"
#include "callers.h"
#include "exportedobject.h"
#include "job.h"
#include "media/medium.h"
#include "objecttree.h"
#include "polkitauthority.h"
#include "runtimestate.h"
#include "seatusers.h"
#include "settings.h"
#include "workerpool.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusUnixFileDescriptor>
#include <QObject>
#include <QTimer>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace Coffer {
class DelayInhibitor;
class LogindManager;
namespace Media {
class MediaMonitor;
}
} // namespace Coffer

namespace Coffer::Helper {

class VaultClaim;
class VaultObject;

// /org/coffer/Helper1, org.coffer.Helper1.Manager, and the helper's whole state: open vaults,
// jobs, the runtime records, idle exit. Every handler, here and on the vault and job objects,
// starts with authorize(): caller uid from the bus, polkit for that bus name, then validation
// of every argument, then the work (slow work on the worker pool; the reply is sent when done).
class Manager : public QObject
{
    Q_OBJECT

public:
    Manager(const QDBusConnection &bus, Authority *authority, RuntimeState *state, const Settings &settings,
            QObject *parent = nullptr);
    ~Manager() override;

    // Registers the object tree at /org/coffer/Helper1. Call reconcile() before taking the bus
    // name.
    bool registerOnBus();
    // Adopts vaults still mounted by a previous helper, tears down half-attached ones and
    // forgets records of vaults the kernel no longer has.
    void reconcile();

    // Watches the USB drives (core/media): MediaAdded/MediaRemoved to those they concern, and
    // the teardown of the vaults on a drive that was pulled out. Logs and goes on without
    // them when udev cannot be watched.
    void startMediaMonitor();
    // While a vault is open, holds a logind delay lock and locks the vaults whose owners asked
    // for it (Unlock's lock-on-suspend) before the system sleeps or shuts down. `systemBus`:
    // where logind is.
    void watchSleep(const QDBusConnection &systemBus);

    // Idle: no open vault, no running job, no call in progress.
    bool isIdle() const;
    // Quits the application after `seconds` of idleness (checked once a second).
    void setIdleExit(int seconds);

    // org.coffer.Helper1.Manager, dispatched by the object tree.
    void call(const QDBusMessage &message);
    static const std::vector<Method<Manager>> &methods();
    // The signals of org.coffer.Helper1.Manager; each goes only to the connections of the user
    // whose vault it is about.
    static const std::vector<MemberSpec> &signalSpecs();

    // ---- for the handlers of the vault and job objects ----

    // Who is calling: identity from the bus, never from an argument (design.md 4.2).
    struct Caller
    {
        QDBusMessage message;
        QString sender;
        uid_t uid = uid_t(-1);
    };
    using ActionFor = std::function<QString(uid_t)>;
    using Work = std::function<void(const Caller &)>;
    using Done = std::function<void(std::optional<Error>)>;
    // The top of every handler: identity, polkit, then work(caller) on the event loop. Errors
    // thrown by work become the named D-Bus error reply.
    void authorize(const QDBusMessage &message, const ActionFor &actionFor, Work work);
    // `action` for the owner, manage-other-users for anyone else.
    static ActionFor ownAction(const QString &action, uid_t owner);
    // work() on the worker pool (counted against `user`'s share), then done(error) here.
    void runWorker(uid_t user, std::function<void()> work, Done done);
    void reply(const QDBusMessage &message, const QList<QVariant> &args = {});
    void replyError(const QDBusMessage &message, const Error &error);
    // A done() that replies to `message`: the error, or an empty reply.
    Done replyWhenDone(const QDBusMessage &message);

    // Busy if `user` may not start another job now.
    void checkJobRoom(uid_t user) const;
    Job *newJob(const QString &operation, const QString &actionId, uid_t startedBy, uid_t owner,
                bool cancelable);
    void finishJob(Job *job, const Job::Completion &completion);
    // Closes the vault the caller claimed (on a worker); on success it is gone
    // (VaultRemoved(o, reason)).
    void closeVault(VaultObject *vault, std::shared_ptr<VaultClaim> claim, bool force, Done done,
                    const QString &reason = QString::fromLatin1(Helper1::RemovedReason::Locked));

    const QDBusConnection &bus() const { return m_bus; }
    const Settings &settings() const { return m_settings; }
    Callers &callers() { return m_callers; }

private:
    void createVault(const QDBusMessage &message);
    void unlock(const QDBusMessage &message);
    void listVaults(const QDBusMessage &message);
    void lockAll(const QDBusMessage &message);
    void listMedia(const QDBusMessage &message);

    // The users a drive concerns: the owners of vaults open on it, and the seats' users.
    void mediumAudience(const Media::Medium &medium, std::function<void(std::set<uid_t>)> done);
    void sendMediumSignal(const char *member, const Media::Medium &medium);
    void onMediumRemoved(const Media::Medium &medium);
    // The drive is gone: the vault's work stops, it is detached lazily, VaultRemoved(o, "medium-gone").
    void tearDownGone(VaultObject *vault);
    void updateSleepLock();
    void lockBeforeSleep(const QString &reason);
    void lockFailed(VaultObject *vault, const QString &reason, const QString &message);

    int openVaultsOf(uid_t uid) const;
    int runningJobsOf(uid_t uid) const;
    VaultObject *vaultByBacking(const FileId &id) const;
    void checkFileFree(const FileId &id) const;
    VaultObject *addVault(const Vault::OpenVault &open, uid_t owner, const FileId &backing,
                          const std::string &name, UniqueFd backingFd, bool lockOnSuspend);
    void removeVault(VaultObject *vault, const QString &reason);
    void checkIdle();

    QDBusConnection m_bus;
    Authority *m_authority;
    RuntimeState *m_state;
    Settings m_settings;
    Callers m_callers;
    ObjectTree m_tree;
    std::vector<VaultObject *> m_vaults;
    std::vector<Job *> m_jobs;
    std::set<FileId> m_filesInUse;     // backing files an operation is working on right now
    std::map<uid_t, int> m_unlocking;  // unlocks in progress, by user
    std::map<uid_t, int> m_creating;   // creations reading their secrets, by user
    uint m_nextVault = 1;
    uint m_nextJob = 1;
    int m_inflight = 0; // calls not yet answered, worker tasks
    SeatUsers *m_seatUsers = nullptr;
    Media::MediaMonitor *m_media = nullptr;
    LogindManager *m_logind = nullptr;
    DelayInhibitor *m_sleepLock = nullptr; // while a vault is open
    bool m_lockingForSleep = false;
    qint64 m_sleepBudgetMs = 4000;         // logind's InhibitDelayMaxSec less a margin
    QTimer m_idleTimer;
    int m_idleLimit = 0;
    int m_idleSeconds = 0;
    WorkerPool m_pool; // last: joined first, while everything its callbacks touch still exists
};

} // namespace Coffer::Helper
