#pragma once

// The kernel's mount table (/proc/self/mountinfo, proc(5)), parsed. Mount points are paths the
// kernel escapes (space, tab, newline and backslash as octal "\ooo"); a label-derived mount
// point such as /media/alice/MY STICK arrives escaped and leaves here as the raw bytes.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Media {

struct MountEntry
{
    int mountId = 0;
    int parentId = 0;
    dev_t dev = 0;            // st_dev of files on this mount (major:minor)
    std::string root;         // the directory of the filesystem mounted here ("/" for its root)
    std::string mountPoint;   // where, relative to this process's root
    std::string options;      // per-mount options ("rw,nosuid,nodev,relatime")
    std::string fsType;       // "vfat", "fuse.sshfs"
    std::string source;       // "/dev/sdb1", or whatever the filesystem says
    std::string superOptions; // per-superblock options
    bool operator==(const MountEntry &) const = default;
};

// Decodes mountinfo's octal escapes: a backslash and three octal digits (at most \377) is that
// byte; any other backslash stays.
std::string decodeMountField(std::string_view field);

// Every well-formed line of a mountinfo text. Lines that are not (too few fields, no "-"
// separator, a device that is not "major:minor") are skipped: one odd line from a strange
// filesystem must not hide the others.
std::vector<MountEntry> parseMountInfo(std::string_view text);

// /proc/self/mountinfo, read and parsed now; empty if it cannot be read.
std::vector<MountEntry> readMountInfo();

} // namespace Coffer::Media
