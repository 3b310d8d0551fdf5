#include "create/newvault.h"

#include "block/mediuminternal.h"
#include "block/uniquefd.h"
#include "paths.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

namespace Coffer::Create {

namespace {

constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t block = 4096;

uint64_t roundUp(uint64_t n, uint64_t unit)
{
    return (n + unit - 1) / unit * unit;
}

// A directory under $TMPDIR that lives as long as this object.
class TemporaryDirectory
{
public:
    TemporaryDirectory()
    {
        const char *tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && tmp[0] == '/' ? tmp : "/tmp") + "/coffer-preview-XXXXXX";
        if (!::mkdtemp(templ.data()))
            throw Error::fromErrno(errno, "Cannot make a temporary folder for the preview");
        m_path = templ;
    }
    ~TemporaryDirectory() { ::rmdir(m_path.c_str()); }
    TemporaryDirectory(const TemporaryDirectory &) = delete;
    TemporaryDirectory &operator=(const TemporaryDirectory &) = delete;
    const std::string &path() const { return m_path; }

private:
    std::string m_path;
};

} // namespace

FolderCheck checkFolder(int folderFd, uint64_t size, const MediumProbe &probe)
{
    FolderCheck check;
    check.medium = probe ? probe(folderFd) : Vault::mediumInfo(folderFd);
    check.largestVault = check.medium.freeBytes;
    if (check.medium.maxFileSize)
        check.largestVault = std::min(check.largestVault, check.medium.maxFileSize);
    check.largestVault = std::min(check.largestVault / MiB * MiB, Vault::maximumSize);
    try {
        // A new file is empty: the vault needs all of its size free (Vault::checkMedium).
        Vault::checkFits(check.medium, size, size);
    } catch (const Error &e) {
        check.refusal = e;
    }
    return check;
}

FolderCheck checkFolder(const std::string &folder, uint64_t size, const MediumProbe &probe)
{
    const UniqueFd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open the folder " + folder);
    return checkFolder(fd.get(), size, probe);
}

uint64_t usableBytes(uint64_t size)
{
    if (size <= luksHeaderBytes)
        return 0;
    // What mke2fs 1.47 (/etc/mke2fs.conf, ext2fs_default_journal_size) and the kernel's ext4 take
    // of a filesystem of this size on a device with 4096-byte sectors (so 4 KiB blocks always).
    const uint64_t fs = size - luksHeaderBytes;
    const uint64_t blocks = fs / block;
    constexpr uint64_t K = 1024;
    const uint64_t journalBlocks = blocks < 2048 ? 0
        : blocks < 32 * K                    ? 1024
        : blocks < 256 * K                   ? 4096
        : blocks < 512 * K                   ? 8192
        : blocks < 4096 * K                  ? 16384
        : blocks < 8192 * K                  ? 32768
        : blocks < 16384 * K                 ? 65536
        : blocks < 32768 * K                 ? 131072
                                             : 262144;
    // Inode tables: 256-byte inodes, one per inode_ratio bytes of the fs type mke2fs picks by size.
    const uint64_t inodeRatio = fs < 512 * MiB ? 4096 : fs < (4ull << 40) ? 16384 : fs < (16ull << 40) ? 32768 : 65536;
    const uint64_t inodeTables = fs / inodeRatio * 256;
    // ext4 holds back 2% of the blocks, at most 4096 of them, for delayed allocation (statfs
    // leaves them out of the available space).
    const uint64_t reserve = std::min(fs / 50, 4096 * block);
    // Bitmaps, group descriptors, superblock copies, the blocks kept to grow the descriptors,
    // the root and lost+found: well under this.
    const uint64_t metadata = fs / 128 + MiB / 2;
    const uint64_t overhead = journalBlocks * block + inodeTables + reserve + metadata;
    return fs > overhead ? fs - overhead : 0;
}

