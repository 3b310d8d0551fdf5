#include "manager.h"

#include "actions.h"
#include "block/mapping.h"
#include "block/vault.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "dbus/options.h"
#include "desktop/logind.h"
#include "log.h"
#include "media/mediamonitor.h"
#include "syncchild.h"
#include "vaultobject.h"

#include <QCoreApplication>
#include <QDBusArgument>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusVariant>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace Coffer::Helper {

namespace {

constexpr MemberSpec VaultAddedSignal{"VaultAdded", "o"};
constexpr MemberSpec VaultRemovedSignal{"VaultRemoved", "os"};
constexpr MemberSpec LockFailedSignal{"LockFailed", "oss"};
constexpr MemberSpec MediaAddedSignal{"MediaAdded", "a{sv}"};
constexpr MemberSpec MediaRemovedSignal{"MediaRemoved", "a{sv}"};

// How long before logind stops waiting for its delay locks we let go ourselves: the vaults not
// locked by then stay open, and the system sleeps.
constexpr int sleepLockMarginMs = 1000;

// Whether the block device is still there (a drive that lost its filesystem, or was
// reformatted, is not a drive that was pulled out).
bool blockDevicePresent(dev_t devnum)
{
    const std::string sys = "/sys/dev/block/" + std::to_string(major(devnum)) + ':' + std::to_string(minor(devnum));
    return ::access(sys.c_str(), F_OK) == 0;
}

// A vault of `size` bytes in this file may grow into free space on its drive: a sparse vault
// that cannot grow to its size would fail writes half-way (ext4 inside gets I/O errors). Such a
// vault opens read-only only.
void checkRoomToGrow(int backingFd, uint64_t size)
{
    try {
        Vault::checkMedium(backingFd, size);
    } catch (const Error &e) {
        if (e.code() != ErrorCode::NoSpace)
            throw;
        throw Error(ErrorCode::NoSpace,
                    "The vault cannot grow to its full size on this drive (" + e.message()
                        + "), so writing into it could fail half-way. Free some space on the drive, "
                          "or unlock it read-only.",
                    e.sysErrno());
    }
}

struct Unlocked
{
    Vault::OpenVault vault;
    std::string name;
};

// An unlock's work on a worker: the header first (nothing is derived from it before it
// passed), then this file's own state record and mount point, then the kernel's part. A
// failure undoes only what this call made: a copy of an open vault (same UUID) never touches
// the open one's record or mount point.
Unlocked unlockOnWorker(RuntimeState &state, uid_t uid, gid_t gid, const FileId &file, int fd,
                        const SecretBuffer &secret, const Vault::OpenOptions &options)
{
    const Vault::HeaderInfo header = Vault::headerInfo(fd);
    if (!Vault::isCanonicalLuksUuid(header.luksUuid))
        throw Error(ErrorCode::NotSupported, "The vault's header names no valid UUID; Coffer does not open it.");
    // Before any state is written: a copy of a vault that is open now cannot open beside it.
    if (Mapping::exists(Vault::mapperNameFor(header.luksUuid)))
        throw Error(ErrorCode::Busy, "This vault is already open (this file or a copy of it is unlocked).", EBUSY);
    Unlocked unlocked;
    unlocked.name = mountNameFor(Vault::nameFromLabel(header.label));
    const std::string mountPoint = state.makeMountPoint(uid, unlocked.name);
    StateRecord record{header.luksUuid, uid, unlocked.name, mountPoint, file, false};
    try {
        state.save(record);
        unlocked.vault = Vault::open(fd, secret, mountPoint, options);
        try {
            RuntimeState::makeVaultRootPrivate(mountPoint, uid, gid, options.readOnly);
            record.open = true;
            state.save(record);
        } catch (...) {
            Vault::CloseOptions lazily;
            lazily.lazy = true;
            Vault::close(unlocked.vault, lazily);
            throw;
        }
    } catch (...) {
        state.remove(file);
        state.removeMountPoint(mountPoint);
        throw;
    }
    return unlocked;
}

} // namespace

