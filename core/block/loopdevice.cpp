#include "block/loopdevice.h"

#include "block/util.h"
#include "error.h"

#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <linux/fs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>

namespace Coffer {

LoopDevice &LoopDevice::operator=(LoopDevice &&other) noexcept
{
    if (this != &other) {
        if (valid()) {
            ::ioctl(m_fd.get(), LOOP_CLR_FD);
        }
        m_fd = std::move(other.m_fd);
        m_number = std::exchange(other.m_number, -1);
        m_path = std::move(other.m_path);
        m_devno = std::exchange(other.m_devno, 0);
        m_directIo = other.m_directIo;
    }
    return *this;
}

LoopDevice::~LoopDevice()
{
    if (valid()) {
        // With other openers (udev probing it) the kernel only sets autoclear and detaches
        // when they close: good enough, nothing is left behind.
        ::ioctl(m_fd.get(), LOOP_CLR_FD);
    }
}

namespace {

bool configure(int loopFd, int backingFd, const LoopDevice::Options &o, bool directIo, int *err)
{
    loop_config config;
    std::memset(&config, 0, sizeof config);
    config.fd = uint32_t(backingFd);
    config.block_size = o.blockSize;
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (o.readOnly ? LO_FLAGS_READ_ONLY : 0)
        | (directIo ? LO_FLAGS_DIRECT_IO : 0);
    if (::ioctl(loopFd, LOOP_CONFIGURE, &config) == 0)
        return true;
    *err = errno;
    return false;
}

// Kernels before 5.8: the three-step way. Not atomic, but we hold the BSD lock throughout.
bool configureLegacy(int loopFd, int backingFd, const LoopDevice::Options &o, bool directIo, int *err)
{
    if (::ioctl(loopFd, LOOP_SET_FD, backingFd) < 0) {
        *err = errno;
        return false;
    }
    loop_info64 info;
    std::memset(&info, 0, sizeof info);
    info.lo_flags = LO_FLAGS_AUTOCLEAR | (o.readOnly ? LO_FLAGS_READ_ONLY : 0);
    if (::ioctl(loopFd, LOOP_SET_STATUS64, &info) < 0
        || ::ioctl(loopFd, LOOP_SET_BLOCK_SIZE, (unsigned long)o.blockSize) < 0) {
        *err = errno;
        ::ioctl(loopFd, LOOP_CLR_FD);
        return false;
    }
    if (directIo)
        ::ioctl(loopFd, LOOP_SET_DIRECT_IO, 1ul); // best effort
    return true;
}

// Can the backing file do direct I/O? Asking the loop driver is not enough: overlayfs over tmpfs
// accepts LO_FLAGS_DIRECT_IO and then fails every read with EIO. Reopening the very same inode
// with O_DIRECT fails at once where it is not supported.
bool backingSupportsDirectIo(int backingFd)
{
    std::string path = "/proc/self/fd/" + std::to_string(backingFd);
    UniqueFd probe(::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY));
    return probe.valid();
}

// One aligned read through the loop device: proves the configuration works end to end.
bool readable(int loopFd, uint32_t blockSize)
{
    void *buf = nullptr;
    if (::posix_memalign(&buf, 4096, blockSize) != 0)
        return true;
    ssize_t n = ::pread(loopFd, buf, blockSize, 0);
    std::free(buf);
    return n == ssize_t(blockSize) || (n < 0 && errno != EIO);
}

} // namespace

