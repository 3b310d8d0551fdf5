#pragma once

// A medium: one filesystem on a USB drive, as udev and the kernel describe it (design.md 1, issue
// 12). The facts come from udev's properties and the kernel's mount table; every one of them is
// someone else's bytes (a FAT label is whatever the stick says), so the parsers here are pure
// functions over strings, tested with hostile input, and nothing here follows a path a label or
// a mount point could steer.
//
// Used by the root helper (MediaMonitor, for teardown when a drive goes) and by clients as the
// user (the plug flow); neither runs the vault scanner's reads through here.

#include "block/uniquefd.h"
#include "media/mountinfo.h"

#include <QString>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Media {

// udev's properties (or sysfs attributes) of one device: name -> value, both bytes.
using PropertyMap = std::map<std::string, std::string>;

struct Medium
{
    std::string devNode;      // "/dev/sdb1" (DEVNAME)
    dev_t devnum = 0;         // major:minor of the filesystem's block device
    std::string fsUuid;       // ID_FS_UUID: "1234-ABCD", "0b1e...": empty if the filesystem has none
    std::string label;        // ID_FS_LABEL_ENC decoded: raw bytes, may be anything (see displayText)
    std::string fsType;       // ID_FS_TYPE: "vfat", "exfat", "ext4", ...
    std::string serial;       // ID_SERIAL_SHORT: the USB device's serial number (may be empty)
    std::string vendor;       // ID_VENDOR_ENC decoded (or ID_VENDOR)
    std::string model;        // ID_MODEL_ENC decoded (or ID_MODEL)
    uint64_t size = 0;        // bytes of the filesystem's block device
    bool removable = false;   // the drive says its medium is removable (most USB sticks)
    // Where the medium's root is mounted (mountinfo entries of this device whose root is "/"),
    // as the kernel names them (bytes). Empty when the desktop has not mounted it.
    std::vector<std::string> mountPoints;
    // Free space of the mounted filesystem (statvfs f_bavail * f_frsize); none when unmounted.
    std::optional<uint64_t> freeBytes;

    bool mounted() const { return !mountPoints.empty(); }
    bool operator==(const Medium &) const = default;
};

// Longest label, serial, vendor or model kept; udev's own are far shorter, a hostile one is cut.
inline constexpr size_t maxFactLength = 256;

// Decodes udev's "\xNN" escapes (ID_FS_LABEL_ENC, ID_VENDOR_ENC, ID_MODEL_ENC): each "\x" with
// two hex digits becomes that byte (NUL included), any other backslash stays as it is.
std::string decodeUdevEscapes(std::string_view encoded);

// The facts of a block device from its udev properties and the sysfs attributes "size" (512-byte
// sectors, of the device itself) and "removable" (of its disk). Missing or malformed properties
// leave their field empty or zero; the result has no mount points yet (see attachMounts).
// Returns nothing when the properties do not describe a filesystem (no MAJOR/MINOR, or
// ID_FS_USAGE is not "filesystem").
std::optional<Medium> mediumFromUdev(const PropertyMap &properties, const PropertyMap &sysattrs);

// The mount table's entries of the medium's root: its device (major:minor, or for filesystems
// such as btrfs that report an anonymous device, a mount source equal to its device node) with
// root "/" (a bind mount of a directory inside it is not the medium's root).
std::vector<MountEntry> rootMounts(const Medium &medium, const std::vector<MountEntry> &mounts);

// Opens a mount point (O_PATH, O_DIRECTORY) only if what is mounted there now is what the entry
// says (same st_dev): a mount point is a path, and whoever owns the directories above it could
// have swapped them since. Invalid when it is not.
UniqueFd openMountRoot(const MountEntry &mount);

// Fills medium.mountPoints (see rootMounts) and freeBytes, from the first mount point that
// still is this medium (see openMountRoot). Never throws.
void refreshMounts(Medium &medium, const std::vector<MountEntry> &mounts);

// Bytes from a medium (a label, a file name) made fit to show: invalid UTF-8 becomes U+FFFD,
// and so do control characters and the bidirectional overrides that could make a name read as
// another; at most maxChars characters (an ellipsis marks a cut).
QString displayText(std::string_view bytes, qsizetype maxChars = 255);

// What to call the medium in a UI: its label fit to show, else "<vendor> <model>", else its
// device node.
QString displayName(const Medium &medium);

} // namespace Coffer::Media