Manager::Manager(const QDBusConnection &bus, Authority *authority, RuntimeState *state, const Settings &settings,
                 QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_authority(authority)
    , m_state(state)
    , m_settings(settings)
    , m_callers(bus)
    , m_tree(this, &m_callers, authority)
    , m_pool(this, Limits::workerThreads, Limits::workerThreadsPerUser)
{
    connect(&m_idleTimer, &QTimer::timeout, this, &Manager::checkIdle);
    Helper1::registerOptionTypes();
}

Manager::~Manager()
{
    m_pool.stop();
}

bool Manager::registerOnBus()
{
    return m_bus.registerVirtualObject(QString::fromLatin1(Helper1::ManagerPath), &m_tree,
                                       QDBusConnection::SubPath);
}

const std::vector<Method<Manager>> &Manager::methods()
{
    static const std::vector<Method<Manager>> methods{
        {{"CreateVault", "htha{sv}"}, &Manager::createVault},
        {{"Unlock", "hha{sv}"}, &Manager::unlock},
        {{"ListVaults", ""}, &Manager::listVaults},
        {{"LockAll", ""}, &Manager::lockAll},
        {{"ListMedia", ""}, &Manager::listMedia},
    };
    return methods;
}

const std::vector<MemberSpec> &Manager::signalSpecs()
{
    static const std::vector<MemberSpec> specs{VaultAddedSignal, VaultRemovedSignal, LockFailedSignal,
                                               MediaAddedSignal, MediaRemovedSignal};
    return specs;
}

void Manager::call(const QDBusMessage &message)
{
    dispatch(this, methods(), message, m_bus);
}

void Manager::setIdleExit(int seconds)
{
    m_idleLimit = seconds;
    m_idleSeconds = 0;
    if (seconds > 0)
        m_idleTimer.start(1000);
    else
        m_idleTimer.stop();
}

bool Manager::isIdle() const
{
    if (!m_vaults.empty() || m_inflight > 0)
        return false;
    return std::all_of(m_jobs.begin(), m_jobs.end(), [](const Job *job) { return job->finished(); });
}

void Manager::checkIdle()
{
    m_idleSeconds = isIdle() ? m_idleSeconds + 1 : 0;
    if (m_idleLimit > 0 && m_idleSeconds >= m_idleLimit) {
        Log::write(QStringLiteral("idle for %1 s, exiting").arg(m_idleLimit));
        QCoreApplication::quit();
    }
}

// ---- the top of every handler ------------------------------------------------------------

Manager::ActionFor Manager::ownAction(const QString &action, uid_t owner)
{
    return [action, owner](uid_t caller) { return caller == owner ? action : Action::ManageOtherUsers; };
}

void Manager::authorize(const QDBusMessage &message, const ActionFor &actionFor, Work work)
{
    m_idleSeconds = 0; // idle means no call for a while, not only none running at each tick
    Caller caller;
    caller.message = message;
    caller.sender = message.service();
    const std::optional<uid_t> uid = m_callers.uidOf(caller.sender);
    if (!uid) {
        Log::write(QStringLiteral("%1 from %2 refused: cannot tell who is calling (gone already?)")
                       .arg(message.member(), caller.sender));
        replyError(message, Error(ErrorCode::NotAuthorized, "Cannot tell who is calling."));
        return;
    }
    caller.uid = *uid;
    const QString action = actionFor(caller.uid);
    ++m_inflight;
    m_authority->check(action, caller.sender,
                       [this, caller, action, work = std::move(work)](bool allowed, const QString &why) {
        --m_inflight;
        const QString member = caller.message.member();
        if (!allowed) {
            Log::write(QStringLiteral("uid %1: %2 %3 denied (%4)").arg(caller.uid).arg(action, member, why));
            replyError(caller.message,
                       Error(ErrorCode::NotAuthorized,
                             ("Not authorized to " + member + " (" + action + "): " + why).toStdString()));
            return;
        }
        // A caller that went away while polkit was deciding gets nothing done.
        if (!m_callers.isConnected(caller.sender)) {
            Log::write(QStringLiteral("uid %1: %2 dropped, the caller disconnected").arg(caller.uid).arg(member));
            return;
        }
        try {
            work(caller);
        } catch (const Error &e) {
            Log::write(QStringLiteral("uid %1: %2 refused: %3").arg(caller.uid).arg(member, QString::fromStdString(e.message())));
            replyError(caller.message, e);
        } catch (const std::exception &e) {
            replyError(caller.message, Error(ErrorCode::Failed, e.what()));
        }
    });
}

void Manager::runWorker(uid_t user, std::function<void()> work, Done done)
{
    ++m_inflight;
    m_pool.run(user, std::move(work), [this, done = std::move(done)](std::optional<Error> error) {
        --m_inflight;
        done(error);
    });
}

void Manager::reply(const QDBusMessage &message, const QList<QVariant> &args)
{
    m_bus.send(message.createReply(args));
}

void Manager::replyError(const QDBusMessage &message, const Error &error)
{
    m_bus.send(DBusErrors::errorReply(message, error));
}

Manager::Done Manager::replyWhenDone(const QDBusMessage &message)
{
    return [this, message](std::optional<Error> error) {
        if (error)
            replyError(message, *error);
        else
            reply(message);
    };
}

// ---- bookkeeping ----------------------------------------------------------------------------

int Manager::openVaultsOf(uid_t uid) const
{
    const auto unlocking = m_unlocking.find(uid);
    return int(std::count_if(m_vaults.begin(), m_vaults.end(), [uid](const VaultObject *v) { return v->owner() == uid; }))
           + (unlocking == m_unlocking.end() ? 0 : unlocking->second);
}

int Manager::runningJobsOf(uid_t uid) const
{
    const auto creating = m_creating.find(uid);
    return int(std::count_if(m_jobs.begin(), m_jobs.end(),
                             [uid](const Job *job) { return !job->finished() && job->startedByUid() == uid; }))
           + (creating == m_creating.end() ? 0 : creating->second);
}

VaultObject *Manager::vaultByBacking(const FileId &id) const
{
    const auto it = std::find_if(m_vaults.begin(), m_vaults.end(), [&](const VaultObject *v) { return v->backing() == id; });
    return it == m_vaults.end() ? nullptr : *it;
}

void Manager::checkFileFree(const FileId &id) const
{
    if (m_filesInUse.count(id))
        throw Error(ErrorCode::Busy, "Another operation is working on this vault file right now.");
    if (vaultByBacking(id))
        throw Error(ErrorCode::Busy, "This vault file is already unlocked.");
}

void Manager::checkJobRoom(uid_t user) const
{
    if (runningJobsOf(user) >= Limits::maxJobsPerUser)
        throw Error(ErrorCode::Busy, "Too many operations are running for you; wait for one to finish.");
}

Job *Manager::newJob(const QString &operation, const QString &actionId, uid_t startedBy, uid_t owner,
                     bool cancelable)
{
    checkJobRoom(startedBy);
    auto *job = new Job(this, QLatin1String(Helper1::JobPathPrefix) + QString::number(m_nextJob++), operation,
                        actionId, startedBy, owner, cancelable);
    m_jobs.push_back(job);
    m_tree.add(job);
    return job;
}

void Manager::finishJob(Job *job, const Job::Completion &completion)
{
    job->finish(completion);
    Log::write(QStringLiteral("%1 %2 finished: %3").arg(job->operation(), job->path(),
        completion.error ? QString::fromStdString(completion.error->message()) : QStringLiteral("ok")));
    // Kept a while for clients that ask after the signal went out (it does not keep the
    // helper from exiting when idle).
    QTimer::singleShot(5 * 60 * 1000, job, [this, job] {
        m_tree.remove(job);
        m_jobs.erase(std::remove(m_jobs.begin(), m_jobs.end(), job), m_jobs.end());
        job->deleteLater();
    });
}

VaultObject *Manager::addVault(const Vault::OpenVault &open, uid_t owner, const FileId &backing,
                               const std::string &name, UniqueFd backingFd, bool lockOnSuspend)
{
    auto *vault = new VaultObject(this, QLatin1String(Helper1::VaultPathPrefix) + QString::number(m_nextVault++),
                                  open, owner, backing, name, std::move(backingFd), lockOnSuspend);
    m_vaults.push_back(vault);
    m_tree.add(vault);
    updateSleepLock();
    m_callers.sendSignal({owner}, QString::fromLatin1(Helper1::ManagerPath), QString::fromLatin1(Helper1::ManagerInterface),
                         QLatin1String(VaultAddedSignal.name), {QVariant::fromValue(QDBusObjectPath(vault->path()))});
    return vault;
}

void Manager::removeVault(VaultObject *vault, const QString &reason)
{
    // Once only: a lock and a drive's teardown may both end.
    if (std::find(m_vaults.begin(), m_vaults.end(), vault) == m_vaults.end())
        return;
    m_state->remove(vault->backing());
    m_state->removeMountPoint(vault->open().mountPoint);
    m_tree.remove(vault);
    m_vaults.erase(std::remove(m_vaults.begin(), m_vaults.end(), vault), m_vaults.end());
    m_callers.sendSignal({vault->owner()}, QString::fromLatin1(Helper1::ManagerPath),
                         QString::fromLatin1(Helper1::ManagerInterface), QLatin1String(VaultRemovedSignal.name),
                         {QVariant::fromValue(QDBusObjectPath(vault->path())), reason});
    vault->deleteLater();
    updateSleepLock();
}

void Manager::closeVault(VaultObject *vault, std::shared_ptr<VaultClaim> claim, bool force, Done done,
                         const QString &reason)
{
    const Vault::OpenVault open = vault->open();
    QPointer<VaultObject> guard(vault);
    runWorker(
        vault->owner(),
        [open, force, owner = vault->owner()] {
            Vault::CloseOptions options;
            options.force = force;
            // A user's force-lock stops only that user's programs (an admin locking someone
            // else's vault acts for the owner); others holding it make it Busy.
            options.ownerUid = owner;
            Vault::close(open, options);
        },
        [this, guard, claim, reason, done = std::move(done)](std::optional<Error> error) mutable {
            claim.reset();
            if (!error && guard) {
                Log::write(QStringLiteral("locked %1 (%2)").arg(guard->path(), reason));
                removeVault(guard, reason);
            }
            done(error);
        });
}

// ---- reconcile ------------------------------------------------------------------------------

void Manager::reconcile()
{
    std::vector<StateRecord> records = m_state->load();
    std::vector<Vault::OpenVault> open;
    try {
        open = Vault::listOpen();
    } catch (const Error &e) {
        Log::write(QStringLiteral("cannot list open vaults: %1").arg(QString::fromStdString(e.message())));
    }
    for (const Vault::OpenVault &v : open) {
        // The record of this very mount: the same UUID alone may be a copy's half-done unlock.
        const auto record = std::find_if(records.begin(), records.end(), [&](const StateRecord &r) {
            return r.open && r.luksUuid == v.luksUuid && !v.mountPoint.empty() && r.mountPoint == v.mountPoint;
        });
        if (record != records.end()) {
            // The owner's lock-on-suspend is not in the record: the default applies.
            addVault(v, record->uid, record->backing, record->name, UniqueFd(), true);
            try {
                m_state->userDir(record->uid); // private, also when a helper before this one made it
            } catch (const Error &e) {
                Log::write(QStringLiteral("cannot make the mount points of uid %1 private: %2")
                               .arg(record->uid).arg(QString::fromStdString(e.message())));
            }
            Log::write(QStringLiteral("adopted %1 (uid %2) at %3")
                           .arg(QString::fromStdString(v.luksUuid)).arg(record->uid)
                           .arg(QString::fromStdString(v.mountPoint)));
            records.erase(record);
            continue;
        }
        // Half attached by a helper that died, or not ours to keep: tear it down.
        Log::write(QStringLiteral("cleaning up stale mapping %1").arg(QString::fromStdString(v.mapperName)));
        try {
            Vault::CloseOptions options;
            options.force = true;
            options.lazy = true;
            Vault::close(v, options);
        } catch (const Error &e) {
            Log::write(QStringLiteral("cannot clean up %1: %2")
                           .arg(QString::fromStdString(v.mapperName), QString::fromStdString(e.message())));
        }
    }
    // Records of vaults the kernel no longer has (or never had: a helper killed mid-unlock).
    for (const StateRecord &r : records) {
        Log::write(QStringLiteral("forgetting stale record of %1 at %2")
                       .arg(QString::fromStdString(r.luksUuid), QString::fromStdString(r.mountPoint)));
        m_state->removeMountPoint(r.mountPoint);
        m_state->remove(r.backing);
    }
}

// ---- Manager methods ---------------------------------------------------------------------------

void Manager::createVault(const QDBusMessage &message)
{
    const QDBusUnixFileDescriptor backing = fdArgument(message, 0);
    const qulonglong size = message.arguments().value(1).toULongLong();
    const QDBusUnixFileDescriptor passphrase = fdArgument(message, 2);
    const QVariantMap options = qdbus_cast<QVariantMap>(message.arguments().value(3));
    authorize(message, [](uid_t) { return Action::Create; }, [this, backing, size, passphrase, options](const Caller &caller) {
        const Helper1::CreateOptions request = Helper1::decodeCreateOptions(options);
        const int fd = fdOf(backing, "backing file");
        const BackingFile file = checkBackingFd(fd, caller.uid, BackingUse::Create);
        checkFileFree(file.id);
        checkSize(size);
        Vault::CreateOptions create;
        const QString name = request.label;
        create.name = checkName(name);
        create.pbkdf = request.pbkdf;
        create.ownerUid = caller.uid;
        create.ownerGid = credentialsFor(caller.uid).gid;
        Vault::checkMedium(fd, size); // NoSpace before anything is written
        fdOf(passphrase, "passphrase");
        const QDBusUnixFileDescriptor keyFile = request.keyFile;
        checkJobRoom(caller.uid);
        auto backingFd = std::make_shared<UniqueFd>(keepFd(fd));

        struct Secrets
        {
            SecretBuffer passphrase, keyFile;
        };
        auto secrets = std::make_shared<Secrets>();
        m_filesInUse.insert(file.id);
        ++m_creating[caller.uid];
        // The secrets first, on a worker; the job exists once they are in (a bad secret is the
        // call's error, not a failed job).
        runWorker(
            caller.uid,
            [secrets, passphrase, keyFile] {
                secrets->passphrase = readSecret(fdOf(passphrase, "passphrase"), Limits::maxPassphraseBytes);
                if (secrets->passphrase.empty())
                    throw Error(ErrorCode::InvalidArgument, "The passphrase is empty.");
                if (keyFile.isValid()) {
                    secrets->keyFile = readSecret(keyFile.fileDescriptor(), Limits::maxKeyFileBytes);
                    if (secrets->keyFile.empty())
                        throw Error(ErrorCode::InvalidArgument, "The key file is empty.");
                }
            },
            [this, caller, backingFd, secrets, create, size, name, id = file.id](std::optional<Error> error) mutable {
                if (--m_creating[caller.uid] == 0)
                    m_creating.erase(caller.uid);
                Job *job = nullptr;
                try {
                    if (error)
                        throw *error;
                    job = newJob(QStringLiteral("create"), Action::Create, caller.uid, caller.uid, false);
                } catch (const Error &e) {
                    m_filesInUse.erase(id);
                    Log::write(QStringLiteral("uid %1: create refused: %2").arg(caller.uid).arg(QString::fromStdString(e.message())));
                    replyError(caller.message, e);
                    return;
                }
                Log::write(QStringLiteral("uid %1: creating vault \"%2\" of %3 bytes (%4)")
                               .arg(caller.uid).arg(name).arg(size).arg(job->path()));
                reply(caller.message, {QVariant::fromValue(QDBusObjectPath(job->path()))});
                runWorker(
                    caller.uid,
                    [backingFd, size, secrets, create]() mutable {
                        if (!secrets->keyFile.empty())
                            create.keyFile = &secrets->keyFile;
                        Vault::create(backingFd->get(), size, secrets->passphrase, create);
                    },
                    [this, job, id](std::optional<Error> error) {
                        m_filesInUse.erase(id);
                        job->setProgress({1.0, 0, 0, 0, 0, {}, {}}, true);
                        Job::Completion completion;
                        completion.error = error;
                        finishJob(job, completion);
                    });
            });
    });
}

void Manager::unlock(const QDBusMessage &message)
{
    const QDBusUnixFileDescriptor backing = fdArgument(message, 0);
    const QDBusUnixFileDescriptor passphrase = fdArgument(message, 1);
    const QVariantMap options = qdbus_cast<QVariantMap>(message.arguments().value(2));
    authorize(message, [](uid_t) { return Action::Unlock; }, [this, backing, passphrase, options](const Caller &caller) {
        Vault::OpenOptions open;
        const Helper1::UnlockOptions request = Helper1::decodeUnlockOptions(options);
        open.readOnly = request.readOnly;
        const int fd = fdOf(backing, "backing file");
        const BackingFile file = checkBackingFd(fd, caller.uid, BackingUse::Open);
        fdOf(passphrase, "passphrase");
        checkFileFree(file.id);
        if (openVaultsOf(caller.uid) >= Limits::maxOpenVaultsPerUser)
            throw Error(ErrorCode::Busy, "You have too many vaults open or opening; lock one first.");
        if (!open.readOnly)
            checkRoomToGrow(fd, file.size);
        auto backingFd = std::make_shared<UniqueFd>(keepFd(fd));
        m_filesInUse.insert(file.id);
        ++m_unlocking[caller.uid];

        auto unlocked = std::make_shared<Unlocked>();
        RuntimeState *state = m_state;
        const uid_t uid = caller.uid;
        const gid_t gid = credentialsFor(uid).gid;
        runWorker(
            uid,
            [state, uid, gid, backingFd, passphrase, open, unlocked, file] {
                const SecretBuffer secret = readSecret(fdOf(passphrase, "passphrase"), Limits::maxKeyFileBytes);
                *unlocked = unlockOnWorker(*state, uid, gid, file.id, backingFd->get(), secret, open);
            },
            [this, caller, backingFd, unlocked, file, lockOnSuspend = request.lockOnSuspend](std::optional<Error> error) {
                m_filesInUse.erase(file.id);
                if (--m_unlocking[caller.uid] == 0)
                    m_unlocking.erase(caller.uid);
                if (error) {
                    Log::write(QStringLiteral("uid %1: unlock failed: %2")
                                   .arg(caller.uid).arg(QString::fromStdString(error->message())));
                    replyError(caller.message, *error);
                    return;
                }
                VaultObject *vault = addVault(unlocked->vault, caller.uid, file.id, unlocked->name,
                                              std::move(*backingFd), lockOnSuspend);
                Log::write(QStringLiteral("uid %1: unlocked %2 at %3%4%5")
                               .arg(caller.uid).arg(vault->path(), vault->mountPoint(),
                                    unlocked->vault.fsckRan ? QStringLiteral(" (e2fsck ran first)") : QString(),
                                    lockOnSuspend ? QString() : QStringLiteral(" (left open on suspend)")));
                reply(caller.message, {QVariant::fromValue(QDBusObjectPath(vault->path())), vault->mountPoint()});
            });
    });
}

void Manager::listVaults(const QDBusMessage &message)
{
    authorize(message, [](uid_t) { return Action::Unlock; }, [this](const Caller &caller) {
        QList<QDBusObjectPath> list;
        for (const VaultObject *vault : m_vaults) {
            if (vault->owner() == caller.uid)
                list.append(QDBusObjectPath(vault->path()));
        }
        reply(caller.message, {QVariant::fromValue(list)});
    });
}

void Manager::lockAll(const QDBusMessage &message)
{
    authorize(message, [](uid_t) { return Action::Lock; }, [this](const Caller &caller) {
        // Every vault that is free is locked; the busy ones are named in the answer.
        std::vector<std::pair<VaultObject *, std::shared_ptr<VaultClaim>>> free;
        QStringList busy;
        for (VaultObject *vault : m_vaults) {
            if (vault->owner() != caller.uid)
                continue;
            if (!vault->busyWith().isEmpty())
                busy << vault->name() + QStringLiteral(" (busy with ") + vault->busyWith() + QLatin1Char(')');
            else
                free.emplace_back(vault, vault->claim(QStringLiteral("lock")));
        }
        struct State
        {
            size_t left = 0;
            std::optional<Error> failed;
            QStringList busy;
        };
        auto st = std::make_shared<State>();
        st->left = free.size();
        st->busy = busy;
        auto answer = [this, st, caller] {
            if (st->failed) {
                replyError(caller.message, *st->failed);
            } else if (!st->busy.isEmpty()) {
                replyError(caller.message,
                           Error(ErrorCode::Busy, ("Locked the others; not locked: " + st->busy.join(QStringLiteral(", "))
                                                   + ". Wait for it or cancel it, then lock it.").toStdString()));
            } else {
                reply(caller.message);
            }
        };
        if (free.empty()) {
            answer();
            return;
        }
        for (auto &[vault, claim] : free) {
            closeVault(vault, claim, false, [st, answer](std::optional<Error> error) {
                if (error && !st->failed)
                    st->failed = error;
                if (--st->left == 0)
                    answer();
            });
        }
    });
}

} // namespace Coffer::Helper

