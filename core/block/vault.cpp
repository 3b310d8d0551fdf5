// The vault operations (vault.h): compositions of the RAII block types. Each function builds its
// stack bottom-up with a guard per layer; an exception unwinds the guards top-down, so a failure
// at any step leaves nothing attached. On success the guards are released in the order that
// hands teardown to the kernel (deferred dm removal, loop autoclear).

#include "block/vault.h"

#include "block/cryptdevice.h"
#include "block/ext4.h"
#include "block/kdflimits.h"
#include "block/loopdevice.h"
#include "block/mapping.h"
#include "block/mediuminternal.h"
#include "block/mount.h"
#include "block/uniquefd.h"
#include "block/util.h"
#include "block/vaultinternal.h"
#include "bytes.h"
#include "error.h"

#include <libcryptsetup.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <climits>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sstream>
#include <unistd.h>

namespace Coffer::Vault {

namespace {

constexpr uint64_t MiB = 1ull << 20;
constexpr const char *subsystemName = "coffer";

// libcryptsetup wants a path. /proc/self/fd/N names exactly the caller's inode: no path of the
// caller's is ever resolved as root.
std::string fdPath(int fd)
{
    return "/proc/self/fd/" + std::to_string(fd);
}

struct stat statBacking(int fd)
{
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) < 0)
        throw Error::fromErrno(ErrorCode::InvalidArgument, fd < 0 ? EBADF : errno,
                               "Cannot use the vault file");
    if (!S_ISREG(st.st_mode))
        throw Error(ErrorCode::InvalidArgument, "The vault file is not a regular file");
    return st;
}

void requireWritable(int fd)
{
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) != O_RDWR)
        throw Error(ErrorCode::InvalidArgument, "The vault file must be opened for reading and writing");
}

uint64_t roundUpMiB(uint64_t size)
{
    return (size + MiB - 1) / MiB * MiB;
}

void applyPbkdf(crypt_device *cd, const PbkdfOptions &o)
{
    KdfLimits::checkNewSlot(o);
    if (!o.memoryKiB && !o.iterMs && !o.iterations && !o.parallel)
        return; // cryptsetup's own benchmarked defaults
    const crypt_pbkdf_type *def = crypt_get_pbkdf_default(CRYPT_LUKS2);
    crypt_pbkdf_type p = *def;
    p.type = CRYPT_KDF_ARGON2ID;
    if (o.memoryKiB)
        p.max_memory_kb = o.memoryKiB;
    if (o.iterMs)
        p.time_ms = o.iterMs;
    if (o.parallel)
        p.parallel_threads = o.parallel;
    if (o.iterations) {
        p.iterations = o.iterations;
        p.flags |= CRYPT_PBKDF_NO_BENCHMARK;
    }
    int r = crypt_set_pbkdf_type(cd, &p);
    if (r < 0)
        throwCryptError(r, "The key derivation settings are not valid");
}

uint32_t loopBlockSizeFor(const CryptDevice &cd)
{
    // The loop's logical block size must not exceed dm-crypt's sector size or the filesystem's
    // block size: old LUKS1 vaults (512-byte sectors, maybe a 1 KiB-block ext4) need 512.
    return cd.sectorSize() >= 4096 ? 4096 : 512;
}

void fillStats(OpenVault &v)
{
    struct statvfs s;
    if (::statvfs(v.mountPoint.c_str(), &s) == 0) {
        v.size = uint64_t(s.f_blocks) * s.f_frsize;
        v.used = uint64_t(s.f_blocks - s.f_bfree) * s.f_frsize;
    }
}

void fillFromHeader(OpenVault &v, const CryptDevice &cd)
{
    v.luksUuid = cd.uuid();
    v.luksType = cd.type();
    v.label = cd.label();
    v.name = nameFromLabel(v.label);
}

// Loop device number of a block device's major:minor via sysfs ("loop3" -> 3), -1 if not a loop.
int loopNumberOf(dev_t dev)
{
    char target[PATH_MAX];
    std::string path = "/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
    ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n <= 0)
        return -1;
    target[n] = 0;
    const char *base = std::strrchr(target, '/');
    base = base ? base + 1 : target;
    if (std::strncmp(base, "loop", 4) != 0)
        return -1;
    return std::atoi(base + 4);
}

