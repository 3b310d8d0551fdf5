#pragma once

#include <sys/types.h>

#include <string>

namespace Coffer::Ext4 {

// The e2fsprogs tools by absolute path (design.md 4.7: no shell, fixed argv, clean environment).
inline constexpr const char *mke2fsPath = "/sbin/mke2fs";
inline constexpr const char *e2fsckPath = "/sbin/e2fsck";
inline constexpr const char *resize2fsPath = "/sbin/resize2fs";

// mke2fs -t ext4 with lazy inode table and journal init (a 64 GiB vault writes a few MiB, not
// the whole journal) and the root directory owned by uid:gid.
void make(const std::string &device, uid_t uid, gid_t gid);

enum class State { Clean, NeedsCheck, NotExt };

// Reads the ext2/3/4 superblock from device: NeedsCheck when the journal needs recovery, the
// filesystem is not marked valid or has recorded errors (it was not closed cleanly).
State state(const std::string &device);

// "e2fsck -p": replays the journal and fixes what is safe to fix without asking. Throws when
// problems remain that need a person (exit code 4 and up).
void fsckPreen(const std::string &device, bool force = false);

// resize2fs to fill the device (online when mounted).
void resize(const std::string &device);

} // namespace Coffer::Ext4
