#include "config/atomicfile.h"

#include "error.h"

#include <sys/file.h>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

namespace Coffer::Config {

namespace {

std::string directoryOf(const std::string &path)
{
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

void writeAll(int fd, std::string_view data)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error::fromErrno(errno, "Cannot write Coffer's settings");
        data.remove_prefix(size_t(n));
    }
}

} // namespace

FileIdentity identityOf(const struct stat &st)
{
    return {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

std::optional<FileIdentity> identityOf(const std::string &path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return identityOf(st);
}

FileIdentity replaceFile(const std::string &path, std::string_view data, mode_t mode)
{
    std::string temp = path + ".tmp-XXXXXX";
    UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot create a file beside " + path);
    struct stat st;
    try {
        if (::fchmod(fd.get(), mode) != 0)
            throw Error::fromErrno(errno, "Cannot set the permissions of " + temp);
        writeAll(fd.get(), data);
        if (::fsync(fd.get()) != 0)
            throw Error::fromErrno(errno, "Cannot write " + path + " to disk");
        if (::fstat(fd.get(), &st) != 0)
            throw Error::fromErrno(errno, "Cannot examine " + temp);
        if (::rename(temp.c_str(), path.c_str()) != 0)
            throw Error::fromErrno(errno, "Cannot replace " + path);
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    // The rename is durable once the directory is: without this a crash may bring back the old file.
    if (UniqueFd dir(::open(directoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir)
        ::fsync(dir.get());
    return identityOf(st);
}

ReadResult readWholeFile(const std::string &path, size_t maxSize)
{
    ReadResult r;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        r.err = errno;
        return r;
    }
    r.identity = identityOf(st);
    if (!S_ISREG(st.st_mode)) {
        r.err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return r;
    }
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r.err = errno;
            return r;
        }
        if (n == 0)
            return r;
        if (r.data.size() + size_t(n) > maxSize) {
            r.err = EFBIG;
            return r;
        }
        r.data.append(buf, size_t(n));
    }
}

FileLock::FileLock(const std::string &lockPath)
    : m_fd(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600))
{
    if (!m_fd)
        throw Error::fromErrno(errno, "Cannot lock Coffer's settings (" + lockPath + ")");
    while (::flock(m_fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR)
            throw Error::fromErrno(errno, "Cannot lock Coffer's settings (" + lockPath + ")");
    }
}

} // namespace Coffer::Config
