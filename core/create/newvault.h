#pragma once

// A vault that does not exist yet: where its file would go, what it would hold and whether that
// fits. The create wizard asks these before anything is written; cofferctl could too.

#include "block/vault.h"
#include "error.h"
#include "sync/syncengine.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace Coffer::Create {

// ---- the medium ------------------------------------------------------------------------------

// What the filesystem of a folder is (Vault::mediumInfo of it), given an fd of the folder.
using MediumProbe = std::function<Vault::MediumInfo(int folderFd)>;

struct FolderCheck
{
    Vault::MediumInfo medium;      // filesystem, free space, its warnings (not sparse: vfat, exfat)
    uint64_t largestVault = 0;     // the largest size this folder takes (free space, FAT32's limit)
    std::optional<Error> refusal;  // set when a vault of the size asked for cannot go here
};

// The checks Vault::checkMedium makes when the helper creates the vault, made now for a vault of
// `size` bytes in the folder (an fd of it; probe: Vault::mediumInfo unless given). The refusal
// carries the same sentence the helper would give. Throws only when the folder cannot be looked
// at.
FolderCheck checkFolder(int folderFd, uint64_t size, const MediumProbe &probe = {});
// The same for a folder named by path (opened here as the caller, O_DIRECTORY).
FolderCheck checkFolder(const std::string &folder, uint64_t size, const MediumProbe &probe = {});

// ---- the space inside ------------------------------------------------------------------------

// The LUKS2 header Vault::create writes in front of the filesystem.
inline constexpr uint64_t luksHeaderBytes = 16ull << 20;

// The space for files in a new vault of `size` bytes, on the safe side: the LUKS2 header, ext4's
// journal, inode tables and other metadata (as mke2fs makes them for Vault::create) and ext4's
// reserve for delayed allocation come off. tests/integration/test_create_capacity holds it
// against real filesystems from 32 MiB to 64 GiB.
uint64_t usableBytes(uint64_t size);

// The smallest vault size (a whole MiB, at least Vault::minimumSize) whose usableBytes() hold
// `bytes`.
uint64_t sizeFor(uint64_t bytes);

// What a plan's items take on ext4 (data rounded up to blocks, a block per directory and long
// symlink, room for the sync manifest). Only dry runs carry items; for others it falls back to
// the plan's bytes to write.
uint64_t spaceNeeded(const Sync::Plan &plan);

// ---- the preview -----------------------------------------------------------------------------

// The sources as the helper names them in the vault (current/<name>/): the last component of
// each path. InvalidArgument, naming both, when two share a name (one would hide the other), or a
// path names no folder component (such as "/").
std::vector<Sync::Source> sourcesFor(const std::vector<std::string> &paths);

struct Preview
{
    Sync::Result dryRun;     // the engine's answer: plan (items, counts, bytes) and warnings
    uint64_t needed = 0;     // spaceNeeded(plan)
    uint64_t usable = 0;     // usableBytes(size)
    bool fits = false;
    uint64_t sizeToFit = 0;  // sizeFor(needed): the smallest vault that would hold it
};

// Runs the sync engine in this process, as the caller, as a dry run of `sources` into an empty
// temporary directory (made and removed here): every item is new, nothing is written anywhere.
// Then weighs the plan against a vault of `size` bytes. Throws what Sync::run throws (NotFound
// for a missing folder, Cancelled when *cancel became true).
Preview preview(const std::vector<std::string> &sources, Sync::Mode mode, const std::vector<std::string> &excludes,
                uint64_t size, const std::atomic<bool> *cancel = nullptr);

} // namespace Coffer::Create
