#include "sync/fsops.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace Coffer::Sync {

namespace {

struct LinuxDirent64
{
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

std::string procPath(int fd)
{
    return "/proc/self/fd/" + std::to_string(fd);
}

constexpr size_t ChunkBytes = 8u << 20;

} // namespace

bool isEntryName(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." && name.size() <= 255
        && name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::vector<std::string> readDirNames(int dirFd, Side side)
{
    std::vector<std::string> names;
    alignas(8) char buf[32768];
    for (;;) {
        const long n = ::syscall(SYS_getdents64, dirFd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw SysError{errno, side};
        }
        if (n == 0)
            break;
        for (long pos = 0; pos < n;) {
            auto *d = reinterpret_cast<LinuxDirent64 *>(buf + pos);
            pos += d->d_reclen;
            const char *name = d->d_name;
            if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
                continue;
            names.emplace_back(name);
        }
    }
    return names;
}

namespace {

// Where xattr calls go: an fd (f*xattr), a path followed to the end (*xattr, for
// "/proc/self/fd/N" of an O_PATH fd), or a path whose last component is not followed (l*xattr).
struct XTarget
{
    int fd = -1;
    std::string path;
    bool follow = false;
    Side side = Side::Destination;

    ssize_t list(char *buf, size_t size) const
    {
        if (path.empty())
            return ::flistxattr(fd, buf, size);
        return follow ? ::listxattr(path.c_str(), buf, size) : ::llistxattr(path.c_str(), buf, size);
    }
    ssize_t get(const char *name, void *buf, size_t size) const
    {
        if (path.empty())
            return ::fgetxattr(fd, name, buf, size);
        return follow ? ::getxattr(path.c_str(), name, buf, size) : ::lgetxattr(path.c_str(), name, buf, size);
    }
    int set(const char *name, const void *value, size_t size) const
    {
        if (path.empty())
            return ::fsetxattr(fd, name, value, size, 0);
        return follow ? ::setxattr(path.c_str(), name, value, size, 0)
                      : ::lsetxattr(path.c_str(), name, value, size, 0);
    }
    int remove(const char *name) const
    {
        if (path.empty())
            return ::fremovexattr(fd, name);
        return follow ? ::removexattr(path.c_str(), name) : ::lremovexattr(path.c_str(), name);
    }
};

XTarget targetOf(int fd, bool pathFd, Side side)
{
    XTarget t;
    t.side = side;
    if (pathFd) {
        t.path = procPath(fd);
        t.follow = true;
    } else {
        t.fd = fd;
    }
    return t;
}

XTarget targetAt(int dirFd, const std::string &name, Side side)
{
    XTarget t;
    t.side = side;
    t.path = procPath(dirFd) + "/" + name;
    return t;
}

Xattrs readXattrs(const XTarget &t)
{
    Xattrs out;
    char small[1024];
    std::string big;
    char *list = small;
    ssize_t len = t.list(small, sizeof small);
    while (len < 0 && errno == ERANGE) {
        const ssize_t need = t.list(nullptr, 0);
        if (need < 0)
            throw SysError{errno, t.side};
        big.resize(size_t(need) + 1);
        list = big.data();
        len = t.list(list, big.size());
    }
    if (len < 0) {
        if (errno == ENOTSUP || errno == ENODATA)
            return out;
        throw SysError{errno, t.side};
    }
    std::string value;
    for (ssize_t pos = 0; pos < len;) {
        const char *name = list + pos;
        const size_t nameLen = std::strlen(name);
        pos += ssize_t(nameLen) + 1;
        if (std::strncmp(name, "user.", 5) != 0)
            continue;
        value.resize(256);
        for (;;) {
            const ssize_t v = t.get(name, value.data(), value.size());
            if (v >= 0) {
                value.resize(size_t(v));
                out.emplace_back(name, value);
                break;
            }
            if (errno == ERANGE) {
                value.resize(value.size() * 4);
                if (value.size() > (1u << 20))
                    throw SysError{E2BIG, t.side};
                continue;
            }
            if (errno == ENODATA)
                break;
            throw SysError{errno, t.side};
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool writeXattrs(const XTarget &t, const Xattrs &wanted)
{
    const Xattrs have = readXattrs(t);
    if (have == wanted)
        return true;
    for (const auto &[name, value] : have) {
        const bool keep = std::any_of(wanted.begin(), wanted.end(),
                                      [&](const auto &w) { return w.first == name; });
        if (!keep && t.remove(name.c_str()) != 0 && errno != ENODATA)
            throw SysError{errno, t.side};
    }
    for (const auto &[name, value] : wanted) {
        if (t.set(name.c_str(), value.data(), value.size()) != 0) {
            if (errno == ENOTSUP)
                return false;
            throw SysError{errno, t.side};
        }
    }
    return true;
}

} // namespace

Xattrs readUserXattrs(int fd, bool pathFd, Side side)
{
    return readXattrs(targetOf(fd, pathFd, side));
}

bool writeUserXattrs(int fd, bool pathFd, const Xattrs &wanted)
{
    return writeXattrs(targetOf(fd, pathFd, Side::Destination), wanted);
}

Xattrs readUserXattrsAt(int dirFd, const std::string &name, Side side)
{
    return readXattrs(targetAt(dirFd, name, side));
}

bool writeUserXattrsAt(int dirFd, const std::string &name, const Xattrs &wanted)
{
    return writeXattrs(targetAt(dirFd, name, Side::Destination), wanted);
}

void removeTree(int dirFd, const std::string &name, uint64_t &removed)
{
    if (!isEntryName(name))
        throw SysError{EINVAL, Side::Destination};
    if (::unlinkat(dirFd, name.c_str(), 0) == 0) {
        ++removed;
        return;
    }
    if (errno == ENOENT)
        return;
    if (errno != EISDIR && errno != EPERM)
        throw SysError{errno, Side::Destination};
    UniqueFd fd(::openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        throw SysError{errno, Side::Destination};
    // Our own read-only directories (mode 0500 copied from a source) must become writable to be
    // emptied; as a normal user we own them.
    struct stat st;
    if (::fstat(fd.get(), &st) == 0 && (st.st_mode & 0700) != 0700)
        ::fchmod(fd.get(), (st.st_mode & 07777) | 0700);
    for (const std::string &child : readDirNames(fd.get(), Side::Destination))
        removeTree(fd.get(), child, removed);
    if (::unlinkat(dirFd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
        throw SysError{errno, Side::Destination};
    ++removed;
}

UniqueFd openBeneathByComponents(int rootFd, const std::string &rel, int flags)
{
    UniqueFd dir;
    int at = rootFd;
    size_t start = 0;
    for (;;) {
        const size_t slash = rel.find('/', start);
        const std::string name = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!isEntryName(name)) {
            errno = EXDEV; // what openat2 says for a path that would leave the root
            return {};
        }
        if (slash == std::string::npos) {
            UniqueFd fd(::openat(at, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
            // O_PATH | O_NOFOLLOW opens a symlink itself, where openat2 would refuse it.
            struct stat st;
            if (fd && (flags & (O_PATH | O_NOFOLLOW)) == O_PATH
                && (::fstat(fd.get(), &st) != 0 || S_ISLNK(st.st_mode))) {
                errno = ELOOP;
                return {};
            }
            return fd;
        }
        UniqueFd next(::openat(at, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next)
            return {};
        dir = std::move(next);
        at = dir.get();
        start = slash + 1;
    }
}

UniqueFd openBeneath(int rootFd, const std::string &rel, int flags)
{
    if (rel.empty())
        return UniqueFd(::openat(rootFd, ".", flags | O_CLOEXEC));
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = uint64_t(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    UniqueFd fd(int(::syscall(SYS_openat2, rootFd, rel.c_str(), &how, sizeof how)));
    if (!fd && errno == ENOSYS)
        return openBeneathByComponents(rootFd, rel, flags);
    return fd;
}

namespace {

// Returns bytes copied (< len if the source ended early).
uint64_t copyRange(int in, int out, uint64_t off, uint64_t len, bool &useCfr,
                   const std::function<void(uint64_t)> &onChunk)
{
    uint64_t done = 0;
    while (done < len && useCfr) {
        loff_t inOff = loff_t(off + done), outOff = loff_t(off + done);
        const size_t want = size_t(std::min<uint64_t>(len - done, ChunkBytes));
        const ssize_t n = ::copy_file_range(in, &inOff, out, &outOff, want, 0);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR)
                continue;
            if (err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP
                || err == EBADF || err == ETXTBSY || err == EPERM) {
                useCfr = false; // read + write from here on
                break;
            }
            throw SysError{err, Side::Destination};
        }
        if (n == 0)
            return done;
        done += uint64_t(n);
        if (onChunk)
            onChunk(uint64_t(n));
    }
    if (done == len)
        return done;
    constexpr size_t BufSize = 256 * 1024;
    std::unique_ptr<char[]> buf(new char[BufSize]);
    while (done < len) {
        const size_t want = size_t(std::min<uint64_t>(len - done, BufSize));
        const ssize_t r = ::pread(in, buf.get(), want, off_t(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            throw SysError{errno, Side::Source};
        }
        if (r == 0)
            return done;
        for (ssize_t w = 0; w < r;) {
            const ssize_t x = ::pwrite(out, buf.get() + w, size_t(r - w), off_t(off + done) + w);
            if (x < 0) {
                if (errno == EINTR)
                    continue;
                throw SysError{errno, Side::Destination};
            }
            w += x;
        }
        done += uint64_t(r);
        if (onChunk)
            onChunk(uint64_t(r));
    }
    return done;
}

} // namespace

bool copyData(int in, int out, uint64_t size, uint64_t blocks, bool &useCfr,
              const std::function<void(uint64_t)> &onChunk)
{
    if (size == 0)
        return true;
    // A file whose blocks cover its size has no holes: skip the SEEK_DATA round trips.
    if (blocks * 512 >= size)
        return copyRange(in, out, 0, size, useCfr, onChunk) == size;
    uint64_t off = 0;
    while (off < size) {
        const off_t data = ::lseek(in, off_t(off), SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO)
                break; // the rest is a hole
            // No SEEK_DATA here: copy everything.
            return copyRange(in, out, off, size - off, useCfr, onChunk) == size - off;
        }
        if (uint64_t(data) >= size)
            break;
        off_t hole = ::lseek(in, data, SEEK_HOLE);
        if (hole < 0 || uint64_t(hole) > size)
            hole = off_t(size);
        const uint64_t len = uint64_t(hole - data);
        if (copyRange(in, out, uint64_t(data), len, useCfr, onChunk) != len)
            return false;
        off = uint64_t(hole);
    }
    if (::ftruncate(out, off_t(size)) != 0)
        throw SysError{errno, Side::Destination};
    return true;
}

bool sameContent(int source, int destination, uint64_t size, const std::function<void()> &check)
{
    constexpr size_t BufSize = 256 * 1024;
    std::unique_ptr<char[]> x(new char[BufSize]), y(new char[BufSize]);
    uint64_t off = 0;
    while (off < size) {
        const size_t want = size_t(std::min<uint64_t>(size - off, BufSize));
        size_t gotA = 0, gotB = 0;
        while (gotA < want) {
            const ssize_t r = ::pread(source, x.get() + gotA, want - gotA, off_t(off + gotA));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                throw SysError{errno, Side::Source};
            if (r == 0)
                return false;
            gotA += size_t(r);
        }
        while (gotB < want) {
            const ssize_t r = ::pread(destination, y.get() + gotB, want - gotB, off_t(off + gotB));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                throw SysError{errno, Side::Destination};
            if (r == 0)
                return false;
            gotB += size_t(r);
        }
        if (std::memcmp(x.get(), y.get(), want) != 0)
            return false;
        off += want;
        if (check)
            check();
    }
    return true;
}

} // namespace Coffer::Sync