LoopDevice LoopDevice::attach(int backingFd, const Options &options)
{
    struct stat st;
    if (::fstat(backingFd, &st) < 0)
        throw Error::fromErrno(errno, "Cannot examine the backing file");
    if (!S_ISREG(st.st_mode))
        throw Error(ErrorCode::InvalidArgument, "The backing file is not a regular file");
    if (st.st_size % options.blockSize != 0)
        throw Error(ErrorCode::InvalidArgument,
                    "The backing file's size is not a multiple of " + std::to_string(options.blockSize)
                        + " bytes");

    UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    if (!control)
        throw Error::fromErrno(ErrorCode::NotSupported, errno,
                               "Cannot use loop devices (/dev/loop-control)");

    // LOOP_CTL_GET_FREE hands out a number, but another process may bind it before we do:
    // LOOP_CONFIGURE then fails with EBUSY and we ask for another one.
    for (int attempt = 0; attempt < 64; ++attempt) {
        int nr = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
        if (nr < 0)
            throw Error::fromErrno(errno, "Cannot find a free loop device");
        std::string path = "/dev/loop" + std::to_string(nr);
        UniqueFd fd(::open(path.c_str(), (options.readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK));
        if (!fd) {
            if (errno == ENOENT || errno == ENXIO)
                continue; // node not there yet (no devtmpfs event) or just removed
            throw Error::fromErrno(errno, "Cannot open " + path);
        }
        // udev takes a shared BSD lock before probing a block device and skips it while
        // someone holds an exclusive one: keep it out until the device is complete.
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
            continue; // someone else is busy with this one
        int err = 0;
        bool directIo = options.directIo && backingSupportsDirectIo(backingFd);
        bool ok = configure(fd.get(), backingFd, options, directIo, &err);
        if (!ok && directIo && (err == EINVAL || err == EOPNOTSUPP)) {
            // Direct I/O needs the backing filesystem's support and alignment (tmpfs has none).
            directIo = false;
            ok = configure(fd.get(), backingFd, options, false, &err);
        }
        if (!ok && (err == ENOTTY || err == EINVAL))
            ok = configureLegacy(fd.get(), backingFd, options, directIo, &err);
        if (!ok) {
            if (err == EBUSY)
                continue;
            throw Error::fromErrno(err, "Cannot attach the backing file to " + path);
        }
        if (directIo && !readable(fd.get(), options.blockSize)) {
            ::ioctl(fd.get(), LOOP_SET_DIRECT_IO, 0ul);
            ::ioctl(fd.get(), BLKFLSBUF, 0);
        }
        LoopDevice loop;
        loop.m_fd = std::move(fd);
        loop.m_number = nr;
        loop.m_path = path;
        struct stat lst;
        if (::fstat(loop.m_fd.get(), &lst) == 0)
            loop.m_devno = lst.st_rdev;
        loop_info64 info;
        if (::ioctl(loop.m_fd.get(), LOOP_GET_STATUS64, &info) == 0)
            loop.m_directIo = (info.lo_flags & LO_FLAGS_DIRECT_IO) != 0;
        return loop;
    }
    throw Error(ErrorCode::Busy, "Cannot find a free loop device: every one tried was taken");
}

void LoopDevice::refreshCapacity()
{
    if (::ioctl(m_fd.get(), LOOP_SET_CAPACITY, 0) < 0)
        throw Error::fromErrno(errno, "Cannot update the size of " + m_path);
}

void LoopDevice::announceHeld(const std::string &luksUuid) const
{
    // A synthetic uevent with arguments (Linux 4.13): udev sees SYNTH_UUID=<uuid> and
    // SYNTH_ARG_COFFER=1 (the kernel takes only letters and digits in an argument). Best effort:
    // without udevd nobody listens, and a missed event only leaves the device visible.
    const std::string event = "change " + luksUuid + " COFFER=1";
    UniqueFd uevent(::open(("/sys/block/loop" + std::to_string(m_number) + "/uevent").c_str(),
                           O_WRONLY | O_CLOEXEC));
    if (uevent)
        (void)!::write(uevent.get(), event.data(), event.size());
}

void LoopDevice::detach(int timeoutMs)
{
    if (!valid())
        return;
    std::string backing = backingFile(m_number);
    ::ioctl(m_fd.get(), LOOP_CLR_FD);
    m_fd.reset();
    int nr = std::exchange(m_number, -1);
    if (!waitDetached(nr, backing, timeoutMs))
        throw Error(ErrorCode::Busy, "The loop device " + m_path + " is still in use");
}

void LoopDevice::release()
{
    m_fd.reset();
    m_number = -1;
}

std::string LoopDevice::backingFile(int number)
{
    std::string s = readSmallFile("/sys/block/loop" + std::to_string(number) + "/loop/backing_file");
    while (!s.empty() && s.back() == '\n')
        s.pop_back();
    return s;
}

bool LoopDevice::waitDetached(int number, const std::string &backing, int timeoutMs)
{
    return waitUntil(timeoutMs, [&] {
        std::string now = backingFile(number);
        return now.empty() || (!backing.empty() && now != backing);
    });
}

} // namespace Coffer
