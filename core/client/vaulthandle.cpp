#include "client/vaulthandle.h"

#include "block/vault.h"
#include "client/calls.h"
#include "client/helperclient.h"
#include "dbus/helper1.h"
#include "dbus/helper1interface.h"

#include <QDBusObjectPath>
#include <QFileInfo>

#include <memory>
#include <unistd.h>

namespace Coffer::Client {

VaultInfo vaultInfoFrom(const QString &path, const QVariantMap &p)
{
    VaultInfo v;
    v.path = path;
    v.id = p.value(QStringLiteral("Id")).toString();
    v.name = p.value(QStringLiteral("Name")).toString();
    v.backingFile = p.value(QStringLiteral("BackingFile")).toString();
    v.mountPoint = p.value(QStringLiteral("MountPoint")).toString();
    v.loopDevice = p.value(QStringLiteral("LoopDevice")).toString();
    v.mapperDevice = p.value(QStringLiteral("MapperDevice")).toString();
    v.ownerUid = p.value(QStringLiteral("OwnerUid")).toUInt();
    v.size = p.value(QStringLiteral("Size")).toULongLong();
    v.used = p.value(QStringLiteral("Used")).toULongLong();
    v.backingDevice = p.value(QStringLiteral("BackingDevice")).toULongLong();
    v.backingInode = p.value(QStringLiteral("BackingInode")).toULongLong();
    return v;
}

VaultHandle::VaultHandle(HelperClient *client, std::string file, const FileIdentity &identity)
    : QObject(client)
    , m_client(client)
    , m_file(std::move(file))
    , m_identity(identity)
{
}

VaultHandle::~VaultHandle() = default;

FileIdentity VaultHandle::identity() const
{
    return isUnlocked() ? FileIdentity{m_info.backingDevice, m_info.backingInode} : m_identity;
}

void VaultHandle::setInfo(const VaultInfo &info)
{
    const bool wasUnlocked = isUnlocked();
    if (info.path != m_info.path) {
        delete m_proxy;
        m_proxy = new OrgCofferHelper1VaultInterface(QString::fromLatin1(Helper1::Service), info.path,
                                                     m_client->bus(), this);
        m_proxy->setTimeout(callTimeoutMs);
    }
    m_info = info;
    m_identity = identity();
    if (!wasUnlocked)
        emit unlocked();
    emit infoChanged();
}

void VaultHandle::setLocked(const QString &reason)
{
    m_info = VaultInfo();
    delete m_proxy;
    m_proxy = nullptr;
    emit locked(reason);
}

OrgCofferHelper1VaultInterface *VaultHandle::vaultObject() const
{
    m_client->requireBus();
    if (!m_proxy)
        throw Error(ErrorCode::NotFound, m_file + " is not unlocked.");
    return m_proxy;
}

Request *VaultHandle::throughHelperOrOwnFile(const std::function<QDBusPendingCall()> &viaHelper, Access access,
                                            std::function<void(int fd)> onFile)
{
    auto *request = new Request(this);
    request->start([this, request, viaHelper, access, onFile = std::move(onFile)] {
        if (isUnlocked()) {
            request->whenAnswered(viaHelper(), [request](const QDBusMessage &) { request->succeed(); });
            return;
        }
        auto backing = std::make_shared<UniqueFd>(openBackingFile(m_file, access));
        request->runInThread([backing, onFile] { onFile(backing->get()); }, [request] { request->succeed(); });
    });
    return request;
}

Request *VaultHandle::unlock(const Secret &secret, const Helper1::UnlockOptions &options)
{
    auto *request = new Request(this);
    request->start([this, request, secret, options] {
        const UniqueFd backing = openBackingFile(m_file);
        const QDBusPendingCall call = m_client->manager()->Unlock(QDBusUnixFileDescriptor(backing.get()), secret.fd(),
                                                                  Helper1::encode(options));
        request->whenAnswered(call, [this, request](const QDBusMessage &reply) {
            const QString path = reply.arguments().value(0).value<QDBusObjectPath>().path();
            m_client->readVault(request, path, [request](VaultHandle *) { request->succeed(); });
        });
    });
    return request;
}

Request *VaultHandle::lock(const Helper1::LockOptions &options)
{
    auto *request = new Request(this);
    request->start([this, request, options] {
        const QString path = m_info.path;
        request->whenAnswered(vaultObject()->Lock(Helper1::encode(options)), [this, request, path](const QDBusMessage &) {
            m_client->untrack(path, QStringLiteral("locked")); // VaultRemoved says the same
            request->succeed();
        });
    });
    return request;
}

JobHandle *VaultHandle::sync(const QStringList &sources, const Helper1::SyncOptions &options)
{
    auto *job = new JobHandle(m_client, JobHandle::Kind::Sync);
    job->start([this, sources, options] {
        QStringList absolute;
        for (const QString &source : sources)
            absolute << QFileInfo(source).absoluteFilePath();
        return vaultObject()->Sync(absolute, Helper1::encode(options));
    });
    return job;
}

Request *VaultHandle::changePassphrase(const Secret &current, const Secret &replacement)
{
    return throughHelperOrOwnFile(
        [this, current, replacement] { return vaultObject()->ChangePassphrase(current.fd(), replacement.fd()); },
        Access::ReadWrite,
        [current, replacement](int fd) { Vault::changePassphrase(fd, *current.contents(), *replacement.contents()); });
}

Request *VaultHandle::addKey(const Secret &existing, const Secret &added)
{
    return throughHelperOrOwnFile([this, existing, added] { return vaultObject()->AddKey(existing.fd(), added.fd()); },
                                  Access::ReadWrite,
                                  [existing, added](int fd) { Vault::addKey(fd, *existing.contents(), *added.contents()); });
}

Request *VaultHandle::backupHeader(const std::string &out)
{
    // The new file is made first; it goes again if the backup fails.
    std::shared_ptr<UniqueFd> outFd;
    try {
        outFd = std::make_shared<UniqueFd>(createNewFile(out));
    } catch (const Error &e) {
        auto *refused = new Request(this);
        refused->fail(e);
        return refused;
    }
    Request *request = throughHelperOrOwnFile(
        [this, outFd] { return vaultObject()->BackupHeader(QDBusUnixFileDescriptor(outFd->get())); }, Access::ReadOnly,
        [outFd](int fd) { Vault::backupHeader(fd, outFd->get()); });
    connect(request, &Request::finished, this, [out](const std::optional<Error> &error) {
        if (error)
            ::unlink(out.c_str());
    });
    return request;
}

Request *VaultHandle::resize(uint64_t size, const Secret &passphrase)
{
    auto *request = new Request(this);
    if (isUnlocked()) {
        request->start([this, request, size, passphrase] {
            request->whenAnswered(vaultObject()->Resize(size, passphrase.fd()),
                                  [request](const QDBusMessage &) { request->succeed(); });
        });
        return request;
    }
    // Growing needs the vault attached: unlock it for the resize, then lock it again, whatever
    // the resize came to (its error is the one that counts).
    const auto lockAgain = [this, request](const std::optional<Error> &resizeError) {
        connect(lock(), &Request::finished, request, [request, resizeError](const std::optional<Error> &lockError) {
            if (resizeError || lockError)
                request->fail(resizeError ? *resizeError : *lockError);
            else
                request->succeed();
        });
    };
    connect(unlock(passphrase), &Request::finished, request,
            [this, request, size, passphrase, lockAgain](const std::optional<Error> &unlockError) {
        if (unlockError) {
            request->fail(*unlockError);
            return;
        }
        try {
            whenAnswered(request, vaultObject()->Resize(size, passphrase.fd()),
                         [lockAgain](const std::optional<Error> &error, const QDBusMessage &) { lockAgain(error); });
        } catch (const Error &e) {
            lockAgain(e);
        }
    });
    return request;
}

} // namespace Coffer::Client
