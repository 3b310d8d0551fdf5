#pragma once

// Small file-system primitives of the sync engine, all relative to directory fds and never
// following a symlink.

#include "block/uniquefd.h"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Coffer::Sync {

// Which side of the sync a failed system call was about: a source's failure is a warning about
// one entry, a destination's stops the run.
enum class Side { Source, Destination };

// A failed system call: its errno and the side of the file it was about.
struct SysError
{
    int err;
    Side side;
};

// One entry's name in a directory: not empty, not "." or "..", no '/' or NUL, at most 255 bytes.
// Every name the engine writes or deletes passes this, so nothing resolves outside the
// directory the entry is in, whatever a (hostile) manifest says.
bool isEntryName(std::string_view name);

// Names in an open directory (without "." and ".."), unsorted. Throws SysError.
std::vector<std::string> readDirNames(int dirFd, Side side);

// user.* extended attributes of an fd (or of "/proc/self/fd/N" for O_PATH fds when
// pathFd is set). Empty if the file system does not support them. Throws SysError.
using Xattrs = std::vector<std::pair<std::string, std::string>>;
Xattrs readUserXattrs(int fd, bool pathFd, Side side);
// Makes the user.* xattrs of fd (a destination file) equal `wanted`. Returns false if the file
// system does not support them (ENOTSUP). Throws SysError on other failures.
bool writeUserXattrs(int fd, bool pathFd, const Xattrs &wanted);

// The same for `name` in dirFd, through "/proc/self/fd/<dirFd>/<name>" with the l*xattr calls
// (one system call, no open, never following a symlink in the last component).
Xattrs readUserXattrsAt(int dirFd, const std::string &name, Side side);
bool writeUserXattrsAt(int dirFd, const std::string &name, const Xattrs &wanted);

// Removes `name` (an entry name, see isEntryName) in the destination directory dirFd, whatever it
// is (a directory recursively), without following symlinks. Throws SysError (EINVAL for a name
// that is not an entry name). `removed` counts entries.
void removeTree(int dirFd, const std::string &name, uint64_t &removed);

// Opens `rel` ("a/b/c", relative, no "." or ".." components) beneath rootFd with openat2's
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or component by component with O_NOFOLLOW where the
// kernel has no openat2. Invalid (errno set) if it is not there, leaves rootFd or meets a symlink.
UniqueFd openBeneath(int rootFd, const std::string &rel, int flags);
// The fallback of openBeneath, by itself (for tests).
UniqueFd openBeneathByComponents(int rootFd, const std::string &rel, int flags);

// Copies `size` bytes of in (a source file) to out (its destination), both at offset 0, keeping
// holes if the source has any. Uses copy_file_range where it works (useCfr is cleared when it
// does not). `onChunk` is called with the bytes copied after each chunk (it may throw to stop).
// Returns false if the source got shorter while copying. Throws SysError with the side that
// failed: reading the source or writing the destination.
bool copyData(int in, int out, uint64_t size, uint64_t blocks, bool &useCfr,
              const std::function<void(uint64_t)> &onChunk);

// Byte-for-byte comparison of a source fd with a destination fd from offset 0. Throws SysError.
bool sameContent(int source, int destination, uint64_t size, const std::function<void()> &check);

} // namespace Coffer::Sync
