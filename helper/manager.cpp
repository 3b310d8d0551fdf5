#include "manager.h"

#include "block/vault.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "dbus/options.h"
#include "job.h"
#include "sync/syncengine.h"
#include "syncchild.h"
#include "vaultobject.h"

#include <QCoreApplication>
#include <QDBusConnectionInterface>
#include <QDateTime>
#include <QFile>
#include <QPointer>
#include <QSettings>
#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace Coffer::Helper {

namespace {

const QString ActionCreate = QStringLiteral("org.coffer.helper.create");
const QString ActionUnlock = QStringLiteral("org.coffer.helper.unlock");
const QString ActionLock = QStringLiteral("org.coffer.helper.lock");
const QString ActionSync = QStringLiteral("org.coffer.helper.sync");
const QString ActionKeys = QStringLiteral("org.coffer.helper.manage-keys");
const QString ActionResize = QStringLiteral("org.coffer.helper.resize");
const QString ActionOthers = QStringLiteral("org.coffer.helper.manage-other-users");

UniqueFd dupFd(int fd)
{
    const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot keep the file descriptor");
    return UniqueFd(copy);
}

} // namespace

void Manager::log(const QString &line)
{
    const QByteArray text = QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toUtf8() + " coffer-helper: "
                            + line.toUtf8() + '\n';
    (void)!write(STDERR_FILENO, text.constData(), size_t(text.size()));
    static const QString logFile = [] {
        const QByteArray env = qgetenv("COFFER_HELPER_LOG_FILE");
        if (!env.isEmpty())
            return QString::fromLocal8Bit(env);
        return QSettings(QStringLiteral("/etc/coffer/helper.conf"), QSettings::IniFormat)
            .value(QStringLiteral("helper/LogFile"))
            .toString();
    }();
    if (!logFile.isEmpty()) {
        QFile file(logFile);
        if (file.open(QIODevice::Append))
            file.write(text);
    }
}

