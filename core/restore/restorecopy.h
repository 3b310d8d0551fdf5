#pragma once

// Restoring one file or folder from a backup in an unlocked vault to a folder the person picks,
// as the vault's owner. Contents, permissions, modification times, symlinks (as symlinks) and
// user.* extended attributes come back as the backup has them. The copy is made under a hidden
// temporary name next to its place and renamed into it only when complete, so a cancelled or
// failed restore leaves nothing under the name, and an existing file or folder of that name is
// never touched unless the caller asked to replace it (and then only once the copy is whole).

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace Coffer::Restore {

struct RestoreRequest
{
    std::string backupDir;   // vault root + Backup::path
    std::string item;        // the entry's path in the backup: "<source-name>[/<relative path>]"
    std::string targetDir;   // where it goes (made, with its parents, if missing: 0700)
    std::string targetName;  // its name there (one component)
    bool replace = false;    // an existing targetDir/targetName is replaced (else: refused)
};

struct RestoreProgress
{
    uint64_t filesDone = 0, filesTotal = 0; // every entry: files, folders, links
    uint64_t bytesDone = 0, bytesTotal = 0;
    std::string currentItem;                // the item's path in the backup
};

using RestoreCallback = std::function<void(const RestoreProgress &)>;

struct RestoreResult
{
    std::string restored;    // targetDir/targetName
    uint64_t entries = 0, bytes = 0;
    uint64_t skipped = 0;    // devices and sockets, which a backup should not hold
};

// Throws Coffer::Error: NotFound (no such item or backup), InvalidArgument (targetDir/targetName
// exists and replace is false: nothing was changed), Cancelled (*cancel became true: the partial
// copy is gone), NoSpace, Failed. Safe to call from any thread.
RestoreResult restore(const RestoreRequest &request, const RestoreCallback &progress = {},
                      const std::atomic<bool> *cancel = nullptr);

// Whether targetDir/targetName exists (as anything, a dangling symlink too).
bool targetExists(const std::string &targetDir, const std::string &targetName);

} // namespace Coffer::Restore
