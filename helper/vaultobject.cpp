#include "vaultobject.h"

#include "actions.h"
#include "dbus/helper1.h"
#include "dbus/options.h"
#include "job.h"
#include "log.h"
#include "manager.h"
#include "syncjob.h"

#include <QDBusArgument>
#include <QDBusMetaType>
#include <QTimer>

#include <fcntl.h>
#include <sys/statvfs.h>

namespace Coffer::Helper {

namespace {

VaultObject *stillOpen(const QPointer<VaultObject> &vault)
{
    if (!vault)
        throw Error(ErrorCode::NotFound, "The vault is no longer open.");
    return vault;
}

} // namespace

VaultClaim::VaultClaim(VaultObject *vault)
    : m_vault(vault)
{
}

VaultClaim::~VaultClaim()
{
    if (m_vault)
        m_vault->m_busyWith.clear();
}

VaultObject::VaultObject(Manager *manager, const QString &path, const Vault::OpenVault &open, uid_t owner,
                         const FileId &backing, const std::string &name, UniqueFd backingFd, bool lockOnSuspend)
    : ExportedObject(manager)
    , m_manager(manager)
    , m_path(path)
    , m_open(open)
    , m_owner(owner)
    , m_backing(backing)
    , m_name(name)
    , m_backingFd(std::move(backingFd))
    , m_lockOnSuspend(lockOnSuspend)
{
}

QString VaultObject::interfaceName() const
{
    return QString::fromLatin1(Helper1::VaultInterface);
}

const std::vector<Method<VaultObject>> &VaultObject::methods()
{
    static const std::vector<Method<VaultObject>> methods{
        {{"Lock", "a{sv}"}, &VaultObject::lock},
        {{"Sync", "asa{sv}"}, &VaultObject::sync},
        {{"ChangePassphrase", "hh"}, &VaultObject::changePassphrase},
        {{"AddKey", "hh"}, &VaultObject::addKey},
        {{"RemoveKey", "h"}, &VaultObject::removeKey},
        {{"BackupHeader", "h"}, &VaultObject::backupHeader},
        {{"Resize", "th"}, &VaultObject::resize},
    };
    return methods;
}

void VaultObject::call(const QDBusMessage &message)
{
    dispatch(this, methods(), message, m_manager->bus());
}

qulonglong VaultObject::size() const
{
    struct statvfs st {};
    if (statvfs(m_open.mountPoint.c_str(), &st) == 0)
        return qulonglong(st.f_blocks) * st.f_frsize;
    return m_open.size;
}

qulonglong VaultObject::used() const
{
    struct statvfs st {};
    if (statvfs(m_open.mountPoint.c_str(), &st) == 0)
        return qulonglong(st.f_blocks - st.f_bfree) * st.f_frsize;
    return m_open.used;
}

std::shared_ptr<VaultClaim> VaultObject::claim(const QString &operation)
{
    if (*m_gone)
        throw Error(ErrorCode::MediumGone, (name() + QStringLiteral(" is gone: the drive holding it was removed.")).toStdString());
    if (!m_busyWith.isEmpty())
        throw Error(ErrorCode::Busy, (name() + QStringLiteral(" is busy with ") + m_busyWith
                                      + QStringLiteral("; wait for it or cancel it first.")).toStdString());
    m_busyWith = operation;
    return std::shared_ptr<VaultClaim>(new VaultClaim(this));
}

void VaultObject::mediumGone()
{
    *m_gone = true;
    if (!m_sync)
        return;
    m_sync->cancel();
    // A child stuck on a dead device's I/O may not get to its SIGTERM handler.
    QTimer::singleShot(5000, m_sync.data(), [sync = m_sync] {
        if (sync)
            sync->kill();
    });
}

std::shared_ptr<UniqueFd> VaultObject::headerFd() const
{
    if (m_backingFd)
        return std::make_shared<UniqueFd>(keepFd(m_backingFd.get()));
    // Adopted after a restart: the loop device is the backing file's bytes. Our own device
    // node, not a path a caller chose.
    UniqueFd fd(::open(m_open.loopDevice.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd)
        throw Error::fromErrno(ErrorCode::MediumGone, errno, "Cannot reach the vault's loop device");
    return std::make_shared<UniqueFd>(std::move(fd));
}

void VaultObject::lock(const QDBusMessage &message)
{
    const QVariantMap options = qdbus_cast<QVariantMap>(message.arguments().value(0));
    QPointer<VaultObject> self(this);
    m_manager->authorize(message, Manager::ownAction(Action::Lock, m_owner), [self, options](const Manager::Caller &caller) {
        VaultObject *vault = stillOpen(self);
        const bool force = Helper1::decodeLockOptions(options).force;
        auto claim = vault->claim(QStringLiteral("lock"));
        Log::write(QStringLiteral("uid %1: locking %2%3").arg(caller.uid).arg(vault->path(),
                                                                force ? QStringLiteral(" (force)") : QString()));
        vault->m_manager->closeVault(vault, claim, force, vault->m_manager->replyWhenDone(caller.message));
    });
}

void VaultObject::sync(const QDBusMessage &message)
{
    const QStringList sources = qdbus_cast<QStringList>(message.arguments().value(0));
    const QVariantMap options = qdbus_cast<QVariantMap>(message.arguments().value(1));
    QPointer<VaultObject> self(this);
    m_manager->authorize(message, Manager::ownAction(Action::Sync, m_owner), [self, sources, options](const Manager::Caller &caller) {
        VaultObject *vault = stillOpen(self);
        Manager *manager = vault->m_manager;
        const Helper1::SyncOptions request = Helper1::decodeSyncOptions(options);
        Sync::Options sync;
        for (const std::string &path : checkSources(sources)) {
            Sync::Source source;
            source.path = path;
            source.name = path.substr(path.rfind('/') + 1);
            sync.sources.push_back(source);
        }
        sync.destination = vault->m_open.mountPoint;
        sync.mode = request.mode;
        sync.excludes = request.excludes;
        sync.checksum = request.checksum;
        sync.dryRun = request.dryRun;
        sync.retention = request.retention;
        const bool lockAfter = request.lockAfter;
        auto claim = vault->claim(QStringLiteral("sync"));

        // The child runs as the vault's owner, also when an administrator syncs another user's
        // vault: the vault's top folder is the owner's alone (0700), and what goes in is read
        // with the owner's rights.
        const Credentials credentials = credentialsFor(vault->m_owner);
        if (credentials.uid == 0)
            throw Error(ErrorCode::NotSupported, "Syncing as root is not supported; sync as the vault's owner.");
        manager->checkJobRoom(caller.uid);
        auto child = std::make_unique<SyncJob>(manager->settings().syncProgram, credentials, sync);
        Job *job = manager->newJob(QStringLiteral("sync"), Action::Sync, caller.uid, vault->m_owner, true);
        SyncJob *running = child.release();
        running->setParent(job);
        Log::write(QStringLiteral("uid %1: sync into %2 (%3, child %4)")
                       .arg(caller.uid).arg(vault->path(), job->path()).arg(running->pid()));
        manager->reply(caller.message, {QVariant::fromValue(QDBusObjectPath(job->path()))});

        job->onCancel = [child = QPointer<SyncJob>(running)] {
            if (child)
                child->cancel();
        };
        vault->m_sync = running;
        running->onProgress = [job](const Job::Update &u) { job->setProgress(u); };
        running->onFinished = [manager, job, self, claim, lockAfter, running,
                               gone = vault->m_gone](const Job::Completion &done) mutable {
            claim.reset();
            running->deleteLater();
            job->setProgress({1.0, job->bytesDone(), job->bytesTotal(), job->filesDone(), job->filesTotal(), {}, job->phase()}, true);
            if (*gone) {
                Job::Completion completion = done;
                completion.error = Error(ErrorCode::MediumGone,
                                         "The drive holding the vault was removed during the sync. Plug it back "
                                         "in: what the last completed sync wrote is intact; sync again.");
                manager->finishJob(job, completion);
                return;
            }
            // lock-after also after a failure, not after a cancel.
            if (lockAfter && self && (!done.error || done.error->code() == ErrorCode::Failed)) {
                try {
                    manager->closeVault(self, self->claim(QStringLiteral("lock")), false,
                                        [manager, job, done](std::optional<Error> lockError) {
                        Job::Completion completion = done;
                        if (!completion.error)
                            completion.error = lockError;
                        manager->finishJob(job, completion);
                    });
                    return;
                } catch (const Error &busy) {
                    Job::Completion completion = done;
                    if (!completion.error)
                        completion.error = busy;
                    manager->finishJob(job, completion);
                    return;
                }
            }
            manager->finishJob(job, done);
        };
    });
}

void VaultObject::keys(const QDBusMessage &message, KeyOp op)
{
    const QDBusUnixFileDescriptor first = fdArgument(message, 0);
    const QDBusUnixFileDescriptor second = fdArgument(message, 1);
    QPointer<VaultObject> self(this);
    m_manager->authorize(message, Manager::ownAction(Action::ManageKeys, m_owner), [self, op, first, second](const Manager::Caller &caller) {
        VaultObject *vault = stillOpen(self);
        std::shared_ptr<UniqueFd> out;
        switch (op) {
        case KeyOp::ChangePassphrase:
        case KeyOp::AddKey:
            fdOf(first, "existing secret");
            fdOf(second, "new secret");
            break;
        case KeyOp::RemoveKey:
            fdOf(first, "secret");
            break;
        case KeyOp::BackupHeader: {
            const int fd = fdOf(first, "output file");
            checkOutputFd(fd, caller.uid, vault->m_backing);
            out = std::make_shared<UniqueFd>(keepFd(fd));
            break;
        }
        }
        auto claim = vault->claim(QStringLiteral("keys"));
        const std::shared_ptr<UniqueFd> header = vault->headerFd();
        // The secrets are read on the worker: a pipe left open keeps a worker waiting, never the
        // event loop.
        vault->m_manager->runWorker(
            caller.uid,
            [op, header, first, second, out] {
                switch (op) {
                case KeyOp::ChangePassphrase:
                case KeyOp::AddKey: {
                    const SecretBuffer existing = readSecret(fdOf(first, "existing secret"), Limits::maxKeyFileBytes);
                    const SecretBuffer added = readSecret(fdOf(second, "new secret"), Limits::maxKeyFileBytes);
                    if (added.empty())
                        throw Error(ErrorCode::InvalidArgument, "The new passphrase is empty.");
                    if (op == KeyOp::AddKey)
                        Vault::addKey(header->get(), existing, added);
                    else
                        Vault::changePassphrase(header->get(), existing, added);
                    break;
                }
                case KeyOp::RemoveKey:
                    Vault::removeKey(header->get(), readSecret(fdOf(first, "secret"), Limits::maxKeyFileBytes));
                    break;
                case KeyOp::BackupHeader:
                    Vault::backupHeader(header->get(), out->get());
                    break;
                }
            },
            [claim, done = vault->m_manager->replyWhenDone(caller.message)](std::optional<Error> error) { done(error); });
    });
}

void VaultObject::resize(const QDBusMessage &message)
{
    const qulonglong size = message.arguments().value(0).toULongLong();
    const QDBusUnixFileDescriptor passphrase = fdArgument(message, 1);
    QPointer<VaultObject> self(this);
    m_manager->authorize(message, Manager::ownAction(Action::Resize, m_owner), [self, size, passphrase](const Manager::Caller &caller) {
        VaultObject *vault = stillOpen(self);
        checkSize(size);
        fdOf(passphrase, "passphrase");
        const std::shared_ptr<UniqueFd> header = vault->headerFd();
        Vault::checkMedium(header->get(), size);
        auto claim = vault->claim(QStringLiteral("resize"));
        auto open = std::make_shared<Vault::OpenVault>(vault->m_open);
        vault->m_manager->runWorker(
            caller.uid,
            [header, size, passphrase, open] {
                const SecretBuffer secret = readSecret(fdOf(passphrase, "passphrase"), Limits::maxKeyFileBytes);
                Vault::grow(header->get(), size, secret, open.get());
            },
            [claim, done = vault->m_manager->replyWhenDone(caller.message)](std::optional<Error> error) { done(error); });
    });
}

} // namespace Coffer::Helper