Manager::Manager(const QDBusConnection &bus, Authority *authority, RuntimeState *state, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_authority(authority)
    , m_state(state)
{
    connect(&m_idleTimer, &QTimer::timeout, this, &Manager::checkIdle);
}

Manager::~Manager() = default;

bool Manager::registerOnBus()
{
    return m_bus.registerObject(QString::fromLatin1(Helper1::ManagerPath), this,
                                QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals);
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
    for (const Job *job : m_jobs) {
        if (!job->finished())
            return false;
    }
    return true;
}

void Manager::checkIdle()
{
    m_idleSeconds = isIdle() ? m_idleSeconds + 1 : 0;
    if (m_idleLimit > 0 && m_idleSeconds >= m_idleLimit) {
        log(QStringLiteral("idle for %1 s, exiting").arg(m_idleLimit));
        QCoreApplication::quit();
    }
}

// ---- the top of every handler ------------------------------------------------------------

Manager::ActionFor Manager::ownAction(const QString &action, uid_t owner)
{
    return [action, owner](uid_t caller) { return caller == owner ? action : ActionOthers; };
}

void Manager::authorize(const QDBusMessage &msg, const ActionFor &actionFor, Work work)
{
    ++m_inflight;
    Caller caller;
    caller.message = msg;
    caller.sender = msg.service();
    const QDBusReply<uint> uid = m_bus.interface()->serviceUid(caller.sender);
    if (!uid.isValid()) {
        --m_inflight;
        log(QStringLiteral("%1 from %2 refused: cannot tell who is calling (gone already?)")
                .arg(msg.member(), caller.sender));
        sendError(msg, Error(ErrorCode::NotAuthorized, "Cannot tell who is calling."));
        return;
    }
    caller.uid = uid.value();
    const QString action = actionFor(caller.uid);
    m_authority->check(action, caller.sender,
                       [this, caller, action, work = std::move(work)](bool allowed, const QString &why) {
        --m_inflight;
        if (!allowed) {
            log(QStringLiteral("uid %1: %2 %3 denied (%4)")
                    .arg(caller.uid).arg(action, caller.message.member(), why));
            sendError(caller.message,
                      Error(ErrorCode::NotAuthorized,
                            ("Not authorized to " + caller.message.member() + " (" + action + "): " + why)
                                .toStdString()));
            return;
        }
        // A caller that went away while polkit was deciding gets nothing done.
        if (!m_bus.interface()->isServiceRegistered(caller.sender).value()) {
            log(QStringLiteral("uid %1: %2 dropped, the caller disconnected").arg(caller.uid).arg(caller.message.member()));
            return;
        }
        try {
            work(caller);
        } catch (const Error &e) {
            log(QStringLiteral("uid %1: %2 refused: %3").arg(caller.uid).arg(caller.message.member(),
                                                                              QString::fromStdString(e.message())));
            sendError(caller.message, e);
        } catch (const std::exception &e) {
            sendError(caller.message, Error(ErrorCode::Failed, e.what()));
        }
    });
}

void Manager::runWorker(std::function<void()> work, std::function<void(std::optional<Error>)> done)
{
    ++m_inflight;
    std::thread([this, work = std::move(work), done = std::move(done)]() mutable {
        std::optional<Error> error;
        try {
            work();
        } catch (const Error &e) {
            error = e;
        } catch (const std::exception &e) {
            error = Error(ErrorCode::Failed, e.what());
        }
        QMetaObject::invokeMethod(
            this,
            [this, done = std::move(done), error]() {
                --m_inflight;
                done(error);
            },
            Qt::QueuedConnection);
    }).detach();
}

std::function<void(std::optional<Error>)> Manager::replyWhenDone(QPointer<VaultObject> vault,
                                                                 const Caller &caller)
{
    return [this, vault, caller](std::optional<Error> error) {
        if (vault)
            vault->busyWith.clear();
        if (error)
            sendError(caller.message, *error);
        else
            sendReply(caller.message);
    };
}

void Manager::sendReply(const QDBusMessage &msg, const QList<QVariant> &args)
{
    m_bus.send(msg.createReply(args));
}

void Manager::sendError(const QDBusMessage &msg, const Error &error)
{
    m_bus.send(DBusErrors::errorReply(msg, error));
}

// ---- bookkeeping ----------------------------------------------------------------------------

int Manager::openVaultsOf(uid_t uid) const
{
    int n = 0;
    for (const auto &[id, vault] : m_vaults)
        n += vault->owner() == uid ? 1 : 0;
    return n;
}

int Manager::runningJobsOf(uid_t uid) const
{
    int n = 0;
    for (const Job *job : m_jobs)
        n += (!job->finished() && job->startedByUid() == uid) ? 1 : 0;
    return n;
}

VaultObject *Manager::vaultByBacking(const FileId &id) const
{
    for (const auto &[uuid, vault] : m_vaults) {
        if (vault->backing() == id)
            return vault;
    }
    return nullptr;
}

void Manager::checkFileFree(const FileId &id) const
{
    if (m_filesInUse.count(id))
        throw Error(ErrorCode::Busy, "Another operation is working on this vault file right now.");
    if (vaultByBacking(id))
        throw Error(ErrorCode::Busy, "This vault file is already unlocked.");
}

Job *Manager::newJob(const QString &operation, const QString &actionId, uid_t startedBy, uid_t owner,
                     bool cancelable)
{
    if (runningJobsOf(startedBy) >= Limits::maxJobsPerUser)
        throw Error(ErrorCode::Busy, "Too many operations are running for you; wait for one to finish.");
    auto *job = new Job(this, m_nextJob++, operation, actionId, startedBy, owner, cancelable);
    if (!m_bus.registerObject(job->path(), job,
                              QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals
                                  | QDBusConnection::ExportAllProperties)) {
        delete job;
        throw Error(ErrorCode::Failed, "Cannot publish the job on the bus.");
    }
    m_jobs.insert(job->path(), job);
    return job;
}

void Manager::finishJob(Job *job, const std::optional<Error> &error, Helper1::JobOutcome success,
                        const QString &note, const QVariantMap &result)
{
    job->finish(error, success, note, result);
    log(QStringLiteral("%1 %2 finished: %3").arg(job->operation(), job->path(),
        error ? QString::fromStdString(error->message()) : QStringLiteral("ok")));
    // Keep it a while for clients that ask after the signal went out (it does not keep the
    // helper from exiting when idle).
    QTimer::singleShot(5 * 60 * 1000, this, [this, job] {
        m_bus.unregisterObject(job->path());
        m_jobs.remove(job->path());
        job->deleteLater();
    });
}

VaultObject *Manager::addVault(const Vault::OpenVault &open, uid_t owner, const FileId &backing,
                               const std::string &name, UniqueFd backingFd)
{
    auto *vault = new VaultObject(this, open, owner, backing, name, std::move(backingFd));
    m_bus.registerObject(vault->path(), vault,
                         QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllProperties);
    m_vaults[open.luksUuid] = vault;
    emit VaultAdded(QDBusObjectPath(vault->path()));
    return vault;
}

void Manager::removeVault(VaultObject *vault, const QString &reason)
{
    const QString path = vault->path();
    m_state->remove(vault->open().luksUuid);
    m_state->removeMountPoint(vault->open().mountPoint);
    m_bus.unregisterObject(path);
    m_vaults.erase(vault->open().luksUuid);
    vault->deleteLater();
    emit VaultRemoved(QDBusObjectPath(path), reason);
}

void Manager::closeVault(VaultObject *vault, bool force, std::function<void(std::optional<Error>)> done)
{
    vault->busyWith = QStringLiteral("lock");
    const Vault::OpenVault open = vault->open();
    runWorker(
        [open, force] {
            Vault::CloseOptions options;
            options.force = force;
            Vault::close(open, options);
        },
        [this, vault, done = std::move(done)](std::optional<Error> error) {
            vault->busyWith.clear();
            if (!error) {
                log(QStringLiteral("locked %1").arg(vault->path()));
                removeVault(vault, QStringLiteral("locked"));
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
        log(QStringLiteral("cannot list open vaults: %1").arg(QString::fromStdString(e.message())));
    }
    for (const Vault::OpenVault &v : open) {
        auto record = std::find_if(records.begin(), records.end(),
                                   [&](const StateRecord &r) { return r.luksUuid == v.luksUuid; });
        const bool adopt = record != records.end() && record->open && !v.mountPoint.empty()
                           && v.mountPoint == record->mountPoint;
        if (adopt) {
            Vault::OpenVault adopted = v;
            addVault(adopted, record->uid, record->backing, record->name, UniqueFd());
            log(QStringLiteral("adopted %1 (uid %2) at %3")
                    .arg(QString::fromStdString(v.luksUuid)).arg(record->uid)
                    .arg(QString::fromStdString(v.mountPoint)));
            records.erase(record);
            continue;
        }
        // Half attached by a helper that died, or not ours to keep: tear it down.
        log(QStringLiteral("cleaning up stale mapping %1").arg(QString::fromStdString(v.mapperName)));
        try {
            Vault::CloseOptions options;
            options.force = true;
            options.lazy = true;
            Vault::close(v, options);
        } catch (const Error &e) {
            log(QStringLiteral("cannot clean up %1: %2")
                    .arg(QString::fromStdString(v.mapperName), QString::fromStdString(e.message())));
        }
        if (record != records.end()) {
            m_state->removeMountPoint(record->mountPoint);
            m_state->remove(record->luksUuid);
            records.erase(record);
        }
    }
    // Records of vaults the kernel no longer has.
    for (const StateRecord &r : records) {
        log(QStringLiteral("forgetting stale record %1").arg(QString::fromStdString(r.luksUuid)));
        m_state->removeMountPoint(r.mountPoint);
        m_state->remove(r.luksUuid);
    }
}

// ---- Manager methods ---------------------------------------------------------------------------

QDBusObjectPath Manager::CreateVault(const QDBusUnixFileDescriptor &backing, qulonglong size,
                                     const QDBusUnixFileDescriptor &passphrase, const QVariantMap &options)
{
    setDelayedReply(true);
    authorize(message(), [](uid_t) { return ActionCreate; },
              [this, backing, size, passphrase, options](const Caller &caller) {
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
        auto secret = std::make_shared<SecretBuffer>(
            readSecret(fdOf(passphrase, "passphrase"), Limits::maxPassphraseBytes));
        if (secret->empty())
            throw Error(ErrorCode::InvalidArgument, "The passphrase is empty.");
        std::shared_ptr<SecretBuffer> keyFile;
        if (request.keyFile.isValid()) {
            keyFile = std::make_shared<SecretBuffer>(
                readSecret(request.keyFile.fileDescriptor(), Limits::maxKeyFileBytes));
            if (keyFile->empty())
                throw Error(ErrorCode::InvalidArgument, "The key file is empty.");
        }
        auto backingFd = std::make_shared<UniqueFd>(dupFd(fd));

        Job *job = newJob(QStringLiteral("create"), ActionCreate, caller.uid, caller.uid, false);
        m_filesInUse.insert(file.id);
        log(QStringLiteral("uid %1: creating vault \"%2\" of %3 bytes (%4)")
                .arg(caller.uid).arg(name).arg(size).arg(job->path()));
        sendReply(caller.message, {QVariant::fromValue(QDBusObjectPath(job->path()))});
        runWorker(
            [backingFd, size, secret, keyFile, create]() mutable {
                if (keyFile)
                    create.keyFile = keyFile.get();
                Vault::create(backingFd->get(), size, *secret, create);
            },
            [this, job, id = file.id](std::optional<Error> error) {
                m_filesInUse.erase(id);
                job->setProgress({1.0, 0, 0, 0, 0, {}, {}}, true);
                finishJob(job, error);
            });
    });
    return {};
}

QDBusObjectPath Manager::Unlock(const QDBusUnixFileDescriptor &backing,
                                const QDBusUnixFileDescriptor &passphrase, const QVariantMap &options,
                                QString &mount_point)
{
    Q_UNUSED(mount_point);
    setDelayedReply(true);
    authorize(message(), [](uid_t) { return ActionUnlock; },
              [this, backing, passphrase, options](const Caller &caller) {
        Vault::OpenOptions open;
        open.readOnly = Helper1::decodeUnlockOptions(options).readOnly;
        const int fd = fdOf(backing, "backing file");
        const BackingFile file = checkBackingFd(fd, caller.uid, BackingUse::Open);
        checkFileFree(file.id);
        if (openVaultsOf(caller.uid) >= Limits::maxOpenVaultsPerUser)
            throw Error(ErrorCode::Busy, "You have too many vaults open; lock one first.");
        auto secret = std::make_shared<SecretBuffer>(
            readSecret(fdOf(passphrase, "passphrase"), Limits::maxKeyFileBytes));
        auto backingFd = std::make_shared<UniqueFd>(dupFd(fd));
        m_filesInUse.insert(file.id);

        struct Outcome
        {
            Vault::OpenVault vault;
            std::string name;
        };
        auto outcome = std::make_shared<Outcome>();
        RuntimeState *state = m_state;
        const uid_t uid = caller.uid;
        // Names of this user's open vaults, to keep mount points apart.
        runWorker(
            [state, uid, backingFd, secret, open, outcome, file] {
                const Vault::HeaderInfo header = Vault::headerInfo(backingFd->get());
                std::string headerName = header.label;
                if (headerName.rfind("coffer:", 0) == 0)
                    headerName = headerName.substr(7);
                outcome->name = mountNameFor(headerName, header.luksUuid);
                const std::string mountPoint = state->makeMountPoint(uid, outcome->name);
                StateRecord record{header.luksUuid, uid, outcome->name, mountPoint, file.id, false};
                try {
                    state->save(record);
                    outcome->vault = Vault::open(backingFd->get(), *secret, mountPoint, open);
                    secret->wipe();
                    record.open = true;
                    state->save(record);
                } catch (...) {
                    state->remove(header.luksUuid);
                    state->removeMountPoint(mountPoint);
                    throw;
                }
            },
            [this, caller, backingFd, outcome, file](std::optional<Error> error) {
                m_filesInUse.erase(file.id);
                if (error) {
                    log(QStringLiteral("uid %1: unlock failed: %2")
                            .arg(caller.uid).arg(QString::fromStdString(error->message())));
                    sendError(caller.message, *error);
                    return;
                }
                VaultObject *vault = addVault(outcome->vault, caller.uid, file.id, outcome->name,
                                              std::move(*backingFd));
                log(QStringLiteral("uid %1: unlocked %2 at %3")
                        .arg(caller.uid).arg(vault->path(), vault->mountPoint()));
                sendReply(caller.message, {QVariant::fromValue(QDBusObjectPath(vault->path())),
                                           vault->mountPoint()});
            });
    });
    return {};
}

QList<QDBusObjectPath> Manager::ListVaults()
{
    setDelayedReply(true);
    authorize(message(), [](uid_t) { return ActionUnlock; }, [this](const Caller &caller) {
        QList<QDBusObjectPath> list;
        for (const auto &[id, vault] : m_vaults) {
            if (vault->owner() == caller.uid)
                list.append(QDBusObjectPath(vault->path()));
        }
        sendReply(caller.message, {QVariant::fromValue(list)});
    });
    return {};
}

void Manager::LockAll()
{
    setDelayedReply(true);
    authorize(message(), [](uid_t) { return ActionLock; }, [this](const Caller &caller) {
        std::vector<VaultObject *> mine;
        for (const auto &[id, vault] : m_vaults) {
            if (vault->owner() == caller.uid) {
                if (!vault->busyWith.isEmpty())
                    throw Error(ErrorCode::Busy, (vault->name() + QStringLiteral(" is busy with ")
                                                  + vault->busyWith).toStdString());
                mine.push_back(vault);
            }
        }
        if (mine.empty()) {
            sendReply(caller.message);
            return;
        }
        struct State
        {
            int left = 0;
            std::optional<Error> first;
        };
        auto st = std::make_shared<State>();
        st->left = int(mine.size());
        for (VaultObject *vault : mine) {
            closeVault(vault, false, [this, st, caller](std::optional<Error> error) {
                if (error && !st->first)
                    st->first = error;
                if (--st->left == 0) {
                    if (st->first)
                        sendError(caller.message, *st->first);
                    else
                        sendReply(caller.message);
                }
            });
        }
    });
}

// ---- Vault methods ------------------------------------------------------------------------------

void Manager::vaultLock(VaultObject *vault, const QDBusMessage &msg, const QVariantMap &options)
{
    QPointer<VaultObject> guard(vault);
    authorize(msg, ownAction(ActionLock, vault->owner()), [this, guard, options](const Caller &caller) {
        if (!guard)
            throw Error(ErrorCode::NotFound, "The vault is no longer open.");
        const bool force = Helper1::decodeLockOptions(options).force;
        if (!guard->busyWith.isEmpty())
            throw Error(ErrorCode::Busy, ("The vault is busy with " + guard->busyWith
                                          + "; wait for it or cancel it first.").toStdString());
        log(QStringLiteral("uid %1: locking %2%3").arg(caller.uid).arg(guard->path(),
                                                        force ? QStringLiteral(" (force)") : QString()));
        closeVault(guard, force, [this, caller](std::optional<Error> error) {
            if (error)
                sendError(caller.message, *error);
            else
                sendReply(caller.message);
        });
    });
}

void Manager::vaultSync(VaultObject *vault, const QDBusMessage &msg, const QStringList &sources,
                        const QVariantMap &options)
{
    QPointer<VaultObject> guard(vault);
    authorize(msg, ownAction(ActionSync, vault->owner()), [this, guard, sources, options](const Caller &caller) {
        if (!guard)
            throw Error(ErrorCode::NotFound, "The vault is no longer open.");
        const Helper1::SyncOptions request = Helper1::decodeSyncOptions(options);
        Sync::Options sync;
        for (const std::string &path : checkSources(sources)) {
            Sync::Source source;
            source.path = path;
            source.name = path.substr(path.rfind('/') + 1);
            sync.sources.push_back(source);
        }
        sync.destination = guard->open().mountPoint;
        sync.mode = request.mode;
        sync.excludes = request.excludes;
        sync.checksum = request.checksum;
        sync.dryRun = request.dryRun;
        sync.retention = request.retention;
        const bool lockAfter = request.lockAfter;
        if (!guard->busyWith.isEmpty())
            throw Error(ErrorCode::Busy, ("The vault is busy with " + guard->busyWith + ".").toStdString());

        // The child runs as the caller, even when an administrator syncs another user's vault:
        // it reads with the caller's rights and writes into the vault with them.
        const Credentials credentials = credentialsFor(caller.uid);
        if (credentials.uid == 0)
            throw Error(ErrorCode::NotSupported, "Syncing as root is not supported; sync as the vault's owner.");
        Job *job = newJob(QStringLiteral("sync"), ActionSync, caller.uid, guard->owner(), true);
        SyncChild child = startSyncChild(credentials, sync);
        guard->busyWith = QStringLiteral("sync");
        log(QStringLiteral("uid %1: sync into %2 (%3, child %4)")
                .arg(caller.uid).arg(guard->path(), job->path()).arg(child.pid));
        sendReply(caller.message, {QVariant::fromValue(QDBusObjectPath(job->path()))});

        const pid_t pid = child.pid;
        job->onCancel = [pid] { kill(pid, SIGTERM); };
        struct Reader
        {
            UniqueFd fd;
            QByteArray pending;
            std::optional<Error> error;
            Helper1::JobOutcome outcome = Helper1::JobOutcome::Ok;
            QString note;
            QVariantMap result;
            bool gotResult = false;
            QSocketNotifier *notifier = nullptr;
        };
        auto reader = std::make_shared<Reader>();
        reader->fd = std::move(child.output);
        ++m_inflight;
        reader->notifier = new QSocketNotifier(reader->fd.get(), QSocketNotifier::Read, this);
        connect(reader->notifier, &QSocketNotifier::activated, this,
                [this, reader, job, pid, guard, lockAfter]() {
            char buf[65536];
            const ssize_t n = read(reader->fd.get(), buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
            if (n > 0) {
                reader->pending.append(buf, n);
                qsizetype nl;
                while ((nl = reader->pending.indexOf('\n')) >= 0) {
                    const QByteArray line = reader->pending.left(nl + 1);
                    reader->pending.remove(0, nl + 1);
                    try {
                        const Sync::Message message = Sync::parseJsonLine(
                            std::string_view(line.constData(), size_t(line.size())));
                        if (const auto *p = std::get_if<Sync::Progress>(&message)) {
                            Job::Update u;
                            u.bytesDone = p->bytesDone;
                            u.bytesTotal = p->bytesTotal;
                            u.filesDone = p->filesDone;
                            u.filesTotal = p->filesTotal;
                            u.currentItem = QString::fromUtf8(p->currentItem.data(), qsizetype(p->currentItem.size()));
                            u.phase = QString::fromLatin1(Sync::phaseName(p->phase));
                            const double phaseBase = p->phase == Sync::Phase::Scan ? 0.0
                                : p->phase == Sync::Phase::Copy                    ? 0.1
                                : p->phase == Sync::Phase::Delete                  ? 0.9
                                                                                   : 0.95;
                            double inPhase = 0;
                            if (p->phase == Sync::Phase::Copy && p->bytesTotal > 0)
                                inPhase = 0.8 * double(p->bytesDone) / double(p->bytesTotal);
                            else if (p->phase == Sync::Phase::Copy && p->filesTotal > 0)
                                inPhase = 0.8 * double(p->filesDone) / double(p->filesTotal);
                            u.progress = p->phase == Sync::Phase::Done ? 1.0 : phaseBase + inPhase;
                            job->setProgress(u);
                        } else if (const auto *r = std::get_if<Sync::Result>(&message)) {
                            reader->gotResult = true;
                            reader->result = Helper1::encodeSyncResult(*r);
                            if (r->outcome == Sync::Outcome::Cancelled) {
                                reader->error = Error(ErrorCode::Cancelled, "The sync was cancelled; the vault holds a consistent copy.");
                            } else if (r->outcome == Sync::Outcome::Partial) {
                                reader->outcome = Helper1::JobOutcome::Partial;
                                reader->note = QStringLiteral("partial: the sync finished, but %1 items could not be read")
                                                   .arg(qulonglong(r->warnings.size() + r->warningsDropped));
                            }
                        } else if (const auto *e = std::get_if<Sync::ErrorReport>(&message)) {
                            reader->gotResult = true;
                            reader->error = Error(e->code, e->message, e->sysErrno);
                        }
                    } catch (const Error &) {
                        // A line we cannot parse: ignore it; the exit status still counts.
                    }
                }
                return;
            }
            // EOF (or error): the child is done.
            reader->notifier->setEnabled(false);
            reader->notifier->deleteLater();
            int status = 0;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            --m_inflight;
            if (!reader->gotResult && !reader->error)
                reader->error = Error(ErrorCode::Failed, "The sync process ended without a result"
                    + std::string(WIFSIGNALED(status) ? " (killed by a signal)." : "."));
            if (guard)
                guard->busyWith.clear();
            job->setProgress({1.0, job->bytesDone(), job->bytesTotal(), job->filesDone(), job->filesTotal(), {}, job->phase()}, true);
            const std::optional<Error> error = reader->error;
            const Helper1::JobOutcome outcome = reader->outcome;
            const QString note = reader->note;
            const QVariantMap result = reader->result;
            reader->fd.reset();
            if (lockAfter && guard && (!error || error->code() == ErrorCode::Failed)) {
                closeVault(guard, false, [this, job, error, outcome, note, result](std::optional<Error> lockError) {
                    finishJob(job, error ? error : lockError, outcome, note, result);
                });
                return;
            }
            finishJob(job, error, outcome, note, result);
        });
    });
}

void Manager::vaultKeys(VaultObject *vault, const QDBusMessage &msg, KeyOp op,
                        const QDBusUnixFileDescriptor &a, const QDBusUnixFileDescriptor &b)
{
    QPointer<VaultObject> guard(vault);
    authorize(msg, ownAction(ActionKeys, vault->owner()), [this, guard, op, a, b](const Caller &caller) {
        if (!guard)
            throw Error(ErrorCode::NotFound, "The vault is no longer open.");
        if (!guard->busyWith.isEmpty())
            throw Error(ErrorCode::Busy, ("The vault is busy with " + guard->busyWith + ".").toStdString());
        std::shared_ptr<SecretBuffer> first, second;
        std::shared_ptr<UniqueFd> out;
        switch (op) {
        case KeyOp::ChangePassphrase:
        case KeyOp::AddKey:
            first = std::make_shared<SecretBuffer>(readSecret(fdOf(a, "existing secret"), Limits::maxKeyFileBytes));
            second = std::make_shared<SecretBuffer>(readSecret(fdOf(b, "new secret"), Limits::maxKeyFileBytes));
            if (second->empty())
                throw Error(ErrorCode::InvalidArgument, "The new passphrase is empty.");
            break;
        case KeyOp::RemoveKey:
            first = std::make_shared<SecretBuffer>(readSecret(fdOf(a, "secret"), Limits::maxKeyFileBytes));
            break;
        case KeyOp::BackupHeader: {
            const int fd = fdOf(a, "output file");
            checkOutputFd(fd, caller.uid, guard->backing());
            out = std::make_shared<UniqueFd>(dupFd(fd));
            break;
        }
        }
        const int headerFd = guard->headerFd();
        guard->busyWith = QStringLiteral("keys");
        runWorker(
            [op, headerFd, first, second, out] {
                switch (op) {
                case KeyOp::ChangePassphrase: Vault::changePassphrase(headerFd, *first, *second); break;
                case KeyOp::AddKey: Vault::addKey(headerFd, *first, *second); break;
                case KeyOp::RemoveKey: Vault::removeKey(headerFd, *first); break;
                case KeyOp::BackupHeader: Vault::backupHeader(headerFd, out->get()); break;
                }
            },
            replyWhenDone(guard, caller));
    });
}

void Manager::vaultResize(VaultObject *vault, const QDBusMessage &msg, qulonglong size,
                          const QDBusUnixFileDescriptor &passphrase)
{
    QPointer<VaultObject> guard(vault);
    authorize(msg, ownAction(ActionResize, vault->owner()), [this, guard, size, passphrase](const Caller &caller) {
        if (!guard)
            throw Error(ErrorCode::NotFound, "The vault is no longer open.");
        if (!guard->busyWith.isEmpty())
            throw Error(ErrorCode::Busy, ("The vault is busy with " + guard->busyWith + ".").toStdString());
        checkSize(size);
        const int headerFd = guard->headerFd();
        Vault::checkMedium(headerFd, size);
        auto secret = std::make_shared<SecretBuffer>(readSecret(fdOf(passphrase, "passphrase"), Limits::maxKeyFileBytes));
        guard->busyWith = QStringLiteral("resize");
        auto open = std::make_shared<Vault::OpenVault>(guard->open());
        runWorker(
            [headerFd, size, secret, open] { Vault::grow(headerFd, size, *secret, open.get()); },
            replyWhenDone(guard, caller));
    });
}

void Manager::jobCancel(Job *job, const QDBusMessage &msg)
{
    QPointer<Job> guard(job);
    const uid_t starter = job->startedByUid();
    // Cancel only asks; the job's Completed signal says when it stopped.
    authorize(msg, ownAction(job->actionId(), starter), [this, guard](const Caller &caller) {
        if (!guard || guard->finished())
            throw Error(ErrorCode::NotFound, "The job has already finished.");
        if (!guard->cancelable() || !guard->onCancel)
            throw Error(ErrorCode::NotSupported, "This operation cannot be cancelled.");
        log(QStringLiteral("uid %1: cancelling %2").arg(caller.uid).arg(guard->path()));
        guard->onCancel();
        sendReply(caller.message);
    });
}

} // namespace Coffer::Helper
