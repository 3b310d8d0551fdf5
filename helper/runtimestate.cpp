#include "runtimestate.h"

#include "error.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Coffer::Helper {

RuntimeState::RuntimeState(std::string root)
    : m_root(std::move(root))
{
}

std::string RuntimeState::defaultRoot()
{
    const char *env = std::getenv("COFFER_RUNTIME_DIR");
    return env && *env ? std::string(env) : std::string("/run/coffer");
}

std::string RuntimeState::ensureDir(const std::string &path, mode_t mode)
{
    if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot create " + path);
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot examine " + path);
    // Nobody but root can write its parents, but check anyway: never follow a planted link.
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
        throw Error(ErrorCode::Failed, path + " is not a directory only root can change; remove it.");
    return path;
}

std::string RuntimeState::makeMountPoint(uid_t uid, const std::string &name)
{
    ensureDir(m_root, 0755);
    const std::string userDir = ensureDir(m_root + "/" + std::to_string(uid), 0755);
    for (int n = 1; n < 100; ++n) {
        const std::string path = userDir + "/" + name + (n == 1 ? "" : "-" + std::to_string(n));
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
    if (path.rfind(m_root + "/", 0) == 0)
        rmdir(path.c_str());
}

void RuntimeState::save(const StateRecord &record)
{
    ensureDir(m_root, 0755);
    const std::string dir = ensureDir(m_root + "/state", 0700);
    QJsonObject o;
    o["uuid"] = QString::fromStdString(record.luksUuid);
    o["uid"] = qint64(record.uid);
    o["name"] = QString::fromStdString(record.name);
    o["mountPoint"] = QString::fromStdString(record.mountPoint);
    o["dev"] = QString::number(qulonglong(record.backing.dev));
    o["ino"] = QString::number(qulonglong(record.backing.ino));
    o["state"] = record.open ? "open" : "opening";
    QSaveFile file(QString::fromStdString(dir + "/" + record.luksUuid + ".json"));
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(o).toJson()) < 0 || !file.commit())
        throw Error(ErrorCode::Failed, "Cannot write the helper's state in " + dir);
}

void RuntimeState::remove(const std::string &luksUuid)
{
    QFile::remove(QString::fromStdString(m_root + "/state/" + luksUuid + ".json"));
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
        if (r.luksUuid.empty() || r.luksUuid + ".json" != entry.toStdString()) {
            file.remove(); // not ours / damaged
            continue;
        }
        records.push_back(r);
    }
    return records;
}

} // namespace Coffer::Helper
