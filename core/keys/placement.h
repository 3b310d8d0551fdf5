#pragma once

// Whether a file would sit on the vault's own drive. A header backup or a key file there is
// lost with the drive, and whoever finds the drive finds it too: Coffer refuses a header backup
// on the vault's own filesystem and warns about another partition of the same disk.

#include <sys/types.h>

#include <string>

namespace Coffer::Keys {

enum class Placement {
    OtherDrive,      // another disk (or a filesystem on no disk: tmpfs, a network share)
    SameDrive,       // another filesystem (partition) of the disk the vault is on
    SameFilesystem,  // the very filesystem the vault file is on
};

// Where `target` (a file to be made; its directory must exist) is, next to `vaultFile`. Throws
// NotFound when either cannot be looked at.
Placement placementOf(const std::string &target, const std::string &vaultFile);

// The same for two filesystems' devices (st_dev): equal, partitions of one disk (through
// /sys/dev/block), or unrelated.
Placement placementOf(dev_t target, dev_t vault);

} // namespace Coffer::Keys
