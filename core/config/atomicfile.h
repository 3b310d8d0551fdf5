#pragma once

// Small file primitives of the registry: a whole-file replace that is atomic and durable, and an
// advisory lock that several processes of one user take around read-modify-write.

#include "block/uniquefd.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace Coffer::Config {

// Identity of a file's current contents: a replace makes a new inode, an edit in place changes
// size or mtime. Lets a watcher tell another process's write from its own.
struct FileIdentity
{
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    struct timespec mtime = {};
    bool operator==(const FileIdentity &o) const
    {
        return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec
               && mtime.tv_nsec == o.mtime.tv_nsec;
    }
};

FileIdentity identityOf(const struct stat &st);
// Nothing when the file does not exist (or cannot be stat'ed).
std::optional<FileIdentity> identityOf(const std::string &path);

// Replaces `path` with `data`: a temporary file beside it (mode `mode`), written, fsync'ed,
// renamed over `path`, and the directory fsync'ed; readers see the old or the new contents, never
// a mix, and a crash leaves one of them. Throws Error (NoSpace on ENOSPC); the temporary file is
// removed. Returns the new file's identity.
FileIdentity replaceFile(const std::string &path, std::string_view data, mode_t mode = 0600);

// The whole of a regular file (at most maxSize bytes), or the errno that stopped the read
// (ENOENT when there is none; EFBIG when larger than maxSize; EISDIR and friends).
struct ReadResult
{
    std::string data;
    int err = 0;
    std::optional<FileIdentity> identity;
};
ReadResult readWholeFile(const std::string &path, size_t maxSize);

// An exclusive flock() on a lock file that is never replaced (the data file is, by every write,
// so a lock on it would lock an inode that is about to go). Blocks until it has the lock.
class FileLock
{
public:
    explicit FileLock(const std::string &lockPath);
    FileLock(FileLock &&) noexcept = default;
    ~FileLock() = default; // closing the fd releases the lock

private:
    UniqueFd m_fd;
};

} // namespace Coffer::Config