std::string describeHolders(const std::vector<const Mount::Holder *> &hs)
{
    std::string s;
    for (const auto *h : hs) {
        if (!s.empty())
            s += ", ";
        s += h->name + " (pid " + std::to_string(h->pid) + ", " + h->what + ")";
    }
    return s;
}

// The holders of dev other than this process, split into those `owner` could signal (all of
// them without an owner) and the others'.
struct Holders
{
    Mount::HolderScan scan;
    std::vector<const Mount::Holder *> stoppable, others;

    Holders(dev_t dev, const std::optional<uid_t> &owner)
        : scan(Mount::holders(dev))
    {
        const pid_t self = ::getpid();
        for (const Mount::Holder &h : scan.holders) {
            if (h.pid == self)
                continue;
            (!owner || h.uid == *owner || h.savedUid == *owner ? stoppable : others).push_back(&h);
        }
    }
    bool none() const { return stoppable.empty() && others.empty(); }
    std::string incomplete() const
    {
        return scan.complete ? std::string()
                             : " (and maybe others: there were too many processes or open files to look at all)";
    }
};

std::vector<int> activeKeyslots(const CryptDevice &cd)
{
    std::vector<int> out;
    for (int s = 0; s < crypt_keyslot_max(crypt_get_type(cd.get())); ++s) {
        crypt_keyslot_info ki = crypt_keyslot_status(cd.get(), s);
        if (ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST)
            out.push_back(s);
    }
    return out;
}

// Sets the backing file back to empty if creation fails half-way (it was empty before).
struct TruncateGuard
{
    int fd;
    bool armed = true;
    ~TruncateGuard()
    {
        if (armed)
            (void)!::ftruncate(fd, 0);
    }
};

} // namespace

