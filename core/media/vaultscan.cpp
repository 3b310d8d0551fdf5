#include "media/vaultscan.h"

#include "block/uniquefd.h"
#include "block/vault.h"
#include "error.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <unistd.h>

namespace Coffer::Media {

namespace {

constexpr char luksMagic[] = "LUKS\xba\xbe";
constexpr size_t luksMagicLength = 6;

uint64_t bigEndian(std::string_view head, size_t offset, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i)
        v = (v << 8) | uint8_t(head[offset + i]);
    return v;
}

// A fixed-size string field: up to its first NUL (or the field's end).
std::string field(std::string_view head, size_t offset, size_t length)
{
    const std::string_view f = head.substr(offset, length);
    return std::string(f.substr(0, std::min(f.find('\0'), f.size())));
}

bool isPowerOfTwo(uint64_t v)
{
    return v && !(v & (v - 1));
}

// openat() flags for everything the scan opens: no symlink, no controlling tty, no blocking on
// a FIFO that a stat would have shown to be one a moment ago.
constexpr int openFlags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;

// The walk holds one directory fd per level: whatever a caller asks, it goes no deeper.
constexpr int maxWalkDepth = 32;

struct Walk
{
    const ScanLimits &limits;
    dev_t rootDev = 0;
    ScanResult result;
    std::map<std::pair<dev_t, ino_t>, size_t> found; // index in result.vaults: hard links are one vault

    // Probes one regular file; adds it if it is a vault the caller wants to hear of.
    void probe(int dirFd, const std::string &name, const std::string &path, bool registered)
    {
        UniqueFd fd(::openat(dirFd, name.c_str(), openFlags));
        struct stat st;
        // A file bind-mounted over a name on the medium is not on the medium.
        if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != rootDev)
            return;
        if (!registered && uint64_t(st.st_size) < limits.minSize)
            return;
        char buf[luksProbeSize];
        ssize_t n;
        do
            n = ::pread(fd.get(), buf, sizeof buf, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            return;
        const std::optional<LuksHeader> header = parseLuksHeader(std::string_view(buf, size_t(n)));
        if (!header || (!registered && header->version == 2 && !header->coffer))
            return;
        const auto id = std::make_pair(st.st_dev, st.st_ino);
        if (const auto it = found.find(id); it != found.end()) {
            if (registered) { // a hard-linked vault goes by the name it was registered under
                result.vaults[it->second].path = path;
                result.vaults[it->second].registered = true;
            }
            return;
        }
        found.emplace(id, result.vaults.size());
        result.vaults.push_back({path, uint64_t(st.st_size), header->uuid, header->name, header->version,
                                 header->coffer, registered});
    }

