#include "block/ext4.h"

#include "block/uniquefd.h"
#include "block/util.h"
#include "error.h"

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>

// linux/ext4.h is not in Debian 12's kernel headers.
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

namespace Coffer::Ext4 {

namespace {

ToolOptions sandboxFor(const std::string &device)
{
    ToolOptions o;
    o.timeoutMs = toolTimeoutMs;
    o.sandboxDevice = device;
    o.cpuSeconds = toolTimeoutMs / 1000;
    o.addressSpaceBytes = toolAddressSpace;
    return o;
}

std::string minutes(int ms)
{
    return std::to_string(ms / 60000) + " minutes";
}

} // namespace

void make(const std::string &device, uid_t uid, gid_t gid)
{
    std::string ext = "lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner="
        + std::to_string(uid) + ":" + std::to_string(gid);
    ToolOptions o;
    o.timeoutMs = toolTimeoutMs;
    // -m 0: a vault is a user's data store; no blocks reserved for root.
    ToolResult r = runTool({mke2fsPath, "-q", "-F", "-t", "ext4", "-m", "0", "-E", ext, device}, o);
    if (r.exitCode != 0)
        throw Error(ErrorCode::Failed, "Cannot make the vault's filesystem (mke2fs: " + lastLine(r.output) + ")");
    // mke2fs has no option for the root's mode (0755): the owner's only, so other users cannot
    // read the vault while it is open. debugfs says what failed only in its output.
    r = runTool({debugfsPath, "-w", "-R", "set_inode_field <2> mode 040700", device}, o);
    std::istringstream lines(r.output);
    std::string line;
    while (std::getline(lines, line)) {
        if (r.exitCode != 0 || (!line.empty() && line.rfind("debugfs ", 0) != 0))
            throw Error(ErrorCode::Failed, "Cannot make the vault's filesystem private (debugfs: " + line + ")");
    }
}

State state(const std::string &device)
{
    UniqueFd fd(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot read the vault's filesystem");
    unsigned char sb[1024];
    ssize_t n = ::pread(fd.get(), sb, sizeof sb, 1024);
    if (n != ssize_t(sizeof sb))
        throw Error(ErrorCode::Failed, "Cannot read the vault's filesystem superblock", n < 0 ? errno : EIO);
    auto le16 = [&](size_t off) { return uint16_t(sb[off] | sb[off + 1] << 8); };
    auto le32 = [&](size_t off) {
        return uint32_t(sb[off]) | uint32_t(sb[off + 1]) << 8 | uint32_t(sb[off + 2]) << 16
            | uint32_t(sb[off + 3]) << 24;
    };
    if (le16(0x38) != 0xEF53)
        return State::NotExt;
    const uint16_t stateFlags = le16(0x3A);      // s_state: 1 valid, 2 errors, 4 orphans
    const uint32_t incompat = le32(0x60);        // s_feature_incompat
    const uint32_t errorCount = le32(0x194);     // s_error_count
    const bool needsRecovery = incompat & 0x4;   // INCOMPAT_RECOVER: journal not replayed
    if (!(stateFlags & 1) || (stateFlags & 2) || needsRecovery || errorCount)
        return State::NeedsCheck;
    return State::Clean;
}

void fsckPreen(const std::string &device, bool force)
{
    std::vector<std::string> argv{e2fsckPath, "-p"};
    if (force)
        argv.push_back("-f");
    argv.push_back(sandboxDevicePath);
    ToolResult r = runTool(argv, sandboxFor(device));
    if (r.timedOut)
        throw Error(ErrorCode::Failed, "Checking the vault's filesystem did not finish within "
                                           + minutes(toolTimeoutMs)
                                           + " and was stopped; it may be badly damaged (check it by hand with e2fsck)");
    // 0: clean, 1: errors fixed, 2: fixed, reboot wanted (only for the root fs)
    if (r.exitCode < 0 || r.exitCode >= 4)
        throw Error(ErrorCode::Failed,
                    "The vault's filesystem has errors that need a manual check (e2fsck: "
                        + lastLine(r.output) + ")");
}

void resize(const std::string &device)
{
    ToolResult r = runTool({resize2fsPath, sandboxDevicePath}, sandboxFor(device));
    if (r.timedOut)
        throw Error(ErrorCode::Failed, "Growing the vault's filesystem did not finish within "
                                           + minutes(toolTimeoutMs) + " and was stopped");
    if (r.exitCode != 0)
        throw Error(ErrorCode::Failed, "Cannot grow the vault's filesystem (resize2fs: " + lastLine(r.output) + ")");
}

void resizeMounted(const std::string &mountPoint, const std::string &device)
{
    UniqueFd dev(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
    uint64_t bytes = 0;
    if (!dev || ::ioctl(dev.get(), BLKGETSIZE64, &bytes) != 0)
        throw Error::fromErrno(errno, "Cannot read the size of the vault's encrypted volume");
    UniqueFd dir(::open(mountPoint.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct statfs sfs;
    if (!dir || ::fstatfs(dir.get(), &sfs) != 0 || sfs.f_bsize <= 0)
        throw Error::fromErrno(errno, "Cannot open the vault at " + mountPoint);
    struct stat dst, mst;
    if (::fstat(dev.get(), &dst) != 0 || ::fstat(dir.get(), &mst) != 0 || mst.st_dev != dst.st_rdev)
        throw Error(ErrorCode::InvalidArgument, "The vault's filesystem is not mounted at " + mountPoint);
    uint64_t blocks = bytes / uint64_t(sfs.f_bsize);
    if (::ioctl(dir.get(), EXT4_IOC_RESIZE_FS, &blocks) != 0)
        throw Error::fromErrno(errno, "Cannot grow the vault's filesystem");
}

} // namespace Coffer::Ext4
