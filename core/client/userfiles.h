#pragma once

// Files the client hands to the helper, opened here with the user's own rights (design.md 4.1:
// the helper never resolves a caller's path). Symbolic links are refused (O_NOFOLLOW).

#include "block/uniquefd.h"

#include <cstdint>
#include <string>

namespace Coffer::Client {

enum class Access { ReadOnly, ReadWrite };

// An existing vault file. Throws NotFound, NotAuthorized, ... naming the file.
UniqueFd openBackingFile(const std::string &path, Access access = Access::ReadWrite);

// A new, empty file of the user's own (mode 0600) that must not exist yet (InvalidArgument if
// it does).
UniqueFd createNewFile(const std::string &path);

// Which file a path names, as the user sees it: what a vault's BackingDevice and BackingInode
// are compared with.
struct FileIdentity
{
    uint64_t device = 0;
    uint64_t inode = 0;
    bool operator==(const FileIdentity &) const = default;
};
// Throws NotFound ("Cannot find FILE: ...").
FileIdentity identify(const std::string &path);

} // namespace Coffer::Client
