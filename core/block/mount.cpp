#include "block/mount.h"

#include "block/uniquefd.h"
#include "block/util.h"
#include "error.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <sstream>
#include <unistd.h>

namespace Coffer {

Mount &Mount::operator=(Mount &&other) noexcept
{
    if (this != &other) {
        if (valid())
            ::umount2(m_target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
        m_target = std::exchange(other.m_target, {});
    }
    return *this;
}

Mount::~Mount()
{
    if (valid()) {
        if (::umount2(m_target.c_str(), UMOUNT_NOFOLLOW) < 0 && errno == EBUSY)
            ::umount2(m_target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    }
}

Mount Mount::mountExt4(const std::string &source, const std::string &target, bool readOnly)
{
    struct stat st;
    if (::lstat(target.c_str(), &st) < 0)
        throw Error::fromErrno(errno, "Cannot use the mount point " + target);
    if (!S_ISDIR(st.st_mode))
        throw Error(ErrorCode::InvalidArgument, "The mount point " + target + " is not a directory");
    if (mountedDevice(target) != 0)
        throw Error(ErrorCode::Busy, "Something is already mounted on " + target);

    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (readOnly ? MS_RDONLY : 0);
    if (::mount(source.c_str(), target.c_str(), "ext4", flags, "errors=remount-ro") < 0) {
        int err = errno;
        if (err == EINVAL || err == EUCLEAN)
            throw Error(ErrorCode::Failed,
                        "The vault's filesystem cannot be mounted: it is not ext4 or it is damaged "
                        "(run a file system check)", err);
        throw Error::fromErrno(err, "Cannot mount the vault on " + target);
    }
    Mount m;
    m.m_target = target;
    return m;
}

void Mount::unmount(const std::string &target, int flags)
{
    if (::umount2(target.c_str(), flags | UMOUNT_NOFOLLOW) < 0) {
        int err = errno;
        if (err == EBUSY)
            throw Error(ErrorCode::Busy, "The vault at " + target + " is in use", err);
        throw Error::fromErrno(err, "Cannot unmount " + target);
    }
}

dev_t Mount::mountedDevice(const std::string &target)
{
    // A mount point has a different st_dev than its parent, or is "/".
    struct stat st, parent;
    if (::lstat(target.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    std::string up = target + "/..";
    if (::stat(up.c_str(), &parent) < 0)
        return 0;
    if (st.st_dev != parent.st_dev || st.st_ino == parent.st_ino)
        return st.st_dev;
    return 0;
}

std::string Mount::mountPointOf(dev_t devno)
{
    std::istringstream in(readSmallFile("/proc/self/mountinfo", 4 << 20));
    std::string line;
    while (std::getline(in, line)) {
        // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
        std::istringstream f(line);
        std::string id, parent, majmin, root, point;
        f >> id >> parent >> majmin >> root >> point;
        unsigned ma = 0, mi = 0;
        if (std::sscanf(majmin.c_str(), "%u:%u", &ma, &mi) != 2)
            continue;
        if (makedev(ma, mi) != devno)
            continue;
        // Unescape \040 and friends.
        std::string out;
        for (size_t i = 0; i < point.size(); ++i) {
            if (point[i] == '\\' && i + 3 < point.size()) {
                out += char(std::stoi(point.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                out += point[i];
            }
        }
        return out;
    }
    return {};
}

bool Mount::Holder::signal(int sig) const
{
    return pidfd && ::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) == 0;
}

namespace {

// The real and saved uid from /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs").
bool uidsOf(const std::string &base, uid_t &real, uid_t &saved)
{
    const std::string status = readSmallFile(base + "/status");
    const size_t at = status.find("\nUid:");
    unsigned long r = 0, e = 0, s = 0;
    if (at == std::string::npos || std::sscanf(status.c_str() + at + 5, "%lu %lu %lu", &r, &e, &s) != 3)
        return false;
    real = uid_t(r);
    saved = uid_t(s);
    return true;
}

} // namespace

Mount::HolderScan Mount::holders(dev_t dev, const ScanLimits &limits)
{
    HolderScan scan;
    DIR *proc = ::opendir("/proc");
    if (!proc)
        return scan;
    size_t processes = 0, entries = 0;
    auto budget = [&] {
        if (entries < limits.entries)
            return true;
        scan.complete = false;
        return false;
    };
    while (dirent *e = ::readdir(proc)) {
        char *end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end)
            continue;
        if (++processes > limits.processes || !budget()) {
            scan.complete = false;
            break;
        }
        // The pidfd first: whatever is found below is about this process or one that replaced
        // it, and a signal through the pidfd can only reach this one.
        UniqueFd pidfd(int(::syscall(SYS_pidfd_open, pid_t(pid), 0)));
        if (!pidfd)
            continue; // gone already
        std::string base = std::string("/proc/") + e->d_name;
        std::set<std::string> whats;
        auto on = [&](const std::string &path) {
            struct stat st;
            return ::stat(path.c_str(), &st) == 0 && st.st_dev == dev;
        };
        if (on(base + "/cwd"))
            whats.insert("working directory");
        if (on(base + "/root"))
            whats.insert("root directory");
        if (on(base + "/exe"))
            whats.insert("executable");
        if (DIR *fds = ::opendir((base + "/fd").c_str())) {
            while (dirent *f = ::readdir(fds)) {
                if (f->d_name[0] == '.')
                    continue;
                ++entries;
                if (!budget())
                    break;
                if (on(base + "/fd/" + f->d_name)) {
                    whats.insert("open file");
                    break;
                }
            }
            ::closedir(fds);
        }
        if (budget()) {
            std::istringstream maps(readSmallFile(base + "/maps", 16 << 20));
            std::string line;
            while (std::getline(maps, line) && budget()) {
                ++entries;
                // "addr perms offset MM:mm inode path"
                std::istringstream f(line);
                std::string addr, perms, offset, majmin;
                f >> addr >> perms >> offset >> majmin;
                unsigned ma = 0, mi = 0;
                if (std::sscanf(majmin.c_str(), "%x:%x", &ma, &mi) == 2 && (ma || mi)
                    && makedev(ma, mi) == dev) {
                    whats.insert("mapped file");
                    break;
                }
            }
        }
        if (whats.empty())
            continue;
        Holder h;
        h.pid = pid_t(pid);
        if (!uidsOf(base, h.uid, h.savedUid))
            continue; // gone meanwhile
        h.name = readSmallFile(base + "/comm");
        while (!h.name.empty() && h.name.back() == '\n')
            h.name.pop_back();
        for (const auto &w : whats)
            h.what += (h.what.empty() ? "" : ", ") + w;
        h.pidfd = std::move(pidfd);
        scan.holders.push_back(std::move(h));
    }
    ::closedir(proc);
    return scan;
}

} // namespace Coffer
