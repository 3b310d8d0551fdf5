#pragma once

// Small file-system primitives of the sync engine, all relative to directory fds and never
// following a symlink.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace Coffer::Sync {

// A failed system call: errno and what was being done.
struct SysError
{
    int err;
};

// Names in an open directory (without "." and ".."), unsorted. Throws SysError.
std::vector<std::string> readDirNames(int dirFd);

// user.* extended attributes of an fd (or of "/proc/self/fd/N" for O_PATH fds when
// pathFd is set). Empty if the file system does not support them.
using Xattrs = std::vector<std::pair<std::string, std::string>>;
Xattrs readUserXattrs(int fd, bool pathFd);
// Makes the user.* xattrs of fd equal `wanted`. Returns false if the file system does not
// support them (ENOTSUP). Throws SysError on other failures.
bool writeUserXattrs(int fd, bool pathFd, const Xattrs &wanted);

// The same for `name` in dirFd, through "/proc/self/fd/<dirFd>/<name>" with the l*xattr calls
// (one system call, no open, never following a symlink in the last component).
Xattrs readUserXattrsAt(int dirFd, const std::string &name);
bool writeUserXattrsAt(int dirFd, const std::string &name, const Xattrs &wanted);

// Removes `name` in dirFd, whatever it is (a directory recursively), without following symlinks.
// Throws SysError. `removed` counts entries.
void removeTree(int dirFd, const std::string &name, uint64_t &removed);

// Copies `size` bytes of in to out (both at offset 0), keeping holes if the source has any.
// Uses copy_file_range where it works (useCfr is cleared when it does not). `onChunk` is called
// with the bytes copied after each chunk (it may throw to stop). Returns false if the source got
// shorter while copying. Throws SysError{err} for read errors (err negative: source side) and
// write errors (err positive: destination side).
bool copyData(int in, int out, uint64_t size, uint64_t blocks, bool &useCfr,
              const std::function<void(uint64_t)> &onChunk);

// Byte-for-byte comparison of two fds from offset 0. Throws SysError.
bool sameContent(int a, int b, uint64_t size, const std::function<void()> &check);

} // namespace Coffer::Sync
