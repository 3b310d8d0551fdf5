#include "block/ext4.h"

#include "block/uniquefd.h"
#include "block/util.h"
#include "error.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace Coffer::Ext4 {

void make(const std::string &device, uid_t uid, gid_t gid)
{
    std::string ext = "lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner="
        + std::to_string(uid) + ":" + std::to_string(gid);
    // -m 0: a vault is a user's data store; no blocks reserved for root.
    ToolResult r = runTool({mke2fsPath, "-q", "-F", "-t", "ext4", "-m", "0", "-E", ext, device});
    if (r.exitCode != 0)
        throw Error(ErrorCode::Failed, "Cannot make the vault's filesystem (mke2fs: " + lastLine(r.output) + ")");
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
    argv.push_back(device);
    ToolResult r = runTool(argv);
    // 0: clean, 1: errors fixed, 2: fixed, reboot wanted (only for the root fs)
    if (r.exitCode < 0 || r.exitCode >= 4)
        throw Error(ErrorCode::Failed,
                    "The vault's filesystem has errors that need a manual check (e2fsck: "
                        + lastLine(r.output) + ")");
}

void resize(const std::string &device)
{
    ToolResult r = runTool({resize2fsPath, device});
    if (r.exitCode != 0)
        throw Error(ErrorCode::Failed, "Cannot grow the vault's filesystem (resize2fs: " + lastLine(r.output) + ")");
}

} // namespace Coffer::Ext4
