#pragma once

// The vault operations the root helper calls: a vault's whole life from an empty backing file to
// a mounted ext4 and back. Caller-agnostic: no D-Bus, no polkit. The caller passes the backing
// file as an fd it has validated (regular file, owned by the caller), the secrets in
// SecretBuffers, the owner uid/gid and the mount point directory it chose.
//
// Every function throws Coffer::Error (core/error.h) with a sentence a person can act on.
// On any failure everything already attached (loop device, dm mapping, mount) is undone.
// After a successful open, teardown is the kernel's: the loop device has autoclear and the dm
// mapping is marked for deferred removal, so unmounting (even a lazy unmount after the drive was
// yanked, or a crashed helper followed by a `umount`) releases everything.
//
// Stack: backing file -> loop (LOOP_CONFIGURE, autoclear, 4096-byte blocks, direct I/O)
//        -> LUKS2 (libcryptsetup) -> dm-crypt "coffer-<LUKS UUID>" -> ext4 -> mount.

#include "block/secretbuffer.h"
#include "block/vaultname.h"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Vault {

// ---- medium checks ---------------------------------------------------------------------------

struct MediumInfo
{
    std::string fsType;         // "ext4", "vfat", "exfat", "btrfs", "tmpfs", ... ("0x1234" if unknown)
    uint64_t freeBytes = 0;     // available to the caller's file (f_bavail * f_frsize)
    uint64_t maxFileSize = 0;   // 0 = no known limit; vfat: 4 GiB - 1
    bool canSparse = true;      // false on vfat / exfat: the full size is written at once
    bool ownersFromMount = false; // vfat / exfat: every file's owner is a mount option
    std::vector<std::string> warnings; // sentences to show before creating
};

// Looks at the filesystem the (open) backing file lives on. Never throws for a medium that is
// merely unusual; see checkMedium for the verdict.
MediumInfo mediumInfo(int backingFd);

// Verdict for a vault of `size` bytes in backingFd: throws NoSpace when the medium cannot hold
// it (free space, or vfat's 4 GiB file limit), otherwise returns the info with warnings
// ("cannot be sparse" on vfat/exfat).
MediumInfo checkMedium(int backingFd, uint64_t size);

// ---- create --------------------------------------------------------------------------------

inline constexpr uint64_t minimumSize = 32ull << 20;   // LUKS2 header (16 MiB) + a small ext4
inline constexpr uint64_t maximumSize = 64ull << 40;   // 64 TiB

struct PbkdfOptions
{
    // argon2id. All zero = cryptsetup's own benchmarked defaults (design.md 2).
    uint32_t memoryKiB = 0;   // cap on memory cost (0 = cryptsetup default, 1 GiB)
    uint32_t iterMs = 0;      // target unlock time in ms (0 = cryptsetup default, 2000 ms)
    uint32_t iterations = 0;  // fixed time cost: no benchmark at all (tests, benchmarks)
    uint32_t parallel = 0;    // threads (0 = default)
};

struct CreateOptions
{
    std::string name;            // LUKS2 label "coffer:<name>"; 1..40 bytes, no '/', no control chars
    PbkdfOptions pbkdf;
    const SecretBuffer *keyFile = nullptr; // optional: a second key slot unlocked by this key file
    uid_t ownerUid = 0;          // owner of the ext4 root directory
    gid_t ownerGid = 0;
    std::string cipher = "aes-xts-plain64"; // "<cipher>-<mode>", see availableCiphers()
    uint32_t keyBits = 512;
    uint32_t sectorSize = 4096;
};

struct CreateResult
{
    std::string luksUuid;
    std::string label;           // "coffer:<name>"
    uint64_t size = 0;           // bytes of the backing file
    MediumInfo medium;           // with its warnings
};

// backingFd: an EMPTY regular file opened read-write (a non-empty one is refused and left
// untouched). `size` is rounded up to a multiple of 1 MiB. Sizes the file sparse, formats LUKS2
// with `passphrase` in key slot 0 (and the key file in slot 1), makes ext4 with the root owned by
// ownerUid:ownerGid, detaches everything. On failure the file is truncated back to empty.
CreateResult create(int backingFd, uint64_t size, const SecretBuffer &passphrase,
                    const CreateOptions &options);

// ---- open / close --------------------------------------------------------------------------

struct OpenOptions
{
    bool readOnly = false;
    // "e2fsck -p" runs whenever the ext4 superblock says the vault was not closed cleanly (needs
    // recovery, not valid, or errors); nothing can skip that. forceFsck: also on a clean one
    // ("e2fsck -pf"; read-write only).
    bool forceFsck = false;
    bool directIo = true;        // loop device with direct I/O when the medium allows it
};

struct OpenVault
{
    std::string loopDevice;      // "/dev/loop3"
    std::string mapperName;      // "coffer-<LUKS UUID>"
    std::string mapperDevice;    // "/dev/mapper/coffer-<LUKS UUID>"
    std::string mountPoint;      // as given by the caller
    std::string luksUuid;
    std::string label;           // LUKS2 label ("" for LUKS1)
    std::string name;            // label without "coffer:" (or the whole label if not ours)
    std::string luksType;        // "LUKS2" or "LUKS1"
    std::string backingFile;     // the loop device's backing file as the kernel names it
    dev_t mapperDev = 0;         // major:minor of the dm device
    uint64_t size = 0;           // ext4 size in bytes (statvfs)
    uint64_t used = 0;           // used bytes (statvfs)
    bool fsckRan = false;
    int keyslot = -1;            // the key slot that unlocked it
};

