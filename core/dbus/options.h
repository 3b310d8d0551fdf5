#pragma once

// The a{sv} arguments and results of org.coffer.Helper1 in one place (design.md 3): a constant
// for every key, one typed struct per method, encode() for clients and decode*() for the helper.
// Decoding is the helper's validation of options: an unknown key, a wrong type or a value out of
// range is InvalidArgument with a sentence naming the key.
//
// org.coffer.Helper1.xml lists the keys of every a{sv} in an "org.coffer.Options" annotation
// ("key:signature key:signature ..."); tests/unit/test_dbus_contract compares it with
// optionSpecs(), so the XML documents exactly what the helper accepts.

#include "block/kdflimits.h"
#include "block/vault.h"
#include "media/medium.h"
#include "sync/syncengine.h"

#include <QDBusUnixFileDescriptor>
#include <QString>
#include <QVariantMap>

#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Helper1 {

namespace Key {
// CreateVault
inline constexpr char Label[] = "label";
inline constexpr char PbkdfMemoryKiB[] = "pbkdf-memory-kib";
inline constexpr char PbkdfIterMs[] = "pbkdf-iter-ms";
inline constexpr char PbkdfIterations[] = "pbkdf-iterations";
inline constexpr char KeyFile[] = "keyfile";
// Unlock
inline constexpr char ReadOnly[] = "read-only";
inline constexpr char LockOnSuspend[] = "lock-on-suspend";
// Vault.Lock
inline constexpr char Force[] = "force";
// Vault.Sync
inline constexpr char Mode[] = "mode";
inline constexpr char Exclude[] = "exclude";
inline constexpr char LockAfter[] = "lock-after";
inline constexpr char Checksum[] = "checksum";
inline constexpr char DryRun[] = "dry-run";
inline constexpr char KeepLast[] = "keep-last";
inline constexpr char KeepDaily[] = "keep-daily";
inline constexpr char KeepWeekly[] = "keep-weekly";
// Job.Result of a sync
inline constexpr char Durable[] = "durable";
inline constexpr char UsedManifest[] = "used-manifest";
inline constexpr char Snapshot[] = "snapshot";
inline constexpr char FilesScanned[] = "files-scanned";
inline constexpr char FilesCopied[] = "files-copied";
inline constexpr char FilesLinked[] = "files-linked";
inline constexpr char FilesDeleted[] = "files-deleted";
inline constexpr char ItemsUpdated[] = "items-updated";
inline constexpr char BytesCopied[] = "bytes-copied";
inline constexpr char Warnings[] = "warnings";
inline constexpr char WarningsDropped[] = "warnings-dropped";
inline constexpr char SnapshotsRemoved[] = "snapshots-removed";
inline constexpr char PlanAdded[] = "plan-added";
inline constexpr char PlanUpdated[] = "plan-updated";
inline constexpr char PlanMetadata[] = "plan-metadata";
inline constexpr char PlanDeleted[] = "plan-deleted";
inline constexpr char PlanUnchanged[] = "plan-unchanged";
inline constexpr char PlanBytesToWrite[] = "plan-bytes-to-write";
inline constexpr char PlanBytesToDelete[] = "plan-bytes-to-delete";
inline constexpr char PlanBytesFree[] = "plan-bytes-free";
inline constexpr char PlanFits[] = "plan-fits";
inline constexpr char PlanItems[] = "plan-items";
inline constexpr char PlanItemsDropped[] = "plan-items-dropped";
// MediaAdded / MediaRemoved (and the label, as Label above)
inline constexpr char FsUuid[] = "fs-uuid";
inline constexpr char FsType[] = "fs-type";
inline constexpr char Serial[] = "serial";
inline constexpr char Vendor[] = "vendor";
inline constexpr char Model[] = "model";
inline constexpr char Device[] = "device";
inline constexpr char DevNum[] = "devnum";
inline constexpr char Size[] = "size";
inline constexpr char Removable[] = "removable";
inline constexpr char MountPoints[] = "mount-points";
inline constexpr char FreeBytes[] = "free-bytes";
} // namespace Key

// One key of an a{sv} and the D-Bus signature of its value.
struct OptionSpec
{
    std::string_view key;
    std::string_view signature;
};

// The keys of each a{sv}: "CreateVault", "Unlock", "Lock", "Sync" (the methods' options),
// "SyncResult" (Job.Result of a sync) and "Medium" (MediaAdded, MediaRemoved). Empty for any
// other name.
const std::vector<OptionSpec> &optionSpecs(std::string_view dictionary);

// The most a caller may ask of a new key slot's key derivation (tests and slow machines pass
// small values; zero means cryptsetup's benchmarked default): the block layer's limits, which
// lie within what it accepts of a header (core/block/kdflimits.h).
namespace PbkdfLimit = KdfLimits::NewSlot;

// Retention counts and other small numbers.
inline constexpr uint32_t maxKeepCount = 10000;
// A sync's Result carries at most this many plan items and warnings (the rest are counted).
inline constexpr size_t maxResultItems = 10000;

struct CreateOptions
{
    QString label = QStringLiteral("vault"); // the vault's name (checked by the helper)
    Vault::PbkdfOptions pbkdf;
    QDBusUnixFileDescriptor keyFile; // a second key slot for this key file; invalid: none
};

struct UnlockOptions
{
    bool readOnly = false;
    // The helper locks the vault itself before the system suspends or shuts down (false: it is
    // left open). The caller's choice, from its registry: the helper reads no user's files.
    bool lockOnSuspend = true;
};

struct LockOptions
{
    bool force = false; // stop the processes holding the vault, then lock
};

struct SyncOptions
{
    Sync::Mode mode = Sync::Mode::Mirror;
    std::vector<std::string> excludes;
    bool checksum = false;
    bool dryRun = false;
    bool lockAfter = false;
    Sync::Retention retention;
};

QVariantMap encode(const CreateOptions &options);
QVariantMap encode(const UnlockOptions &options);
QVariantMap encode(const LockOptions &options);
QVariantMap encode(const SyncOptions &options);

// Throw InvalidArgument for unknown keys, wrong types and values out of range.
CreateOptions decodeCreateOptions(const QVariantMap &options);
UnlockOptions decodeUnlockOptions(const QVariantMap &options);
LockOptions decodeLockOptions(const QVariantMap &options);
SyncOptions decodeSyncOptions(const QVariantMap &options);

// Job.Outcome: "" while the job runs, then one of these.
enum class JobOutcome { Running, Ok, Partial, Failed, Cancelled };
QString jobOutcomeName(JobOutcome outcome);
JobOutcome jobOutcomeFromName(const QString &name); // unknown names: Failed

// Job.Result of a sync: the engine's result without its outcome (that is Job.Outcome). Paths
// travel as bytes (ay), so names that are not UTF-8 arrive intact. At most maxResultItems plan
// items and warnings; the rest are counted in plan-items-dropped / warnings-dropped.
QVariantMap encodeSyncResult(const Sync::Result &result);
Sync::Result decodeSyncResult(const QVariantMap &result);

// A medium in MediaAdded / MediaRemoved: its facts, never a file name on it. The label travels
// as bytes (ay: a FAT label need not be UTF-8) and so do the mount points (aay); vendor and
// model are display text (displayText); free-bytes is absent when the medium is not mounted.
QVariantMap encodeMedium(const Media::Medium &medium);
Media::Medium decodeMedium(const QVariantMap &medium);

// Registers the D-Bus types of the dictionaries' structured values (done by the functions
// above; call it before demarshalling by hand).
void registerOptionTypes();

} // namespace Coffer::Helper1
