#include "client/helperclient.h"

#include "client/calls.h"
#include "client/userfiles.h"
#include "dbus/helper1.h"
#include "dbus/helper1interface.h"

#include <QDBusArgument>
#include <QDBusConnectionInterface>
#include <QDBusObjectPath>
#include <QDBusReply>
#include <QDBusServiceWatcher>

#include <memory>
#include <set>
#include <unistd.h>

namespace Coffer::Client {

namespace {
const QString Service = QString::fromLatin1(Helper1::Service);
} // namespace

HelperClient::HelperClient(QObject *parent)
    : HelperClient(QDBusConnection::systemBus(), parent)
{
}

HelperClient::HelperClient(const QDBusConnection &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_manager(new OrgCofferHelper1ManagerInterface(Service, QString::fromLatin1(Helper1::ManagerPath), m_bus, this))
{
    // Before the first connect: QtDBus relays a signal only if the metatypes of its arguments
    // are registered when it is connected, and says nothing otherwise (VaultAdded(o) never
    // arrived in a process that had not used QDBusObjectPath before).
    qRegisterMetaType<QDBusObjectPath>();
    qRegisterMetaType<JobProgress>();
    qRegisterMetaType<JobResult>();
    Helper1::registerOptionTypes();
    m_manager->setTimeout(callTimeoutMs);
    connect(m_manager, &OrgCofferHelper1ManagerInterface::VaultAdded, this, &HelperClient::onVaultAdded);
    connect(m_manager, &OrgCofferHelper1ManagerInterface::VaultRemoved, this, &HelperClient::onVaultRemoved);
    connect(m_manager, &OrgCofferHelper1ManagerInterface::LockFailed, this, &HelperClient::onLockFailed);
    connect(m_manager, &OrgCofferHelper1ManagerInterface::MediaAdded, this, &HelperClient::mediaAdded);
    connect(m_manager, &OrgCofferHelper1ManagerInterface::MediaRemoved, this, &HelperClient::mediaRemoved);

    // The helper comes and goes (D-Bus activation, idle exit, a crash): watch its name, then ask
    // whether it runs now (the answer reflects every change signalled before it).
    auto *watcher = new QDBusServiceWatcher(Service, m_bus, QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(watcher, &QDBusServiceWatcher::serviceOwnerChanged, this,
            [this](const QString &, const QString &oldOwner, const QString &newOwner) {
        if (!oldOwner.isEmpty())
            setHelperRunning(false);
        if (!newOwner.isEmpty())
            setHelperRunning(true);
    });
    if (m_bus.isConnected() && m_bus.interface()) {
        whenAnswered(this, m_bus.interface()->asyncCall(QStringLiteral("NameHasOwner"), Service),
                     [this](const std::optional<Error> &error, const QDBusMessage &reply) {
            if (!error)
                setHelperRunning(QDBusReply<bool>(reply).value());
        });
    }
}

HelperClient::~HelperClient() = default;

void HelperClient::setHelperRunning(bool running)
{
    if (running == m_helperRunning)
        return;
    m_helperRunning = running;
    if (running)
        emit helperAppeared();
    else
        emit helperVanished();
}

void HelperClient::requireBus() const
{
    if (!m_bus.isConnected())
        throw Error(ErrorCode::NotFound, "Cannot reach the system bus: " + m_bus.lastError().message().toStdString());
}

OrgCofferHelper1ManagerInterface *HelperClient::manager() const
{
    requireBus();
    return m_manager;
}

QList<VaultHandle *> HelperClient::vaults() const
{
    QList<VaultHandle *> open;
    for (VaultHandle *handle : m_handles) {
        if (handle->isUnlocked())
            open.append(handle);
    }
    return open;
}

// ---- tracking the user's vaults ----------------------------------------------------------------

VaultHandle *HelperClient::track(const VaultInfo &info)
{
    const FileIdentity identity{info.backingDevice, info.backingInode};
    VaultHandle *handle = nullptr;
    for (VaultHandle *h : m_handles) {
        if (h->info().path == info.path || h->identity() == identity) {
            handle = h;
            break;
        }
    }
    if (!handle) {
        handle = new VaultHandle(this, info.backingFile.toLocal8Bit().toStdString(), identity);
        m_handles.append(handle);
    }
    const bool wasUnlocked = handle->isUnlocked();
    handle->setInfo(info);
    if (!wasUnlocked)
        emit vaultAdded(handle);
    return handle;
}

void HelperClient::untrack(const QString &path, const QString &reason)
{
    for (VaultHandle *handle : m_handles) {
        if (handle->isUnlocked() && handle->info().path == path) {
            handle->setLocked(reason);
            emit vaultRemoved(handle, reason);
            return;
        }
    }
}

VaultHandle *HelperClient::handleFor(const std::string &file, const FileIdentity &identity)
{
    for (VaultHandle *handle : m_handles) {
        if (handle->identity() == identity) {
            handle->m_file = file;
            return handle;
        }
    }
    auto *handle = new VaultHandle(this, file, identity);
    m_handles.append(handle);
    return handle;
}

void HelperClient::readVault(Request *request, const QString &path, std::function<void(VaultHandle *)> then)
{
    request->whenAnswered(getAllProperties(m_bus, path, Helper1::VaultInterface, true),
                          [this, path, then = std::move(then)](const QDBusMessage &reply) {
        then(track(vaultInfoFrom(path, propertiesOf(reply))));
    });
}

void HelperClient::onVaultAdded(const QDBusObjectPath &path)
{
    whenAnswered(this, getAllProperties(m_bus, path.path(), Helper1::VaultInterface, false),
                 [this, path](const std::optional<Error> &error, const QDBusMessage &reply) {
        if (error)
            return; // locked again already
        const VaultInfo info = vaultInfoFrom(path.path(), propertiesOf(reply));
        // Another user's vault is none of this client's business (the helper may not even tell).
        if (info.ownerUid == ::getuid())
            track(info);
    });
}

void HelperClient::onVaultRemoved(const QDBusObjectPath &path, const QString &reason)
{
    untrack(path.path(), reason);
}

// ---- requests -------------------------------------------------------------------------------------

Request *HelperClient::refreshVaults()
{
    auto *request = new Request(this);
    request->start([this, request] {
        request->whenAnswered(manager()->ListVaults(), [this, request](const QDBusMessage &reply) {
            const QList<QDBusObjectPath> paths = QDBusReply<QList<QDBusObjectPath>>(reply).value();
            struct Listing
            {
                qsizetype left = 0;
                std::set<QString> listed;
            };
            auto listing = std::make_shared<Listing>();
            listing->left = paths.size();
            const auto done = [this, request, listing] {
                for (VaultHandle *handle : vaults()) {
                    if (!listing->listed.count(handle->info().path))
                        untrack(handle->info().path, QString());
                }
                request->succeed();
            };
            if (paths.isEmpty())
                done();
            for (const QDBusObjectPath &path : paths) {
                // A vault locked between the two answers is simply no longer listed.
                whenAnswered(request, getAllProperties(m_bus, path.path(), Helper1::VaultInterface, true),
                             [this, path, listing, done](const std::optional<Error> &error, const QDBusMessage &reply) {
                    if (!error) {
                        const VaultInfo info = vaultInfoFrom(path.path(), propertiesOf(reply));
                        listing->listed.insert(info.path);
                        track(info);
                    }
                    if (--listing->left == 0)
                        done();
                });
            }
        });
    });
    return request;
}

VaultRequest *HelperClient::vault(const std::string &file)
{
    auto *request = new VaultRequest(this);
    request->start([this, request, file] {
        const FileIdentity identity = identify(file);
        Request *refresh = refreshVaults();
        connect(refresh, &Request::finished, request, [this, request, file, identity](const std::optional<Error> &error) {
            if (error) {
                request->fail(*error);
                return;
            }
            request->m_vault = handleFor(file, identity);
            request->succeed();
        });
    });
    return request;
}

JobHandle *HelperClient::createVault(const std::string &file, uint64_t size, const Secret &passphrase,
                                     const Helper1::CreateOptions &options)
{
    auto *job = new JobHandle(this, JobHandle::Kind::Create);
    job->start([this, job, file, size, passphrase, options] {
        const QDBusUnixFileDescriptor secret = passphrase.fd(); // before the file: a bad secret leaves none
        const UniqueFd backing = createNewFile(file);
        connect(job, &JobHandle::finished, this, [file](Helper1::JobOutcome outcome) {
            if (outcome != Helper1::JobOutcome::Ok)
                ::unlink(file.c_str());
        });
        return manager()->CreateVault(QDBusUnixFileDescriptor(backing.get()), size, secret,
                                      Helper1::encode(options));
    });
    return job;
}

MediaRequest *HelperClient::listMedia()
{
    auto *request = new MediaRequest(this);
    request->start([this, request] {
        request->whenAnswered(manager()->ListMedia(), [request](const QDBusMessage &reply) {
            const QDBusArgument arg = reply.arguments().value(0).value<QDBusArgument>();
            arg.beginArray();
            while (!arg.atEnd()) {
                QVariantMap facts;
                arg >> facts;
                request->m_media.push_back(Helper1::decodeMedium(facts));
            }
            arg.endArray();
            request->succeed();
        });
    });
    return request;
}

void HelperClient::onLockFailed(const QDBusObjectPath &path, const QString &reason, const QString &message)
{
    for (VaultHandle *handle : m_handles) {
        if (handle->isUnlocked() && handle->info().path == path.path()) {
            emit lockFailed(handle, reason, message);
            return;
        }
    }
}

Request *HelperClient::lockAll()
{
    auto *request = new Request(this);
    request->start([this, request] {
        request->whenAnswered(manager()->LockAll(), [this, request](const QDBusMessage &) {
            for (VaultHandle *handle : vaults())
                untrack(handle->info().path, QStringLiteral("locked"));
            request->succeed();
        });
    });
    return request;
}

} // namespace Coffer::Client
