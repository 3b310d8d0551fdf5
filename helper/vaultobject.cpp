#include "vaultobject.h"

#include "dbus/helper1.h"
#include "manager.h"

#include <QFile>

#include <fcntl.h>
#include <sys/statvfs.h>

namespace Coffer::Helper {

VaultObject::VaultObject(Manager *manager, const Vault::OpenVault &open, uid_t owner,
                         const FileId &backing, const std::string &name, UniqueFd backingFd)
    : QObject(manager)
    , m_manager(manager)
    , m_open(open)
    , m_owner(owner)
    , m_backing(backing)
    , m_name(name)
    , m_backingFd(std::move(backingFd))
    , m_path(pathFor(open.luksUuid))
{
}

QString VaultObject::pathFor(const std::string &luksUuid)
{
    // Object path elements are [A-Za-z0-9_]: keep those, encode the rest.
    QString element;
    for (const char c : luksUuid) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            element += QLatin1Char(c);
        else
            element += QLatin1Char('_');
    }
    if (element.isEmpty())
        element = QStringLiteral("_");
    return QLatin1String(Helper1::VaultPathPrefix) + element;
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

int VaultObject::headerFd()
{
    if (!m_backingFd) {
        // Adopted after a restart: the loop device is the backing file's bytes. Our own device
        // node, not a path a caller chose.
        const int fd = ::open(m_open.loopDevice.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0)
            throw Error::fromErrno(ErrorCode::MediumGone, errno, "Cannot reach the vault's loop device");
        m_backingFd.reset(fd);
    }
    return m_backingFd.get();
}

void VaultObject::Lock(const QVariantMap &options)
{
    setDelayedReply(true);
    m_manager->vaultLock(this, message(), options);
}

QDBusObjectPath VaultObject::Sync(const QStringList &sources, const QVariantMap &options)
{
    setDelayedReply(true);
    m_manager->vaultSync(this, message(), sources, options);
    return {};
}

void VaultObject::ChangePassphrase(const QDBusUnixFileDescriptor &old, const QDBusUnixFileDescriptor &new_)
{
    setDelayedReply(true);
    m_manager->vaultKeys(this, message(), Manager::KeyOp::ChangePassphrase, old, new_);
}

void VaultObject::AddKey(const QDBusUnixFileDescriptor &existing, const QDBusUnixFileDescriptor &new_)
{
    setDelayedReply(true);
    m_manager->vaultKeys(this, message(), Manager::KeyOp::AddKey, existing, new_);
}

void VaultObject::RemoveKey(const QDBusUnixFileDescriptor &key)
{
    setDelayedReply(true);
    m_manager->vaultKeys(this, message(), Manager::KeyOp::RemoveKey, key, {});
}

void VaultObject::BackupHeader(const QDBusUnixFileDescriptor &out)
{
    setDelayedReply(true);
    m_manager->vaultKeys(this, message(), Manager::KeyOp::BackupHeader, out, {});
}

void VaultObject::Resize(qulonglong size, const QDBusUnixFileDescriptor &passphrase)
{
    setDelayedReply(true);
    m_manager->vaultResize(this, message(), size, passphrase);
}

} // namespace Coffer::Helper
