#include "config/registry.h"

#include "block/vault.h"
#include "error.h"

#include <QFileSystemWatcher>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

namespace Coffer::Config {

namespace {

constexpr size_t maxRegistrySize = 16u << 20;

std::string directoryOf(const std::string &path)
{
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Creates the missing directories of `dir`, each 0700 (XDG wants its config home private).
void makeDirectories(const std::string &dir)
{
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/')
            continue;
        const std::string part = dir.substr(0, pos);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
            throw Error::fromErrno(errno, "Cannot create the folder for Coffer's settings, " + part);
    }
}

std::string utcStamp()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm;
    char buf[32];
    ::gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string lowerCase(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

} // namespace

Registry::Registry(const std::string &path, QObject *parent)
    : QObject(parent)
    , m_path(path)
    , m_lockPath(path + ".lock")
{
}

Registry::~Registry() = default;

std::string Registry::defaultPath()
{
    const char *xdg = std::getenv("XDG_CONFIG_HOME");
    std::string base;
    if (xdg && xdg[0] == '/') {
        base = xdg;
    } else {
        const char *home = std::getenv("HOME");
        if ((!home || home[0] != '/') && getpwuid(getuid()))
            home = getpwuid(getuid())->pw_dir;
        base = std::string(home ? home : "") + "/.config";
    }
    return base + "/coffer/vaults.json";
}

Registry::Reading Registry::read() const
{
    Reading r;
    const ReadResult file = readWholeFile(m_path, maxRegistrySize);
    r.identity = file.identity;
    if (file.err == ENOENT)
        return r;
    if (file.err) {
        r.outcome = Outcome::Broken;
        r.reason = file.err == EFBIG ? std::string("it is larger than 16 MiB")
                                     : std::string("it cannot be read: ") + std::strerror(file.err);
        return r;
    }
    try {
        r.doc = parseRegistry(QByteArray::fromRawData(file.data.data(), qsizetype(file.data.size())));
        r.outcome = Outcome::Loaded;
    } catch (const Error &e) {
        r.outcome = Outcome::Broken;
        r.reason = e.message();
    }
    return r;
}

std::string Registry::setAside(const std::string &reason)
{
    const std::string stamp = m_path + ".corrupt-" + utcStamp();
    std::string aside = stamp;
    for (int n = 1; ::renameat2(AT_FDCWD, m_path.c_str(), AT_FDCWD, aside.c_str(), RENAME_NOREPLACE) != 0; ++n) {
        if (errno != EEXIST || n > 100)
            throw Error::fromErrno(errno, "Coffer's list of vaults, " + m_path + ", cannot be used (" + reason
                                              + ") and cannot be moved aside either; it is left as it is. "
                                                "Move or repair it");
        aside = stamp + "-" + std::to_string(n);
    }
    return "Coffer's list of vaults, " + m_path + ", could not be used: " + reason + ". It was kept as " + aside
           + " and a new list was started: register your vaults again, or repair the file and move it back.";
}

RegistryDocument Registry::readLocked(std::string *report)
{
    Reading r = read();
    m_identity = r.identity;
    if (r.outcome != Outcome::Broken)
        return std::move(r.doc);
    *report = setAside(r.reason);
    m_identity.reset();
    return {};
}

void Registry::load()
{
    Reading r = read();
    if (r.outcome != Outcome::Broken) {
        m_doc = std::move(r.doc);
        m_identity = r.identity;
        return;
    }
    // Under the lock and on a second read: another process may have just replaced the file.
    makeDirectories(directoryOf(m_path));
    const FileLock lock(m_lockPath);
    std::string report;
    m_doc = readLocked(&report);
    if (!report.empty())
        throw Error(ErrorCode::Failed, report);
}

void Registry::watch()
{
    if (m_watcher)
        return;
    makeDirectories(directoryOf(m_path));
    m_watcher = new QFileSystemWatcher(this);
    // The directory sees the file replaced (a rename over it), the file sees edits in place.
    m_watcher->addPath(QString::fromStdString(directoryOf(m_path)));
    watchFile();
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, &Registry::onFileEvent);
    connect(m_watcher, &QFileSystemWatcher::fileChanged, this, &Registry::onFileEvent);
}

void Registry::watchFile()
{
    const QString file = QString::fromStdString(m_path);
    if (!m_watcher->files().contains(file) && identityOf(m_path))
        m_watcher->addPath(file);
}

void Registry::onFileEvent()
{
    watchFile();
    if (identityOf(m_path) == m_identity)
        return; // our own write, or the lock and temporary files beside it
    Reading r = read();
    if (r.outcome == Outcome::Broken) {
        // Perhaps caught in the middle of someone's edit in place: keep what was last read, say
        // so, and leave the file alone; the next change of it (or of ours) looks again.
        m_identity = r.identity;
        Q_EMIT loadFailed(QString::fromStdString("Coffer's list of vaults, " + m_path + ", cannot be used: "
                                                 + r.reason + ". The list as last read stays in use."));
        return;
    }
    m_doc = std::move(r.doc);
    m_identity = r.identity;
    Q_EMIT changed();
}

std::optional<VaultEntry> Registry::vault(std::string_view luksUuid) const
{
    const VaultEntry *v = m_doc.find(luksUuid);
    return v ? std::optional<VaultEntry>(*v) : std::nullopt;
}

std::vector<VaultEntry> Registry::vaultsOn(const Media::Medium &medium) const
{
    std::vector<VaultEntry> out;
    std::copy_if(m_doc.vaults.begin(), m_doc.vaults.end(), std::back_inserter(out),
                 [&](const VaultEntry &v) { return v.medium.matches(medium); });
    return out;
}

Staleness Registry::staleness(const VaultEntry &vault, const QDateTime &now) const
{
    return Config::staleness(vault, m_doc.settings, now);
}

void Registry::update(const std::function<void(RegistryDocument &)> &change)
{
    makeDirectories(directoryOf(m_path));
    std::string report;
    {
        const FileLock lock(m_lockPath);
        RegistryDocument doc = readLocked(&report);
        m_doc = doc; // what the file holds now, whatever change() does
        if (doc.newerThanThisVersion())
            throw Error(ErrorCode::NotSupported, "Coffer's list of vaults, " + m_path
                                                     + ", was written by a newer version of Coffer; this one "
                                                       "does not change it");
        change(doc);
        const QByteArray text = serializeRegistry(doc);
        m_identity = replaceFile(m_path, std::string_view(text.constData(), size_t(text.size())));
        m_doc = parseRegistry(text);
    }
    Q_EMIT changed();
    if (!report.empty())
        Q_EMIT loadFailed(QString::fromStdString(report));
}

void Registry::putVault(const VaultEntry &entry)
{
    if (!Vault::isCanonicalLuksUuid(entry.luksUuid))
        throw Error(ErrorCode::InvalidArgument, "A vault is registered by its LUKS UUID, and \""
                                                    + entry.luksUuid.substr(0, 40) + "\" is not one");
    update([&](RegistryDocument &doc) {
        VaultEntry fresh = entry;
        fresh.luksUuid = lowerCase(entry.luksUuid);
        if (VaultEntry *existing = doc.find(fresh.luksUuid)) {
            // The sync history is recordSync's: another process may have just written it.
            fresh.lastSync = existing->lastSync;
            fresh.lastSuccess = existing->lastSuccess;
            fresh.original = existing->original;
            *existing = std::move(fresh);
            return;
        }
        doc.vaults.push_back(std::move(fresh));
    });
}

bool Registry::removeVault(std::string_view luksUuid)
{
    bool removed = false;
    update([&](RegistryDocument &doc) {
        const VaultEntry *v = doc.find(luksUuid);
        if (!v)
            return;
        doc.vaults.erase(doc.vaults.begin() + (v - doc.vaults.data()));
        removed = true;
    });
    return removed;
}

void Registry::recordSync(std::string_view luksUuid, const SyncRecord &record)
{
    update([&](RegistryDocument &doc) {
        VaultEntry *v = doc.find(luksUuid);
        if (!v)
            throw Error(ErrorCode::NotFound, "The vault " + std::string(luksUuid.substr(0, 40))
                                                 + " is not registered, so its sync cannot be recorded");
        v->lastSync = record;
        if (isSuccess(record.outcome))
            v->lastSuccess = record.time;
    });
}

void Registry::setSettings(const Settings &settings)
{
    update([&](RegistryDocument &doc) {
        const QJsonObject original = doc.settings.original;
        doc.settings = settings;
        doc.settings.original = original;
    });
}

} // namespace Coffer::Config
