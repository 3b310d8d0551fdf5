// Medium checks (design.md 2 and 9): the filesystem the backing file lives on, its free space
// and its limits, looked at through the caller's fd (never a path).

#include "block/vault.h"
#include "block/mediuminternal.h"
#include "bytes.h"

#include "error.h"

#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdio>

namespace Coffer::Vault {

MediumInfo mediumInfoFor(unsigned long fsMagic, uint64_t freeBytes)
{
    MediumInfo info;
    info.freeBytes = freeBytes;
    switch (fsMagic) {
    case 0xEF53: info.fsType = "ext4"; break;
    case 0x4d44: // MSDOS_SUPER_MAGIC
        info.fsType = "vfat";
        info.canSparse = false;
        info.ownersFromMount = true;
        info.maxFileSize = (4ull << 30) - 1;
        break;
    case 0x2011BAB0: // EXFAT_SUPER_MAGIC
        info.fsType = "exfat";
        info.canSparse = false;
        info.ownersFromMount = true;
        break;
    case 0x9123683E: info.fsType = "btrfs"; break;
    case 0x58465342: info.fsType = "xfs"; break;
    case 0x01021994: info.fsType = "tmpfs"; break;
    case 0xF2F52010: info.fsType = "f2fs"; break;
    case 0x5346544e: info.fsType = "ntfs"; break;
    case 0x7366746e: info.fsType = "ntfs3"; break;
    case 0x65735546: info.fsType = "fuse"; break;
    case 0x794c7630: info.fsType = "overlay"; break;
    case 0x01021997: info.fsType = "9p"; break;
    default: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "0x%lx", fsMagic);
        info.fsType = buf;
    }
    }
    if (!info.canSparse)
        info.warnings.push_back("The drive is formatted " + info.fsType
                                + ", which cannot hold sparse files: the vault's full size is "
                                  "written to the drive at once, which takes a while");
    return info;
}

MediumInfo mediumInfo(int backingFd)
{
    struct statfs sfs;
    if (::fstatfs(backingFd, &sfs) < 0)
        throw Error::fromErrno(errno, "Cannot examine the drive the vault file is on");
    return mediumInfoFor((unsigned long)sfs.f_type, uint64_t(sfs.f_bavail) * uint64_t(sfs.f_bsize));
}

void checkFits(const MediumInfo &info, uint64_t totalSize, uint64_t extraBytes)
{
    if (info.maxFileSize && totalSize > info.maxFileSize)
        throw Error(ErrorCode::NoSpace,
                    "A vault of " + formatBytes(totalSize) + " does not fit on a " + info.fsType
                        + " drive: files there must be smaller than 4 GiB. Choose a smaller size "
                          "or a drive formatted exFAT or ext4",
                    EFBIG);
    if (extraBytes > info.freeBytes)
        throw Error(ErrorCode::NoSpace,
                    "The drive has " + formatBytes(info.freeBytes) + " free, but the vault needs "
                        + formatBytes(extraBytes) + " more. Choose a smaller size or free some space",
                    ENOSPC);
}

MediumInfo checkMedium(int backingFd, uint64_t size)
{
    MediumInfo info = mediumInfo(backingFd);
    struct stat st;
    uint64_t current = 0;
    if (::fstat(backingFd, &st) == 0 && S_ISREG(st.st_mode))
        current = uint64_t(st.st_blocks) * 512;
    // A sparse vault may fill up to its full size later: ext4 inside would get I/O errors if the
    // drive ran out under it, so the whole size must be free now.
    checkFits(info, size, size > current ? size - current : 0);
    return info;
}

} // namespace Coffer::Vault
