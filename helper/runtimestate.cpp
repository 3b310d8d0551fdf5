#include "runtimestate.h"

#include "block/uniquefd.h"
#include "block/vaultname.h"
#include "error.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <endian.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace Coffer::Helper {

namespace {

// The access ACL user::rwx user:<uid>:r-x group::--- mask::r-x other::--- (kernel xattr form).
void grantTraverse(int dirFd, uid_t uid, const std::string &path)
{
    struct Entry
    {
        uint16_t tag, perm;
        uint32_t id;
    };
    const Entry entries[] = {
        {ACL_USER_OBJ, 7, uint32_t(ACL_UNDEFINED_ID)}, {ACL_USER, 5, uid},
        {ACL_GROUP_OBJ, 0, uint32_t(ACL_UNDEFINED_ID)}, {ACL_MASK, 5, uint32_t(ACL_UNDEFINED_ID)},
        {ACL_OTHER, 0, uint32_t(ACL_UNDEFINED_ID)},
    };
    char xattr[sizeof(uint32_t) + sizeof entries];
    const uint32_t version = htole32(POSIX_ACL_XATTR_VERSION);
    std::memcpy(xattr, &version, sizeof version);
    char *at = xattr + sizeof version;
    for (const Entry &e : entries) {
        const Entry little{htole16(e.tag), htole16(e.perm), htole32(e.id)};
        std::memcpy(at, &little, sizeof little);
        at += sizeof little;
    }
    if (fsetxattr(dirFd, "system.posix_acl_access", xattr, sizeof xattr, 0) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot give user " + std::to_string(uid) + " access to " + path);
}

std::string fileIdName(const FileId &id)
{
    return std::to_string(qulonglong(id.dev)) + "-" + std::to_string(qulonglong(id.ino)) + ".json";
}

} // namespace

RuntimeState::RuntimeState(std::string root)
    : m_root(std::move(root))
{
}

std::string RuntimeState::ensureDir(const std::string &path, mode_t mode)
{
    if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot create " + path);
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    // Nobody but root can write its parents, but check anyway: never follow a planted link.
    if (!dir || fstat(dir.get(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        throw Error(ErrorCode::Failed, path + " is not a directory of root's; remove it.");
    if ((st.st_mode & 07777) != mode && fchmod(dir.get(), mode) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot set the permissions of " + path);
    return path;
}

std::string RuntimeState::userDir(uid_t uid)
{
    ensureDir(m_root, 0711);
    const std::string path = m_root + "/" + std::to_string(uid);
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot create " + path);
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!dir || fstat(dir.get(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        throw Error(ErrorCode::Failed, path + " is not a directory of root's; remove it.");
    // The mode first: chmod rewrites an ACL's mask.
    if (fchmod(dir.get(), 0700) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot set the permissions of " + path);
    if (uid != geteuid())
        grantTraverse(dir.get(), uid, path);
    return path;
}

std::string RuntimeState::makeMountPoint(uid_t uid, const std::string &name)
{
    Vault::validateName(name);
    const std::string dir = userDir(uid);
    for (int n = 1; n < 100; ++n) {
        const std::string path = dir + "/" + name + (n == 1 ? "" : "-" + std::to_string(n));
        if (mkdir(path.c_str(), 0700) == 0)
            return path;
        if (errno != EEXIST)
            throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot create the mount point " + path);
        // Taken (an open vault, or one being opened right now): try the next name.
    }
    throw Error(ErrorCode::Busy, "Too many vaults with the name " + name + " are open.");
}

void RuntimeState::removeMountPoint(const std::string &path)
{
    if (path.rfind(m_root + "/", 0) == 0 && path.find("/../") == std::string::npos)
        rmdir(path.c_str());
}

void RuntimeState::makeVaultRootPrivate(const std::string &mountPoint, uid_t uid, gid_t gid, bool readOnly)
{
    UniqueFd root(::open(mountPoint.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!root || fstat(root.get(), &st) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot examine the vault's top folder");
    const bool isPrivate = st.st_uid == uid && (st.st_mode & 077) == 0;
    if (isPrivate)
        return;
    if (readOnly)
        throw Error(ErrorCode::NotSupported,
                    "The vault's top folder is not private to you, and a read-only vault cannot be "
                    "changed; unlock it once without read-only, which makes it private.");
    if (st.st_uid != uid && fchown(root.get(), uid, gid) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot give you the vault's top folder");
    if (fchmod(root.get(), 0700) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot make the vault's top folder private");
}

std::string RuntimeState::recordPath(const FileId &backing) const
{
    return m_root + "/state/" + fileIdName(backing);
}

void RuntimeState::save(const StateRecord &record)
{
    ensureDir(m_root, 0711);
    const std::string dir = ensureDir(m_root + "/state", 0700);
    QJsonObject o;
    o["uuid"] = QString::fromStdString(record.luksUuid);
    o["uid"] = qint64(record.uid);
    o["name"] = QString::fromStdString(record.name);
    o["mountPoint"] = QString::fromStdString(record.mountPoint);
    o["dev"] = QString::number(qulonglong(record.backing.dev));
    o["ino"] = QString::number(qulonglong(record.backing.ino));
    o["state"] = record.open ? "open" : "opening";
    QSaveFile file(QString::fromStdString(recordPath(record.backing)));
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(o).toJson()) < 0 || !file.commit())
        throw Error(ErrorCode::Failed, "Cannot write the helper's state in " + dir);
}

void RuntimeState::remove(const FileId &backing)
{
    QFile::remove(QString::fromStdString(recordPath(backing)));
}

std::vector<StateRecord> RuntimeState::load() const
{
    std::vector<StateRecord> records;
    QDir dir(QString::fromStdString(m_root + "/state"));
    for (const QString &entry : dir.entryList({QStringLiteral("*.json")}, QDir::Files)) {
        QFile file(dir.filePath(entry));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QJsonObject o = QJsonDocument::fromJson(file.read(64 * 1024)).object();
        StateRecord r;
        r.luksUuid = o["uuid"].toString().toStdString();
        r.uid = uid_t(o["uid"].toInteger(-1));
        r.name = o["name"].toString().toStdString();
        r.mountPoint = o["mountPoint"].toString().toStdString();
        r.backing.dev = dev_t(o["dev"].toString().toULongLong());
        r.backing.ino = ino_t(o["ino"].toString().toULongLong());
        r.open = o["state"].toString() == QLatin1String("open");
        if (r.luksUuid.empty() || fileIdName(r.backing) != entry.toStdString()) {
            file.remove(); // not ours / damaged
            continue;
        }
        records.push_back(r);
    }
    return records;
}

} // namespace Coffer::Helper
