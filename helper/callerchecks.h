#pragma once

// Validation of every argument a caller hands the root helper (design.md 4). Each function
// throws Coffer::Error (InvalidArgument, NotAuthorized, Busy, ...) with a sentence the caller
// can act on, and never resolves a path the caller chose.

#include "block/secretbuffer.h"
#include "block/uniquefd.h"
#include "block/vault.h"
#include "error.h"

#include <QDBusMessage>
#include <QDBusUnixFileDescriptor>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <sys/types.h>

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace Coffer::Helper {

struct FileId
{
    dev_t dev = 0;
    ino_t ino = 0;
    auto operator<=>(const FileId &) const = default;
};

enum class BackingUse {
    Create, // must be empty: the helper sizes and formats it
    Open,   // an existing vault
};

struct BackingFile
{
    FileId id;
    uint64_t size = 0;
    bool onFatLike = false; // vfat / exfat: owner is whatever the mount says
};

// The limits of design.md 4.8.
namespace Limits {
inline constexpr size_t maxNameBytes = Vault::maximumNameLength; // fits the LUKS2 label
inline constexpr int maxOpenVaultsPerUser = 16; // unlocks in progress count too
inline constexpr int maxJobsPerUser = 4;         // creations still reading their secrets count too
// The worker pool: slow work runs on workerThreads threads, at most workerThreadsPerUser of them
// for one user, so that one user's stuck calls (a secret pipe never closed waits
// secretReadTimeoutMs) leave threads for everyone else.
inline constexpr int workerThreads = 4;
inline constexpr int workerThreadsPerUser = 2;
inline constexpr int maxSources = 64;
inline constexpr int maxPathBytes = 4096;
inline constexpr size_t maxPassphraseBytes = 1024 * 1024; // through a pipe
inline constexpr size_t maxKeyFileBytes = 8 * 1024 * 1024; // cryptsetup's own key file limit
inline constexpr int secretReadTimeoutMs = 10000;
} // namespace Limits

// The descriptor itself: QtDBus hands an invalid one when the message's index was bad.
int fdOf(const QDBusUnixFileDescriptor &fd, const char *what);
// The message's argument `index` as a descriptor (invalid if it is not one).
QDBusUnixFileDescriptor fdArgument(const QDBusMessage &message, int index);
// A close-on-exec copy of a caller's descriptor that the helper keeps for later work.
UniqueFd keepFd(int fd);

// A backing file: a regular file (not a symlink, FIFO, socket, device or directory), opened
// read-write (not O_PATH), one link, owned by `caller` -- or on vfat/exfat, where ownership is a
// mount option, writable through this fd. Create: empty. Open: not empty.
BackingFile checkBackingFd(int fd, uid_t caller, BackingUse use);

// A file the helper writes into for the caller (a header backup): regular, writable fd, one
// link, owned by the caller (or on vfat/exfat), not the backing file itself.
void checkOutputFd(int fd, uid_t caller, const FileId &notThis);

// A secret: a pipe the client wrote and closed, or a regular file (a key file) the client
// opened. Read into locked memory; at most maxSize bytes; a pipe that is not closed within
// the timeout is refused (the helper never waits forever on a caller).
SecretBuffer readSecret(int fd, size_t maxSize, int timeoutMs = Limits::secretReadTimeoutMs);

// A vault name a caller asks for (the rule is Vault::isValidName). Returns the UTF-8 bytes.
std::string checkName(const QString &name);

// A vault size: between the block layer's minimum and maximum.
uint64_t checkSize(uint64_t size);

// Sync sources: 1..64 absolute paths without NUL or empty components; the child resolves them
// as the caller. Returns the bytes.
std::vector<std::string> checkSources(const QStringList &sources);

// The last component of the mount point /run/coffer/<uid>/<name>: the name from the header's
// label if it is a valid name, else "vault" (a LUKS1 header, a label of someone else's making).
std::string mountNameFor(const std::string &headerName);

} // namespace Coffer::Helper