// Unlocks with a passphrase or key file contents (both are tried the same way) and mounts ext4 at
// mountPoint (an existing empty directory the caller created) with nosuid,nodev,noexec and
// errors=remount-ro. BadPassphrase if no key slot matches; NotSupported for no LUKS header;
// Busy when this vault (same LUKS UUID) is already open; Failed for a read-only unlock of a
// vault that needs a check.
OpenVault open(int backingFd, const SecretBuffer &secret, const std::string &mountPoint,
               const OpenOptions &options = {});

// A process keeping a mount busy (open file, cwd, root, mapped file or executable on it).
struct Holder
{
    pid_t pid = 0;
    uid_t uid = 0;               // real uid
    std::string name;            // /proc/PID/comm
    std::string what;            // "open file", "working directory", ...
};

// Every process holding something on the filesystem mounted at mountPoint (as far as the bounded
// scan of /proc goes: Mount::ScanLimits).
std::vector<Holder> holders(const std::string &mountPoint);

struct CloseOptions
{
    // false: a busy mount fails with Busy and a message naming the holders (pid + name).
    // true: SIGTERM the holders, then SIGKILL the ones left after killTimeoutMs, then unmount;
    //       if still busy, detach lazily (the kernel finishes the teardown when the last user
    //       goes away). Signals go through pidfds: never to a process that got a holder's pid.
    bool force = false;
    // With force: stop only the processes this user could signal themselves (real or saved uid;
    // the vault's owner). When others hold the vault, nothing is stopped: Busy names them.
    // nullopt: any process (root's own teardown).
    std::optional<uid_t> ownerUid;
    int killTimeoutMs = 3000;
    // Lazy unmount at once (drive yanked: nothing can be flushed anyway).
    bool lazy = false;
    int waitTimeoutMs = 10000;   // how long to wait for the dm mapping and loop to be really gone
};

// Unmounts, removes the mapping, waits until the dm device and loop device are really gone.
void close(const OpenVault &vault, const CloseOptions &options = {});

// Removes Coffer mappings ("coffer-*") that nothing has mounted or opened: the remains of a
// process killed in the middle of create or open (their loop devices then autoclear). Returns
// the names removed. Mounted vaults are left alone (they are open; adopt them with listOpen()).
std::vector<std::string> cleanupStale(int waitTimeoutMs = 10000);

// The vaults open right now, as the kernel sees them (dm mappings named "coffer-*" with their
// loop device, backing file and mount point). For reconciling after a helper restart.
std::vector<OpenVault> listOpen();

// ---- key management (vault open or closed; no dm needed) -------------------------------------

// Returns the key slot the secret opens; throws BadPassphrase if none.
int checkPassphrase(int backingFd, const SecretBuffer &secret);
// Replaces the key slot `oldSecret` opens with newSecret (same slot number when possible).
void changePassphrase(int backingFd, const SecretBuffer &oldSecret, const SecretBuffer &newSecret,
                      const PbkdfOptions &pbkdf = {});
// Adds a key slot for newSecret (passphrase or key file contents); returns its number.
int addKey(int backingFd, const SecretBuffer &existing, const SecretBuffer &newSecret,
           const PbkdfOptions &pbkdf = {});
// Removes the key slot `secret` opens. Refuses to remove the last one.
void removeKey(int backingFd, const SecretBuffer &secret);

// The largest header backup: LUKS2's two 4 MiB metadata copies and its 128 MiB of key slots.
inline constexpr uint64_t maximumHeaderBackupSize = (2 * 4 + 128) << 20;

// Writes the LUKS header (both copies + key slots) to outFd (truncated first if a regular file).
// A header claiming to need more than maximumHeaderBackupSize is refused before anything is
// written (a forged LUKS1 header can place its key slots gigabytes in).
void backupHeader(int backingFd, int outFd);
// Writes a header backup (read from inFd) over the vault's header. Refuses a backup that is not
// one (at most maximumHeaderBackupSize, a header CryptDevice::load accepts) or whose LUKS UUID
// differs from a still-readable header on the vault.
void restoreHeader(int backingFd, int inFd);

struct HeaderInfo
{
    std::string luksType;
    std::string luksUuid;
    std::string label;
    std::string subsystem;
    std::string cipher;          // "aes-xts-plain64"
    uint32_t keyBits = 0;
    uint32_t sectorSize = 0;
    std::vector<int> activeKeyslots;
    bool isCoffer = false;       // subsystem "coffer" or label "coffer:*"
};
// Reads the header (NotSupported with "no LUKS header" when there is none).
HeaderInfo headerInfo(int backingFd);

// ---- grow ----------------------------------------------------------------------------------

// Grows the vault to newSize bytes (rounded up to 1 MiB): backing file, loop, dm-crypt, ext4.
// If `open` is given the vault stays mounted (online grow); otherwise it is closed and is
// attached just for the resize. Shrinking is refused.
void grow(int backingFd, uint64_t newSize, const SecretBuffer &secret,
          const OpenVault *open = nullptr);

// ---- advanced creation options -------------------------------------------------------------

// Ciphers the kernel offers for dm-crypt (from /proc/crypto), e.g. "aes", "serpent", "twofish".
std::vector<std::string> availableCiphers();

// Whether `uuid` is a LUKS UUID in canonical form: 8-4-4-4-12 hexadecimal digits (either case),
// nothing else. A header is someone's file: its UUID may be anything, so nothing derived from a
// UUID (a dm name, a path) is made before this test passed.
bool isCanonicalLuksUuid(std::string_view uuid);

// The mapper name a vault with this LUKS UUID gets.
std::string mapperNameFor(const std::string &luksUuid);

} // namespace Coffer::Vault