    void walk(int dirFd, const std::string &prefix, int depth)
    {
        // readdir gets its own fd of the pinned directory: closedir() closes that one.
        UniqueFd readFd(::openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        DIR *dir = readFd ? ::fdopendir(readFd.get()) : nullptr;
        if (!dir)
            return;
        readFd.release();
        for (;;) {
            errno = 0;
            const dirent *entry = ::readdir(dir);
            if (!entry)
                break;
            const std::string name = entry->d_name;
            if (name == "." || name == "..")
                continue;
            if (result.entriesRead >= limits.maxEntries) {
                result.truncated = true;
                break;
            }
            ++result.entriesRead;
            unsigned char type = entry->d_type;
            if (type == DT_UNKNOWN) {
                struct stat st;
                if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                    continue;
                type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
            }
            const std::string path = prefix.empty() ? name : prefix + '/' + name;
            if (type == DT_REG) {
                probe(dirFd, name, path, false);
            } else if (type == DT_DIR && depth < std::min(limits.maxDepth, maxWalkDepth) && !isTrash(name)) {
                if (const UniqueFd sub = openSubdirectory(dirFd, name))
                    walk(sub.get(), path, depth + 1);
            }
            if (result.truncated)
                break;
        }
        ::closedir(dir);
    }

    // A directory of the medium (not a symlink, not another filesystem mounted inside it).
    UniqueFd openSubdirectory(int dirFd, const std::string &name) const
    {
        UniqueFd sub(::openat(dirFd, name.c_str(), openFlags | O_DIRECTORY));
        struct stat st;
        if (sub && (::fstat(sub.get(), &st) != 0 || st.st_dev != rootDev))
            sub.reset();
        return sub;
    }

    // A file someone deleted is not a vault on the medium, even if the desktop kept it.
    static bool isTrash(const std::string &name)
    {
        return name.rfind(".Trash-", 0) == 0 || name == ".Trash" || name == ".Trashes";
    }

    void lookUp(int rootFd, const std::string &relative)
    {
        std::vector<std::string> parts;
        size_t start = 0;
        while (start <= relative.size()) {
            const size_t slash = std::min(relative.find('/', start), relative.size());
            parts.push_back(relative.substr(start, slash - start));
            start = slash + 1;
        }
        constexpr size_t maxComponents = 64;
        if (relative.empty() || relative.size() > 4096 || parts.size() > maxComponents)
            return;
        for (const std::string &p : parts) {
            if (p.empty() || p == "." || p == ".." || p.size() > NAME_MAX)
                return;
        }
        UniqueFd dir(::fcntl(rootFd, F_DUPFD_CLOEXEC, 0));
        for (size_t i = 0; i + 1 < parts.size(); ++i) {
            UniqueFd sub = openSubdirectory(dir.get(), parts[i]);
            if (!sub)
                return;
            dir = std::move(sub);
        }
        probe(dir.get(), parts.back(), relative, true);
    }
};

} // namespace

std::optional<LuksHeader> parseLuksHeader(std::string_view head)
{
    constexpr size_t luks1Size = 208;  // up to the end of its uuid
    constexpr size_t luks2Size = 264;  // up to the end of hdr_offset
    if (head.size() < luks1Size || head.substr(0, luksMagicLength) != std::string_view(luksMagic, luksMagicLength))
        return std::nullopt;
    LuksHeader h;
    h.version = int(bigEndian(head, 6, 2));
    if (h.version == 2) {
        if (head.size() < luks2Size)
            return std::nullopt;
        const uint64_t hdrSize = bigEndian(head, 8, 8);
        // The binary header plus its JSON area: a power of two from 16 KiB to 4 MiB.
        if (!isPowerOfTwo(hdrSize) || hdrSize < (16u << 10) || hdrSize > (4u << 20) || bigEndian(head, 256, 8) != 0)
            return std::nullopt;
        h.label = field(head, 24, 48);
        h.subsystem = field(head, 208, 48);
        constexpr std::string_view prefix = "coffer:";
        const bool prefixed = std::string_view(h.label).substr(0, prefix.size()) == prefix;
        h.coffer = h.subsystem == "coffer" || prefixed;
        h.name = prefixed ? h.label.substr(prefix.size()) : h.label;
    } else if (h.version != 1) {
        return std::nullopt;
    }
    h.uuid = field(head, 168, 40);
    if (!Vault::isCanonicalLuksUuid(h.uuid))
        return std::nullopt;
    return h;
}

ScanResult scanForVaults(int rootFd, const std::vector<std::string> &registeredPaths, const ScanLimits &limits)
{
    if (::geteuid() == 0)
        throw Error(ErrorCode::NotAuthorized,
                    "Drives are searched for vaults as the user who uses them, never as root");
    struct stat st;
    if (::fstat(rootFd, &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(ErrorCode::Failed, "The drive's folder cannot be searched for vaults: it is not a directory",
                    ENOTDIR);
    Walk walk{limits, st.st_dev, {}, {}};
    walk.walk(rootFd, {}, 0);
    for (const std::string &path : registeredPaths) {
        if (std::none_of(walk.result.vaults.begin(), walk.result.vaults.end(), [&](FoundVault &v) {
                if (v.path != path)
                    return false;
                v.registered = true;
                return true;
            }))
            walk.lookUp(rootFd, path);
    }
    std::sort(walk.result.vaults.begin(), walk.result.vaults.end(),
              [](const FoundVault &a, const FoundVault &b) { return a.path < b.path; });
    return std::move(walk.result);
}

ScanResult scanMedium(const Medium &medium, const std::vector<std::string> &registeredPaths,
                      const ScanLimits &limits)
{
    for (const MountEntry &mount : rootMounts(medium, readMountInfo())) {
        if (const UniqueFd root = openMountRoot(mount))
            return scanForVaults(root.get(), registeredPaths, limits);
    }
    throw Error(ErrorCode::NotFound, "The drive " + displayName(medium).toStdString()
                                         + " is not mounted: open it in the file manager first");
}

} // namespace Coffer::Media