SecretBuffer randomKey(size_t bytes)
{
    SecretBuffer key(bytes);
    size_t got = 0;
    while (got < bytes) {
        ssize_t n = ::getrandom(key.data() + got, bytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error::fromErrno(errno, "Cannot get random bytes for the vault's key");
        got += size_t(n);
    }
    return key;
}

std::string formatLuks2(const std::string &path, const SecretBuffer &volumeKey,
                        const SecretBuffer &passphrase, const CreateOptions &options)
{
    const auto dash = options.cipher.find('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 == options.cipher.size())
        throw Error(ErrorCode::InvalidArgument, "The cipher must look like \"aes-xts-plain64\"");
    const std::string cipher = options.cipher.substr(0, dash);
    const std::string mode = options.cipher.substr(dash + 1);
    if (volumeKey.size() != options.keyBits / 8)
        throw Error(ErrorCode::InvalidArgument, "The volume key has the wrong size");

    CryptDevice cd = CryptDevice::init(path);
    applyPbkdf(cd.get(), options.pbkdf);
    const std::string label = labelFor(options.name);
    crypt_params_luks2 params;
    std::memset(&params, 0, sizeof params);
    params.sector_size = options.sectorSize;
    params.label = label.c_str();
    params.subsystem = subsystemName;
    int r = crypt_format(cd.get(), CRYPT_LUKS2, cipher.c_str(), mode.c_str(), nullptr, volumeKey.data(),
                         volumeKey.size(), &params);
    if (r < 0)
        throwCryptError(r, "Cannot write the vault's LUKS2 header");
    r = crypt_keyslot_add_by_volume_key(cd.get(), CRYPT_ANY_SLOT, nullptr, 0, passphrase.data(),
                                        passphrase.size());
    if (r < 0)
        throwCryptError(r, "Cannot add the passphrase to the vault");
    if (options.keyFile) {
        r = crypt_keyslot_add_by_volume_key(cd.get(), CRYPT_ANY_SLOT, nullptr, 0,
                                            options.keyFile->data(), options.keyFile->size());
        if (r < 0)
            throwCryptError(r, "Cannot add the key file to the vault");
    }
    cd.validate(); // what a benchmark chose must open again
    return cd.uuid();
}

bool isCanonicalLuksUuid(std::string_view uuid)
{
    if (uuid.size() != 36)
        return false;
    for (size_t i = 0; i < uuid.size(); ++i) {
        const char c = uuid[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

std::string mapperNameFor(const std::string &luksUuid)
{
    return Mapping::namePrefix + luksUuid;
}

// ---- create ------------------------------------------------------------------------------------

CreateResult create(int backingFd, uint64_t size, const SecretBuffer &passphrase,
                    const CreateOptions &options)
{
    CryptDevice::setupLibrary();
    validateName(options.name);
    if (passphrase.empty())
        throw Error(ErrorCode::InvalidArgument, "The passphrase is empty");
    if (options.keyFile && options.keyFile->empty())
        throw Error(ErrorCode::InvalidArgument, "The key file is empty");
    if (size == 0)
        throw Error(ErrorCode::InvalidArgument, "The vault's size must be more than 0");
    size = roundUpMiB(size);
    if (size < minimumSize)
        throw Error(ErrorCode::InvalidArgument, "A vault must be at least " + formatBytes(minimumSize));
    if (size > maximumSize)
        throw Error(ErrorCode::InvalidArgument, "A vault can be at most " + formatBytes(maximumSize));
    struct stat st = statBacking(backingFd);
    if (st.st_size != 0)
        throw Error(ErrorCode::InvalidArgument,
                    "The vault file is not empty; Coffer creates vaults only in new, empty files "
                    "(the file was left untouched)");
    requireWritable(backingFd);
    if (options.keyBits < 128 || options.keyBits > 1024 || options.keyBits % 8)
        throw Error(ErrorCode::InvalidArgument, "The key size must be 128 to 1024 bits");

    CreateResult result;
    result.medium = checkMedium(backingFd, size);

    TruncateGuard truncateGuard{backingFd};
    if (::ftruncate(backingFd, off_t(size)) < 0)
        throw Error::fromErrno(errno, "Cannot size the vault file");

    // The header goes straight into the file (no loop device needed for that); the volume key
    // is ours, so activation below needs no second (slow) key derivation.
    SecretBuffer volumeKey = randomKey(options.keyBits / 8);
    result.luksUuid = formatLuks2(fdPath(backingFd), volumeKey, passphrase, options);
    result.label = labelFor(options.name);
    result.size = size;

    LoopDevice loop = LoopDevice::attach(backingFd, {options.sectorSize >= 4096 ? 4096u : 512u, true, false});
    CryptDevice cd = CryptDevice::load(loop.path());
    if (cd.uuid() != result.luksUuid)
        throw Error(ErrorCode::Busy, "The vault file changed while it was being created", EBUSY);
    const std::string name = mapperNameFor(result.luksUuid);
    int r = crypt_activate_by_volume_key(cd.get(), name.c_str(), volumeKey.data(), volumeKey.size(),
                                         CRYPT_ACTIVATE_NO_READ_WORKQUEUE | CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE);
    if (r < 0 && !Mapping::available())
        throw Error(ErrorCode::NotSupported,
                    "The kernel cannot open encrypted volumes here (device-mapper is not available)", -r);
    if (r < 0)
        throwCryptError(r, "Cannot open the new vault to make its filesystem");
    Mapping mapping(name);
    Ext4::make(mapping.devicePath(), options.ownerUid, options.ownerGid);
    mapping.remove();
    cd = CryptDevice();
    loop.detach();
    if (::fsync(backingFd) < 0)
        throw Error::fromErrno(errno, "Cannot write the vault file to the drive");
    truncateGuard.armed = false;
    return result;
}

// ---- open / close ------------------------------------------------------------------------------

OpenVault open(int backingFd, const SecretBuffer &secret, const std::string &mountPoint,
               const OpenOptions &options)
{
    CryptDevice::setupLibrary();
    struct stat st = statBacking(backingFd);
    if (st.st_size == 0)
        throw Error(ErrorCode::NotSupported, "The vault file is empty: it has no LUKS header");
    if (!options.readOnly)
        requireWritable(backingFd);
    if (mountPoint.empty() || mountPoint[0] != '/')
        throw Error(ErrorCode::InvalidArgument, "The mount point must be an absolute path");

    OpenVault v;
    uint32_t blockSize;
    {
        // Look at the header before attaching anything: no LUKS, bad flags, absurd costs and
        // "already open" fail here with nothing to undo.
        CryptDevice header = CryptDevice::load(fdPath(backingFd));
        fillFromHeader(v, header);
        blockSize = loopBlockSizeFor(header);
    }
    v.mapperName = mapperNameFor(v.luksUuid);
    v.mapperDevice = "/dev/mapper/" + v.mapperName;
    v.mountPoint = mountPoint;
    if (!Mapping::available())
        throw Error(ErrorCode::NotSupported,
                    "The kernel cannot open encrypted volumes here (device-mapper is not available)");
    if (Mapping::exists(v.mapperName))
        throw Error(ErrorCode::Busy, "This vault is already open (another copy of it, or this file, "
                                     "is unlocked as " + v.mapperName + ")", EBUSY);

    LoopDevice loop = LoopDevice::attach(backingFd, {blockSize, options.directIo, options.readOnly});
    v.loopDevice = loop.path();
    v.backingFile = LoopDevice::backingFile(loop.number());

    // Read the header again through the loop device: that is what gets activated.
    CryptDevice cd = CryptDevice::load(loop.path());
    if (cd.uuid() != v.luksUuid)
        throw Error(ErrorCode::Busy, "The vault file changed while it was being opened", EBUSY);
    v.keyslot = cd.activate(v.mapperName, secret, options.readOnly);
    Mapping mapping(v.mapperName);
    // The loop's own uevents came before the mapping existed: now udev learns who holds it.
    loop.announceHeld(v.luksUuid);

    Ext4::State state = Ext4::state(v.mapperDevice);
    if (state == Ext4::State::NotExt)
        throw Error(ErrorCode::NotSupported, "The vault unlocked, but it holds no ext4 filesystem");
    // A vault not closed cleanly is always checked first: its filesystem is someone's image and
    // the kernel is to mount it (design.md 4.3). Read-only there is nothing to replay or repair it
    // with, so it is refused.
    if (state == Ext4::State::NeedsCheck && options.readOnly)
        throw Error(ErrorCode::Failed, "This vault was not closed cleanly and needs a file system "
                                       "check, which a read-only unlock cannot do; unlock it "
                                       "read-write once");
    if (state == Ext4::State::NeedsCheck || (options.forceFsck && !options.readOnly)) {
        Ext4::fsckPreen(v.mapperDevice, options.forceFsck);
        v.fsckRan = true;
    }

    Mount mount = Mount::mountExt4(v.mapperDevice, mountPoint, options.readOnly);
    if (auto info = Mapping::info(v.mapperName))
        v.mapperDev = info->devno;
    // From here on the kernel owns the teardown: unmounting (for whatever reason, even after a
    // crash of ours) removes the mapping, which closes the loop device, which autoclears.
    Mapping::deferRemove(v.mapperName);
    mapping.release();
    mount.release();
    loop.release();
    fillStats(v);
    return v;
}

std::vector<Holder> holders(const std::string &mountPoint)
{
    dev_t dev = Mount::mountedDevice(mountPoint);
    std::vector<Holder> out;
    if (!dev)
        return out;
    for (const auto &h : Mount::holders(dev).holders)
        out.push_back({h.pid, h.uid, h.name, h.what});
    return out;
}

void close(const OpenVault &vault, const CloseOptions &options)
{
    auto info = Mapping::info(vault.mapperName);
    dev_t dev = info ? info->devno : vault.mapperDev;
    // Unmount wherever the kernel has it: the caller's record may be stale after a restart.
    std::string mountPoint;
    if (dev && Mount::mountedDevice(vault.mountPoint) == dev)
        mountPoint = vault.mountPoint;
    else if (dev)
        mountPoint = Mount::mountPointOf(dev);

    bool lazy = options.lazy;
    if (!mountPoint.empty()) {
        if (options.lazy) {
            Mount::unmount(mountPoint, MNT_DETACH);
        } else if (::umount2(mountPoint.c_str(), UMOUNT_NOFOLLOW) < 0) {
            if (errno != EBUSY)
                throw Error::fromErrno(errno, "Cannot unmount the vault at " + mountPoint);
            const std::optional<uid_t> owner = options.force ? options.ownerUid : std::nullopt;
            auto othersHold = [&](const Holders &hs) {
                const std::string who = describeHolders(hs.others);
                return Error(ErrorCode::Busy,
                             "The vault is in use by programs of other users: " + who + hs.incomplete()
                                 + ". Coffer stops only your own programs; ask an administrator, or "
                                   "wait until they let go",
                             EBUSY);
            };
            {
                const Holders hs(dev, owner);
                if (!options.force) {
                    const std::string who = describeHolders(hs.stoppable);
                    throw Error(ErrorCode::Busy,
                                "The vault is in use" + (who.empty() ? std::string() : " by " + who)
                                    + hs.incomplete() + ". Close these programs and try again, or lock it by force",
                                EBUSY);
                }
                if (!hs.others.empty())
                    throw othersHold(hs); // nothing stopped: locking would not succeed anyway
            }
            auto stopAll = [&](int sig) {
                const Holders hs(dev, owner);
                for (const Mount::Holder *h : hs.stoppable)
                    h->signal(sig);
            };
            auto stoppableGone = [&] { return Holders(dev, owner).stoppable.empty(); };
            stopAll(SIGTERM);
            if (!waitUntil(options.killTimeoutMs, stoppableGone)) {
                stopAll(SIGKILL);
                waitUntil(2000, stoppableGone);
            }
            if (::umount2(mountPoint.c_str(), UMOUNT_NOFOLLOW) < 0) {
                if (errno != EBUSY)
                    throw Error::fromErrno(errno, "Cannot unmount the vault at " + mountPoint);
                // Still busy: detach lazily only from what is ours to stop (a process that
                // started meanwhile, or a reference no scan sees); never from another's program.
                const Holders hs(dev, owner);
                if (!hs.others.empty())
                    throw othersHold(hs);
                if (!hs.scan.complete)
                    throw Error(ErrorCode::Busy, "The vault is still in use, and there are too many "
                                                 "processes or open files to tell by whom", EBUSY);
                Mount::unmount(mountPoint, MNT_DETACH);
                lazy = true;
            }
        }
    }

    // Deferred removal normally took the mapping with the unmount; remove it if it is still
    // there (opened without mounting, or its flag was lost).
    if (Mapping::exists(vault.mapperName))
        Mapping::removeOrDefer(vault.mapperName);
    bool mappingGone = Mapping::waitGone(vault.mapperName, options.waitTimeoutMs);
    if (!mappingGone && !lazy)
        throw Error(ErrorCode::Busy,
                    "The vault was unmounted, but its encrypted volume " + vault.mapperName
                        + " is still in use; it goes away when its last user lets go",
                    EBUSY);
    if (mappingGone && !vault.loopDevice.empty() && vault.loopDevice.rfind("/dev/loop", 0) == 0) {
        int nr = std::atoi(vault.loopDevice.c_str() + 9);
        if (!LoopDevice::waitDetached(nr, vault.backingFile, options.waitTimeoutMs) && !lazy)
            throw Error(ErrorCode::Busy, "The vault's loop device " + vault.loopDevice + " is still in use",
                        EBUSY);
    }
}

std::vector<std::string> cleanupStale(int waitTimeoutMs)
{
    std::vector<std::string> removed;
    for (const auto &name : Mapping::list()) {
        auto info = Mapping::info(name);
        if (!info || info->openCount > 0 || !Mount::mountPointOf(info->devno).empty())
            continue;
        Mapping m(name);
        m.remove(waitTimeoutMs);
        for (dev_t d : info->deps) {
            int nr = loopNumberOf(d);
            if (nr >= 0)
                LoopDevice::waitDetached(nr, {}, waitTimeoutMs);
        }
        removed.push_back(name);
    }
    return removed;
}

std::vector<OpenVault> listOpen()
{
    std::vector<OpenVault> out;
    for (const auto &name : Mapping::list()) {
        auto info = Mapping::info(name);
        if (!info)
            continue;
        OpenVault v;
        v.mapperName = name;
        v.mapperDevice = "/dev/mapper/" + name;
        v.mapperDev = info->devno;
        v.luksUuid = name.substr(Mapping::namePrefix.size());
        for (dev_t d : info->deps) {
            int nr = loopNumberOf(d);
            if (nr >= 0) {
                v.loopDevice = "/dev/loop" + std::to_string(nr);
                v.backingFile = LoopDevice::backingFile(nr);
            }
        }
        try {
            CryptDevice cd = CryptDevice::byName(name);
            v.luksType = cd.type();
            v.label = cd.label();
            v.name = nameFromLabel(v.label);
        } catch (const Error &) {
        }
        v.mountPoint = Mount::mountPointOf(info->devno);
        if (!v.mountPoint.empty())
            fillStats(v);
        out.push_back(std::move(v));
    }
    return out;
}

// ---- keys and headers --------------------------------------------------------------------------

int checkPassphrase(int backingFd, const SecretBuffer &secret)
{
    statBacking(backingFd);
    CryptDevice cd = CryptDevice::load(fdPath(backingFd));
    return cd.checkSecret(secret);
}

void changePassphrase(int backingFd, const SecretBuffer &oldSecret, const SecretBuffer &newSecret,
                      const PbkdfOptions &pbkdf)
{
    statBacking(backingFd);
    requireWritable(backingFd);
    if (newSecret.empty())
        throw Error(ErrorCode::InvalidArgument, "The new passphrase is empty");
    CryptDevice cd = CryptDevice::load(fdPath(backingFd));
    int slot = cd.checkSecret(oldSecret);
    if (cd.type() == CRYPT_LUKS2)
        applyPbkdf(cd.get(), pbkdf);
    int r = crypt_keyslot_change_by_passphrase(cd.get(), slot, slot, oldSecret.data(), oldSecret.size(),
                                               newSecret.data(), newSecret.size());
    if (r < 0)
        throwCryptError(r, "Cannot change the passphrase");
}

int addKey(int backingFd, const SecretBuffer &existing, const SecretBuffer &newSecret,
           const PbkdfOptions &pbkdf)
{
    statBacking(backingFd);
    requireWritable(backingFd);
    if (newSecret.empty())
        throw Error(ErrorCode::InvalidArgument, "The new key is empty");
    CryptDevice cd = CryptDevice::load(fdPath(backingFd));
    cd.checkSecret(existing);
    if (cd.type() == CRYPT_LUKS2)
        applyPbkdf(cd.get(), pbkdf);
    int r = crypt_keyslot_add_by_passphrase(cd.get(), CRYPT_ANY_SLOT, existing.data(), existing.size(),
                                            newSecret.data(), newSecret.size());
    if (r == -ENOSPC || r == -EINVAL) {
        if (r == -ENOSPC)
            throw Error(ErrorCode::NoSpace, "Every key slot of this vault is in use; remove a key first", ENOSPC);
    }
    if (r < 0)
        throwCryptError(r, "Cannot add the key");
    return r;
}

void removeKey(int backingFd, const SecretBuffer &secret)
{
    statBacking(backingFd);
    requireWritable(backingFd);
    CryptDevice cd = CryptDevice::load(fdPath(backingFd));
    int slot = cd.checkSecret(secret);
    if (activeKeyslots(cd).size() <= 1)
        throw Error(ErrorCode::InvalidArgument,
                    "This is the vault's only key; removing it would lock the vault forever");
    int r = crypt_keyslot_destroy(cd.get(), slot);
    if (r < 0)
        throwCryptError(r, "Cannot remove the key");
}

HeaderInfo headerInfo(int backingFd)
{
    statBacking(backingFd);
    CryptDevice cd = CryptDevice::load(fdPath(backingFd));
    HeaderInfo h;
    h.luksType = cd.type();
    h.luksUuid = cd.uuid();
    h.label = cd.label();
    h.subsystem = cd.subsystem();
    h.cipher = cd.cipherSpec();
    h.keyBits = cd.keyBits();
    h.sectorSize = cd.sectorSize();
    h.activeKeyslots = activeKeyslots(cd);
    h.isCoffer = h.subsystem == subsystemName || h.label.rfind(labelPrefix, 0) == 0;
    return h;
}

namespace {

// Copies until EOF; more than maxBytes is refused (the reader may be a caller's endless pipe).
void copyAll(int from, int to, uint64_t maxBytes = UINT64_MAX)
{
    char buf[65536];
    for (uint64_t total = 0;;) {
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error::fromErrno(errno, "Cannot read the header backup");
        if (n == 0)
            return;
        total += uint64_t(n);
        if (total > maxBytes)
            throw Error(ErrorCode::InvalidArgument, "This is not a LUKS header backup (too large)");
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(to, buf + off, size_t(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                throw Error::fromErrno(errno, "Cannot write the header backup");
            off += w;
        }
    }
}

// A private directory for libcryptsetup's backup file (it insists on a path that does not
// exist yet), removed with its contents.
struct TempDir
{
    std::string path;
    TempDir()
    {
        for (const char *base : {"/run", "/tmp"}) {
            std::string tmpl = std::string(base) + "/coffer-header-XXXXXX";
            if (::mkdtemp(tmpl.data())) {
                path = tmpl;
                return;
            }
        }
        throw Error::fromErrno(errno, "Cannot create a private directory for the header backup");
    }
    ~TempDir()
    {
        ::unlink((path + "/header").c_str());
        ::rmdir(path.c_str());
    }
};

} // namespace

void backupHeader(int backingFd, int outFd)
{
    statBacking(backingFd);
    CryptDevice cd = CryptDevice::load(fdPath(backingFd));
    if (cd.headerBytes() > maximumHeaderBackupSize)
        throw Error(ErrorCode::NotSupported,
                    "This vault's header claims to be larger than " + formatBytes(maximumHeaderBackupSize)
                        + ", which no real LUKS header is; Coffer does not back it up (a damaged "
                          "or forged header?)");
    TempDir dir;
    const std::string file = dir.path + "/header";
    int r = crypt_header_backup(cd.get(), nullptr, file.c_str());
    if (r < 0)
        throwCryptError(r, "Cannot back up the vault's header");
    UniqueFd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in)
        throw Error::fromErrno(errno, "Cannot read the header backup");
    struct stat ost;
    if (::fstat(outFd, &ost) == 0 && S_ISREG(ost.st_mode)) {
        if (::ftruncate(outFd, 0) < 0 || ::lseek(outFd, 0, SEEK_SET) < 0)
            throw Error::fromErrno(errno, "Cannot write the header backup");
    }
    copyAll(in.get(), outFd);
    if (S_ISREG(ost.st_mode) && ::fsync(outFd) < 0)
        throw Error::fromErrno(errno, "Cannot write the header backup to its drive");
}

void restoreHeader(int backingFd, int inFd)
{
    statBacking(backingFd);
    requireWritable(backingFd);
    // Our own copy of the backup: the caller cannot change it between our check and the write.
    UniqueFd copy(::memfd_create("coffer-header", MFD_CLOEXEC));
    if (!copy)
        throw Error::fromErrno(errno, "Cannot read the header backup");
    copyAll(inFd, copy.get(), maximumHeaderBackupSize);
    struct stat cst;
    if (::fstat(copy.get(), &cst) < 0 || cst.st_size < 4096 || uint64_t(cst.st_size) > maximumHeaderBackupSize)
        throw Error(ErrorCode::InvalidArgument, "This is not a LUKS header backup (wrong size)");

    std::string backupUuid;
    {
        CryptDevice backup = CryptDevice::init(fdPath(copy.get()));
        if (crypt_load(backup.get(), CRYPT_LUKS, nullptr) < 0)
            throw Error(ErrorCode::InvalidArgument, "This is not a LUKS header backup");
        // What load() refuses (a forged UUID, absurd costs) must not become the vault's header.
        try {
            backup.validate();
        } catch (const Error &e) {
            throw Error(ErrorCode::InvalidArgument, "Coffer does not restore this header backup: " + e.message());
        }
        backupUuid = backup.uuid();
    }
    try {
        CryptDevice current = CryptDevice::load(fdPath(backingFd));
        if (current.uuid() != backupUuid)
            throw Error(ErrorCode::InvalidArgument,
                        "This header backup belongs to another vault (its UUID differs); "
                        "the vault was left untouched");
    } catch (const Error &e) {
        if (e.code() == ErrorCode::InvalidArgument)
            throw;
        // No readable header at all: that is what a backup is for.
    }
    CryptDevice cd = CryptDevice::init(fdPath(backingFd));
    int r = crypt_header_restore(cd.get(), nullptr, fdPath(copy.get()).c_str());
    if (r < 0)
        throwCryptError(r, "Cannot restore the vault's header");
    if (::fsync(backingFd) < 0)
        throw Error::fromErrno(errno, "Cannot write the restored header to the drive");
}

// ---- grow --------------------------------------------------------------------------------------

void grow(int backingFd, uint64_t newSize, const SecretBuffer &secret, const OpenVault *open)
{
    CryptDevice::setupLibrary();
    struct stat st = statBacking(backingFd);
    requireWritable(backingFd);
    const uint64_t oldSize = uint64_t(st.st_size);
    newSize = roundUpMiB(newSize);
    if (newSize <= oldSize)
        throw Error(ErrorCode::InvalidArgument, "A vault can only grow: the new size must be larger than "
                                                    + formatBytes(oldSize));
    if (newSize > maximumSize)
        throw Error(ErrorCode::InvalidArgument, "A vault can be at most " + formatBytes(maximumSize));
    MediumInfo medium = mediumInfo(backingFd);
    checkFits(medium, newSize, newSize - std::min<uint64_t>(newSize, uint64_t(st.st_blocks) * 512));

    // Check the secret before touching anything.
    std::string uuid;
    {
        CryptDevice header = CryptDevice::load(fdPath(backingFd));
        header.checkSecret(secret);
        uuid = header.uuid();
    }
    const std::string name = mapperNameFor(uuid);

    TruncateGuard shrinkBack{backingFd};
    auto truncateBack = [&] {
        if (shrinkBack.armed)
            (void)!::ftruncate(backingFd, off_t(oldSize));
        shrinkBack.armed = false;
    };
    if (open) {
        if (open->mapperName != name || !Mapping::exists(name))
            throw Error(ErrorCode::InvalidArgument, "This open vault does not belong to this file");
        UniqueFd loopFd(::open(open->loopDevice.c_str(), O_RDONLY | O_CLOEXEC));
        loop_info64 li;
        if (!loopFd || ::ioctl(loopFd.get(), LOOP_GET_STATUS64, &li) < 0 || li.lo_inode != st.st_ino
            || li.lo_device != st.st_dev)
            throw Error(ErrorCode::InvalidArgument, "The open vault's loop device is not backed by this file");
        shrinkBack.fd = backingFd;
        try {
            if (::ftruncate(backingFd, off_t(newSize)) < 0)
                throw Error::fromErrno(errno, "Cannot grow the vault file");
            if (::ioctl(loopFd.get(), LOOP_SET_CAPACITY, 0) < 0)
                throw Error::fromErrno(errno, "Cannot update the size of " + open->loopDevice);
        } catch (...) {
            truncateBack();
            if (loopFd)
                ::ioctl(loopFd.get(), LOOP_SET_CAPACITY, 0);
            throw;
        }
        shrinkBack.armed = false; // the loop device is bigger now; keep the file's size
        CryptDevice cd = CryptDevice::byName(name);
        if (cd.type() == CRYPT_LUKS2) {
            // The volume key lives in the kernel keyring: put it there for the table reload.
            int r = crypt_activate_by_passphrase(cd.get(), nullptr, CRYPT_ANY_SLOT, secret.data(),
                                                 secret.size(), CRYPT_ACTIVATE_KEYRING_KEY);
            if (r < 0)
                throwCryptError(r, "Cannot unlock the vault's key for resizing");
        }
        int r = crypt_resize(cd.get(), name.c_str(), 0);
        if (r < 0)
            throwCryptError(r, "Cannot grow the vault's encrypted volume");
        Mapping::deferRemove(name); // keep the kernel's teardown promise after the reload
        Ext4::resizeMounted(open->mountPoint, open->mapperDevice);
        return;
    }

    if (Mapping::exists(name))
        throw Error(ErrorCode::Busy, "This vault is open; grow it through the open vault", EBUSY);
    if (::ftruncate(backingFd, off_t(newSize)) < 0)
        throw Error::fromErrno(errno, "Cannot grow the vault file");
    CryptDevice header = CryptDevice::load(fdPath(backingFd));
    LoopDevice loop = LoopDevice::attach(backingFd, {loopBlockSizeFor(header), true, false});
    header = CryptDevice();
    CryptDevice cd = CryptDevice::load(loop.path());
    cd.activate(name, secret);
    Mapping mapping(name);
    shrinkBack.armed = false;
    // resize2fs insists on a freshly checked filesystem when it is not mounted.
    Ext4::fsckPreen(mapping.devicePath(), true);
    Ext4::resize(mapping.devicePath());
    mapping.remove();
    cd = CryptDevice();
    loop.detach();
    if (::fsync(backingFd) < 0)
        throw Error::fromErrno(errno, "Cannot write the vault file to the drive");
}

// ---- ciphers -----------------------------------------------------------------------------------

std::vector<std::string> availableCiphers()
{
    std::set<std::string> names;
    std::istringstream in(readSmallFile("/proc/crypto", 4 << 20));
    std::string line, name;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        std::string key = line.substr(0, line.find_first_of(" \t"));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        if (key == "name")
            name = value;
        else if (key == "type" && value == "cipher" && !name.empty())
            names.insert(name);
    }
    return {names.begin(), names.end()};
}

} // namespace Coffer::Vault
