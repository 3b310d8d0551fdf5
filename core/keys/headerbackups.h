#pragma once

// Coffer's automatic header backups: a copy of each vault's LUKS header kept off the drive,
// in $XDG_DATA_HOME/coffer/headers/<LUKS UUID>.img (~/.local/share when XDG_DATA_HOME is unset or
// not absolute), the directory 0700 and each file 0600. A header holds every key slot: it is
// refreshed after each key change, so that a passphrase that was replaced does not live on in it.

#include <string>
#include <string_view>

namespace Coffer::Keys {

// The directory (not made here).
std::string headerBackupDirectory();

// Its file for the vault; InvalidArgument when luksUuid is not a canonical LUKS UUID.
std::string automaticHeaderBackupPath(std::string_view luksUuid);

// Makes the directory and its parents as needed (the directory itself 0700, tightened if it was
// not). Throws Coffer::Error.
void makeHeaderBackupDirectory();

} // namespace Coffer::Keys
