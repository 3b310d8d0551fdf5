#pragma once

// What an unlocked vault holds (design.md 2): the mirror current/<source-name>/ and the snapshots
// snapshots/<UTC time>/<source-name>/, and how one of them compares with the live folders it
// was made from. Runs as the vault's owner; walks with openat() and never follows a symlink.
// Names are bytes.

#include <QDateTime>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Coffer::Restore {

struct Backup
{
    std::string name;               // "current" for the mirror, else the snapshot's directory name
    std::string path;               // below the vault's root: "current" or "snapshots/<name>"
    bool mirror = false;
    std::optional<QDateTime> time;  // a snapshot's time (UTC), from its name
    bool operator==(const Backup &) const = default;
};

// The backups in the vault mounted at vaultRoot: the mirror first (when current/ exists), then
// the snapshots, newest first. Incomplete snapshots (".partial") and other names are left out.
// Throws NotFound when vaultRoot cannot be opened.
std::vector<Backup> listBackups(const std::string &vaultRoot);

// The time a snapshot's name says ("2025-01-31T120000Z", "2025-01-31T120000Z-2"); nothing for
// other names.
std::optional<QDateTime> snapshotTime(const std::string &name);

// How an entry of the backup compares with the live folder.
enum class Change {
    Unchanged,
    Changed,     // in both, but its type, size, modification time, permissions or link target differ
    Deleted,     // in the backup, gone from the live folder
    Added,       // in the live folder only: newer than the backup (nothing to restore)
    NotCompared, // under a top-level name that no live folder has (a source no longer backed up)
};

struct Entry
{
    std::string path;        // "<source-name>/<relative path>" ("<source-name>" for the top level)
    char type = 'f';         // f regular, d directory, l symlink, p fifo, ? other
    uint64_t size = 0;
    int64_t mtimeNs = 0;
    uint32_t mode = 0;       // permission bits
    Change change = Change::NotCompared;
    bool inBackup() const { return change != Change::Added; }
    bool operator==(const Entry &) const = default;
};

struct Tree
{
    // In walk order: each directory right before what it holds, names in byte order within it.
    std::vector<Entry> entries;
    uint64_t unchanged = 0, changed = 0, deleted = 0, added = 0;
    // Directories that could not be read completely (on either side), with the reason.
    std::vector<std::string> problems;
};

// Reads the backup whose directory is backupDir (vault root + Backup::path) and compares each of
// its top-level folders with the live folder of that name (a source's last component, as the
// helper names it in the vault). Entries of the live folders that the
// vault's exclude patterns leave out are not "added". Throws NotFound when backupDir cannot be
// opened, Cancelled when *cancel became true.
Tree readBackup(const std::string &backupDir, const std::vector<std::string> &liveFolders,
                const std::vector<std::string> &excludes, const std::atomic<bool> *cancel = nullptr);

} // namespace Coffer::Restore