// ---- drives -------------------------------------------------------------------------------------

namespace Coffer::Helper {

void Manager::startMediaMonitor()
{
    if (m_media)
        return;
    if (!m_seatUsers)
        m_seatUsers = new SeatUsers(QDBusConnection::systemBus(), this);
    auto *monitor = new Media::MediaMonitor(this);
    try {
        monitor->start();
    } catch (const Error &e) {
        Log::write(QStringLiteral("not watching drives: %1").arg(QString::fromStdString(e.message())));
        delete monitor;
        return;
    }
    m_media = monitor;
    connect(monitor, &Media::MediaMonitor::mediumAdded, this, [this](const Media::Medium &medium) {
        Log::write(QStringLiteral("drive %1 (%2) came").arg(QString::fromStdString(medium.devNode),
                                                            QString::fromStdString(medium.fsType)));
        sendMediumSignal(MediaAddedSignal.name, medium);
    });
    connect(monitor, &Media::MediaMonitor::mediumRemoved, this, &Manager::onMediumRemoved);
}

void Manager::mediumAudience(const Media::Medium &medium, std::function<void(std::set<uid_t>)> done)
{
    std::set<uid_t> owners;
    for (const VaultObject *vault : m_vaults) {
        if (vault->backing().dev == medium.devnum)
            owners.insert(vault->owner());
    }
    if (!m_seatUsers) {
        done(owners);
        return;
    }
    ++m_inflight;
    m_seatUsers->query([this, owners, done = std::move(done)](std::set<uid_t> seated) mutable {
        --m_inflight;
        seated.insert(owners.begin(), owners.end());
        done(seated);
    });
}

void Manager::sendMediumSignal(const char *member, const Media::Medium &medium)
{
    const QVariantMap facts = Helper1::encodeMedium(medium);
    mediumAudience(medium, [this, member, facts](const std::set<uid_t> &users) {
        m_callers.sendSignal(users, QString::fromLatin1(Helper1::ManagerPath), QString::fromLatin1(Helper1::ManagerInterface),
                             QLatin1String(member), {facts});
    });
}

void Manager::onMediumRemoved(const Media::Medium &medium)
{
    // The audience is made up before the vaults on the drive are gone.
    sendMediumSignal(MediaRemovedSignal.name, medium);
    if (blockDevicePresent(medium.devnum)) {
        Log::write(QStringLiteral("drive %1 no longer carries a filesystem udev knows; its vaults stay")
                       .arg(QString::fromStdString(medium.devNode)));
        return;
    }
    Log::write(QStringLiteral("drive %1 was removed").arg(QString::fromStdString(medium.devNode)));
    const std::vector<VaultObject *> vaults = m_vaults;
    for (VaultObject *vault : vaults) {
        if (vault->backing().dev == medium.devnum && !vault->isGone())
            tearDownGone(vault);
    }
}

void Manager::tearDownGone(VaultObject *vault)
{
    Log::write(QStringLiteral("%1 (uid %2): its drive is gone, detaching it").arg(vault->path()).arg(vault->owner()));
    vault->mediumGone();
    const Vault::OpenVault open = vault->open();
    QPointer<VaultObject> guard(vault);
    runWorker(
        vault->owner(),
        [open] {
            // Nothing can be flushed to a drive that is not there: detach at once; the kernel
            // finishes (deferred dm removal, loop autoclear) when the last user lets go.
            Vault::CloseOptions options;
            options.lazy = true;
            Vault::close(open, options);
        },
        [this, guard](std::optional<Error> error) {
            if (error)
                Log::write(QStringLiteral("detaching a vault whose drive is gone: %1").arg(QString::fromStdString(error->message())));
            if (guard)
                removeVault(guard, QString::fromLatin1(Helper1::RemovedReason::MediumGone));
        });
}

void Manager::listMedia(const QDBusMessage &message)
{
    authorize(message, [](uid_t) { return Action::Unlock; }, [this](const Caller &caller) {
        const std::vector<Media::Medium> media = m_media ? m_media->media() : std::vector<Media::Medium>();
        auto answer = [this, caller, media](const std::set<uid_t> &seated) {
            QList<QVariantMap> list;
            for (const Media::Medium &medium : media) {
                const bool hasOwnVault = std::any_of(m_vaults.begin(), m_vaults.end(), [&](const VaultObject *v) {
                    return v->owner() == caller.uid && v->backing().dev == medium.devnum;
                });
                if (hasOwnVault || seated.count(caller.uid))
                    list.append(Helper1::encodeMedium(medium));
            }
            reply(caller.message, {QVariant::fromValue(list)});
        };
        if (!m_seatUsers) {
            answer({});
            return;
        }
        ++m_inflight;
        m_seatUsers->query([this, answer](const std::set<uid_t> &seated) {
            --m_inflight;
            answer(seated);
        });
    });
}

// ---- suspend and shutdown -------------------------------------------------------------------

void Manager::watchSleep(const QDBusConnection &systemBus)
{
    if (!m_logind)
        m_logind = new LogindManager(systemBus, this);
    updateSleepLock();
}

void Manager::updateSleepLock()
{
    if (!m_logind)
        return;
    if (m_vaults.empty()) {
        if (m_sleepLock) {
            // Closing the lock lets a sleep that waits for it go on.
            m_sleepLock->deleteLater();
            m_sleepLock = nullptr;
        }
        return;
    }
    if (m_sleepLock)
        return;
    m_sleepLock = new DelayInhibitor(m_logind, QStringLiteral("sleep:shutdown"), QStringLiteral("Coffer"),
                                     QStringLiteral("Locking open vaults first"), this);
    connect(m_sleepLock, &DelayInhibitor::held, this, [] { Log::write(QStringLiteral("holding a delay lock on sleep and shutdown")); });
    // logind's InhibitDelayMaxUSec (5 s unless the administrator said otherwise) bounds our work.
    QDBusMessage get = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.login1"), QStringLiteral("/org/freedesktop/login1"),
                                                      QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"));
    get.setArguments({QStringLiteral("org.freedesktop.login1.Manager"), QStringLiteral("InhibitDelayMaxUSec")});
    auto *delay = new QDBusPendingCallWatcher(m_logind->bus().asyncCall(get, 5000), this);
    connect(delay, &QDBusPendingCallWatcher::finished, this, [this, delay] {
        delay->deleteLater();
        const QDBusPendingReply<QDBusVariant> reply = *delay;
        if (reply.isValid())
            m_sleepBudgetMs = std::max<qint64>(500, qint64(reply.value().variant().toULongLong() / 1000) - sleepLockMarginMs);
    });
    connect(m_sleepLock, &DelayInhibitor::failed, this, [](const QString &why) {
        Log::write(QStringLiteral("no delay lock on sleep and shutdown (vaults are not locked before them): %1").arg(why));
    });
    connect(m_sleepLock, &DelayInhibitor::aboutToSleep, this,
            [this] { lockBeforeSleep(QString::fromLatin1(Helper1::RemovedReason::Suspend)); });
    connect(m_sleepLock, &DelayInhibitor::aboutToShutdown, this,
            [this] { lockBeforeSleep(QString::fromLatin1(Helper1::RemovedReason::Shutdown)); });
    connect(m_sleepLock, &DelayInhibitor::resumed, this, [] { Log::write(QStringLiteral("resumed")); });
}

void Manager::lockFailed(VaultObject *vault, const QString &reason, const QString &message)
{
    Log::write(QStringLiteral("before %1: %2 (uid %3) stays open: %4").arg(reason, vault->path()).arg(vault->owner()).arg(message));
    m_callers.sendSignal({vault->owner()}, QString::fromLatin1(Helper1::ManagerPath),
                         QString::fromLatin1(Helper1::ManagerInterface), QLatin1String(LockFailedSignal.name),
                         {QVariant::fromValue(QDBusObjectPath(vault->path())), reason, message});
}

void Manager::lockBeforeSleep(const QString &reason)
{
    if (m_lockingForSleep || !m_sleepLock)
        return;
    m_lockingForSleep = true;
    Log::write(QStringLiteral("%1 coming: locking the vaults").arg(reason));
    QPointer<DelayInhibitor> lock(m_sleepLock);
    struct State
    {
        int left = 0;
        bool released = false;
    };
    auto st = std::make_shared<State>();
    // The system sleeps once our work is done, or when the budget runs out: never later.
    auto letGo = [this, st, lock, reason] {
        if (st->released)
            return;
        st->released = true;
        m_lockingForSleep = false;
        Log::write(QStringLiteral("%1 may go on").arg(reason));
        if (lock)
            lock->release();
    };
    for (VaultObject *vault : std::vector<VaultObject *>(m_vaults)) {
        if (!vault->lockOnSuspend()) {
            Log::write(QStringLiteral("before %1: %2 left open, as its owner asked").arg(reason, vault->path()));
            continue;
        }
        std::shared_ptr<VaultClaim> claim;
        try {
            claim = vault->claim(QStringLiteral("lock"));
        } catch (const Error &busy) {
            lockFailed(vault, reason, QString::fromStdString(busy.message()));
            continue;
        }
        ++st->left;
        QPointer<VaultObject> guard(vault);
        closeVault(
            vault, claim, false,
            [this, st, guard, reason, letGo](std::optional<Error> error) {
                if (error && guard)
                    lockFailed(guard, reason, QString::fromStdString(error->message()));
                if (--st->left == 0)
                    letGo();
            },
            reason);
    }
    if (st->left == 0) {
        letGo();
        return;
    }
    QTimer::singleShot(int(m_sleepBudgetMs), this, letGo);
}

} // namespace Coffer::Helper
