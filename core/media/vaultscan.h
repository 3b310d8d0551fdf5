#pragma once

// Finding vaults on a mounted medium (issue 12): files whose first 4 KiB hold a LUKS header,
// found by a bounded walk from the medium's root, plus the paths the registry says hold vaults.
//
// Runs as the user who can see the medium, never as root (it refuses to): what it may read is
// what that user may read. It reads nothing of a file but its first 4 KiB, opens everything with
// openat() relative to pinned directory fds, never follows a symlink, stays on the medium's
// filesystem, and takes names as bytes (newlines, invalid UTF-8 and 255-byte names are just
// bytes here; see displayText to show them).

#include "media/medium.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Media {

// What a LUKS header's first 4 KiB say. The LUKS2 binary header (cryptsetup's
// docs/on-disk-format-luks2.pdf, lib/luks2/luks2.h) keeps, big-endian: magic[6] "LUKS\xba\xbe",
// version u16 at 6, hdr_size u64 at 8, label[48] at 24, uuid[40] at 168, subsystem[48] at 208,
// hdr_offset u64 at 256. LUKS1 (lib/luks1/luks.h) shares magic and version, its uuid[40] is at
// 168 too and it has no label.
struct LuksHeader
{
    int version = 0;          // 1 or 2
    std::string uuid;         // canonical (Vault::isCanonicalLuksUuid), or the header is refused
    std::string label;        // LUKS2 only; bytes
    std::string subsystem;    // LUKS2 only; bytes
    bool coffer = false;      // subsystem "coffer" or label "coffer:*" (design.md 2)
    std::string name;         // the label without "coffer:" (or the whole label); "" for LUKS1
};

// The primary LUKS1/LUKS2 header at the start of `head`, or nothing: no magic, an unknown
// version, a LUKS2 header that is not a primary one (hdr_offset != 0) or has an impossible
// hdr_size, a UUID that is not canonical.
std::optional<LuksHeader> parseLuksHeader(std::string_view head);

inline constexpr size_t luksProbeSize = 4096;

struct FoundVault
{
    std::string path;         // relative to the medium's root, '/'-separated, bytes
    uint64_t size = 0;        // bytes of the file
    std::string luksUuid;
    std::string name;         // LuksHeader::name
    int luksVersion = 0;
    bool coffer = false;      // marked as Coffer's (LuksHeader::coffer)
    bool registered = false;  // at one of the paths the caller asked about
    bool operator==(const FoundVault &) const = default;
};

struct ScanLimits
{
    int maxDepth = 4;               // directories below the root that are walked (0: root only; at most 32)
    size_t maxEntries = 20000;      // directory entries read in all, then the walk stops
    uint64_t minSize = 1ull << 20;  // smaller files are not probed (no real vault is)
};

struct ScanResult
{
    // Sorted by path. From the walk: LUKS2 files marked as Coffer's and every LUKS1 file (LUKS1
    // cannot be marked; Tomb makes those). At registered paths: any LUKS file.
    std::vector<FoundVault> vaults;
    size_t entriesRead = 0;
    bool truncated = false;         // maxEntries was reached: there may be more
};

// Scans the filesystem whose root directory rootFd is (O_PATH will do). registeredPaths are
// relative paths ("backups/keys.coffer"); one that is absolute, empty, or has "", "." or ".."
// components is ignored. Throws NotAuthorized when run as root, and Failed when rootFd is not a
// readable directory.
ScanResult scanForVaults(int rootFd, const std::vector<std::string> &registeredPaths = {},
                         const ScanLimits &limits = {});

// Opens the first mount point of the medium whose root is still that medium (O_NOFOLLOW, same
// st_dev as its mount entry) and scans it. NotFound when the medium is not mounted.
ScanResult scanMedium(const Medium &medium, const std::vector<std::string> &registeredPaths = {},
                      const ScanLimits &limits = {});

} // namespace Coffer::Media
