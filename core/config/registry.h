#pragma once

// The registry of a user's vaults: $XDG_CONFIG_HOME/coffer/vaults.json (~/.config when unset),
// read and written by every Coffer process of that user (the tray app, `cofferctl agent`,
// `cofferctl register`), never by the root helper. Format: registrydocument.h.
//
// - Every change is a reload-modify-write under an flock on vaults.json.lock, so two processes
//   never lose each other's updates; each change touches only what it is about (recordSync
//   writes the sync fields, putVault the settings of one vault).
// - Writes are atomic and durable (temporary file, fsync, rename, directory fsync); the file is
//   the user's only (0600 in a 0700 directory): it names vaults, drives and folders.
// - A file that cannot be read or parsed is moved aside to vaults.json.corrupt-<UTC time> and
//   reported with an Error (or loadFailed) whose sentence names both files: never silently
//   reset, never overwritten.
// - watch() notices another process's change (inotify through QFileSystemWatcher, no polling)
//   and reloads: changed(). It never moves a file aside (it may be caught mid-edit); a change
//   does, under the lock.

#include "config/atomicfile.h"
#include "config/registrydocument.h"

#include <QDateTime>
#include <QObject>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

class QFileSystemWatcher;

namespace Coffer::Config {

class Registry : public QObject
{
    Q_OBJECT

public:
    // path: the registry file; the default is defaultPath().
    explicit Registry(const std::string &path = defaultPath(), QObject *parent = nullptr);
    ~Registry() override;

    // $XDG_CONFIG_HOME/coffer/vaults.json if XDG_CONFIG_HOME is an absolute path, else
    // $HOME/.config/coffer/vaults.json (HOME from the environment, else the password database).
    static std::string defaultPath();
    const std::string &path() const { return m_path; }

    // Reads the file. None is an empty registry. One that cannot be read or parsed is moved
    // aside and Failed is thrown with a sentence for the user; the registry is then empty and
    // usable (the next change starts a new file). problems() lists entries that were kept in
    // the file but could not be used.
    void load();

    // From now on, a change of the file by another process reloads it (changed(), or
    // loadFailed() when it cannot be used). Needs an event loop.
    void watch();

    const RegistryDocument &document() const { return m_doc; }
    const std::vector<VaultEntry> &vaults() const { return m_doc.vaults; }
    std::optional<VaultEntry> vault(std::string_view luksUuid) const;
    const Settings &settings() const { return m_doc.settings; }
    const std::vector<std::string> &problems() const { return m_doc.problems; }
    // The file was written by a newer Coffer: it is read, never written (changes throw
    // NotSupported).
    bool readOnly() const { return m_doc.newerThanThisVersion(); }

    // The registered vaults that live on this medium.
    std::vector<VaultEntry> vaultsOn(const Media::Medium &medium) const;
    Staleness staleness(const VaultEntry &vault, const QDateTime &now = QDateTime::currentDateTimeUtc()) const;

    // ---- changes: each locks, rereads the file, applies itself, writes, emits changed() ----

    // Adds the vault, or replaces an existing entry's settings; its sync history (lastSync,
    // lastSuccess) stays as the file has it, and fields unknown to this version survive.
    // InvalidArgument when the LUKS UUID is not one.
    void putVault(const VaultEntry &entry);
    // False when there was no such vault.
    bool removeVault(std::string_view luksUuid);
    // Records the end of a sync (and the last success, when it was one). NotFound when the
    // vault is not registered.
    void recordSync(std::string_view luksUuid, const SyncRecord &record);
    void setSettings(const Settings &settings);
    // Any other change, on the freshly read document.
    void update(const std::function<void(RegistryDocument &)> &change);

Q_SIGNALS:
    // The document changed (this process's change, or another's that watch() noticed).
    void changed();
    // The file could not be used. Noticed by watch(): the document as last read stays (the
    // file may be in the middle of someone's edit). Found by a change: the file was moved aside
    // (the message says where) and the change was made on an empty registry.
    void loadFailed(const QString &message);

private:
    enum class Outcome { Loaded, Missing, Broken };
    struct Reading
    {
        Outcome outcome = Outcome::Missing;
        RegistryDocument doc;
        std::string reason; // Broken: why
        std::optional<FileIdentity> identity;
    };
    Reading read() const;
    // Reads the file under the lock the caller holds; a broken file is moved aside, reported in
    // *report, and an empty document returned.
    RegistryDocument readLocked(std::string *report);
    std::string setAside(const std::string &reason);
    void onFileEvent();
    void watchFile();

    std::string m_path;
    std::string m_lockPath;
    RegistryDocument m_doc;
    std::optional<FileIdentity> m_identity; // of the file m_doc came from (or we wrote)
    QFileSystemWatcher *m_watcher = nullptr;
};

} // namespace Coffer::Config
