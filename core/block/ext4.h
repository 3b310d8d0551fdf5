#pragma once

#include <sys/types.h>

#include <string>

namespace Coffer::Ext4 {

// The e2fsprogs tools by absolute path (design.md 4.7: no shell, fixed argv, clean environment).
inline constexpr const char *mke2fsPath = "/sbin/mke2fs";
inline constexpr const char *e2fsckPath = "/sbin/e2fsck";
inline constexpr const char *resize2fsPath = "/sbin/resize2fs";
inline constexpr const char *debugfsPath = "/sbin/debugfs";

// e2fsck and resize2fs read filesystems users built, as root: they run sandboxed (runTool's
// ToolOptions::sandboxDevice: nobody, no capabilities, only the device), with these limits.
inline constexpr int toolTimeoutMs = 30 * 60 * 1000;
inline constexpr unsigned long long toolAddressSpace = 4ull << 30;

// mke2fs -t ext4 with lazy inode table and journal init (a 64 GiB vault writes a few MiB, not
// the whole journal) and the root directory owned by uid:gid, mode 0700 (the owner's only).
void make(const std::string &device, uid_t uid, gid_t gid);

enum class State { Clean, NeedsCheck, NotExt };

// Reads the ext2/3/4 superblock from device: NeedsCheck when the journal needs recovery, the
// filesystem is not marked valid or has recorded errors (it was not closed cleanly).
State state(const std::string &device);

// "e2fsck -p" (sandboxed): replays the journal and fixes what is safe to fix without asking.
// Throws when problems remain that need a person (exit code 4 and up) or it did not finish in
// time.
void fsckPreen(const std::string &device, bool force = false);

// resize2fs (sandboxed) to fill the device; the filesystem must not be mounted.
void resize(const std::string &device);

// Grows the filesystem mounted at mountPoint to fill its device, through the kernel
// (EXT4_IOC_RESIZE_FS): no tool runs as root on a mounted filesystem.
void resizeMounted(const std::string &mountPoint, const std::string &device);

} // namespace Coffer::Ext4