uint64_t sizeFor(uint64_t bytes)
{
    // usableBytes() grows with the size except where mke2fs steps up the journal or the inode
    // ratio (a vault just past a step holds less than one just before it), so search each stretch
    // between two steps on its own, smallest first. Sizes are whole MiB.
    constexpr uint64_t K = 1024;
    const uint64_t stepsInBlocks[] = {32 * K, 128 * K, 256 * K, 512 * K, 4096 * K, 8192 * K, 16384 * K, 32768 * K,
                                      1024 * K * K, 4096 * K * K};
    uint64_t lo = Vault::minimumSize / MiB;
    const uint64_t last = Vault::maximumSize / MiB;
    for (size_t i = 0; lo <= last; ++i) {
        // The stretch [lo, hi]: vault sizes whose filesystem lies below the next step.
        uint64_t hi = last;
        if (i < std::size(stepsInBlocks))
            hi = std::min(last, (stepsInBlocks[i] * block + luksHeaderBytes) / MiB - 1);
        if (hi >= lo && usableBytes(hi * MiB) >= bytes) {
            while (lo < hi) {
                const uint64_t mid = lo + (hi - lo) / 2;
                if (usableBytes(mid * MiB) >= bytes)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            return lo * MiB;
        }
        lo = std::max(lo, hi + 1);
    }
    return Vault::maximumSize;
}

uint64_t spaceNeeded(const Sync::Plan &plan)
{
    if (plan.items.empty())
        return roundUp(plan.bytesToWrite, block) + (plan.added + plan.updated) * block;
    // The sync manifest keeps a line per entry in .coffer/sync.
    constexpr uint64_t manifestPerEntry = 128;
    // ext4 keeps a symlink target of up to 59 bytes in its inode.
    constexpr uint64_t inlineSymlink = 60;
    uint64_t needed = 0;
    for (const Sync::PlanItem &item : plan.items) {
        if (item.action == Sync::PlanAction::Delete)
            continue;
        switch (item.type) {
        case 'f': needed += roundUp(item.bytes, block); break;
        case 'd': needed += block; break;
        case 'l': needed += item.bytes >= inlineSymlink ? block : 0; break;
        default: break;
        }
        needed += manifestPerEntry;
    }
    return roundUp(needed, block);
}

std::vector<Sync::Source> sourcesFor(const std::vector<std::string> &paths)
{
    std::vector<Sync::Source> sources;
    for (const std::string &path : paths) {
        Sync::Source s{path, lastComponent(path)};
        if (s.name.empty() || s.name == "/" || s.name == "." || s.name == "..")
            throw Error(ErrorCode::InvalidArgument,
                        "The folder " + path + " has no name of its own to keep it under in the vault; choose a folder inside it.");
        for (const Sync::Source &other : sources) {
            if (other.name == s.name)
                throw Error(ErrorCode::InvalidArgument,
                            other.path + " and " + path + " have the same name, \"" + s.name
                                + "\": the vault keeps each folder under its name, so only one of them can go in.");
        }
        sources.push_back(std::move(s));
    }
    return sources;
}

Preview preview(const std::vector<std::string> &sources, Sync::Mode mode, const std::vector<std::string> &excludes,
                uint64_t size, const std::atomic<bool> *cancel)
{
    const TemporaryDirectory empty;
    Sync::Options options;
    options.sources = sourcesFor(sources);
    options.destination = empty.path();
    options.mode = mode;
    options.excludes = excludes;
    options.dryRun = true;
    Preview p;
    const Error cancelled(ErrorCode::Cancelled, "The preview was cancelled.");
    try {
        p.dryRun = Sync::run(options, {}, cancel);
    } catch (const Error &) {
        throw;
    } catch (...) {
        // Sync::run lets its internal cancellation escape when it comes during the scan (it
        // returns Outcome::Cancelled only once it is executing).
        if (cancel && cancel->load())
            throw cancelled;
        throw;
    }
    if (p.dryRun.outcome == Sync::Outcome::Cancelled)
        throw cancelled;
    p.needed = spaceNeeded(p.dryRun.plan);
    p.usable = usableBytes(size);
    p.fits = p.needed <= p.usable;
    p.sizeToFit = sizeFor(p.needed);
    return p;
}

} // namespace Coffer::Create
