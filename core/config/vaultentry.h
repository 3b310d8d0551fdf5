#pragma once

// What Coffer remembers about a user's vaults (issue 12, design.md 9: "a registry of which drive
// holds which vault and how stale each is"): one VaultEntry per vault, keyed by its LUKS UUID,
// and the application's own Settings. Stored by Registry in $XDG_CONFIG_HOME/coffer/vaults.json
// (see registrydocument.h for the file's format).
//
// Strings are bytes (std::string): a path on a stick, a label or a LUKS name need not be UTF-8.

#include "dbus/options.h"
#include "media/medium.h"
#include "sync/syncengine.h"

#include <QDateTime>
#include <QJsonObject>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Coffer::Config {

// Which drive holds the vault.
struct MediumRef
{
    std::string fsUuid;  // the filesystem's UUID (changes when the drive is reformatted)
    std::string serial;  // the USB device's serial (some sticks have none, or share one)
    std::string label;   // the filesystem's label, raw bytes

    // The filesystem UUID decides when both sides have one; otherwise the serial and the label
    // together (a filesystem without a UUID), never a label or an empty serial alone.
    bool matches(const Media::Medium &medium) const;
    bool operator==(const MediumRef &) const = default;
};

MediumRef mediumRefOf(const Media::Medium &medium);

// What a plug of the vault's drive does.
enum class Trigger {
    Ask,     // offer to back up (the default)
    Backup,  // back up at once, with the secret from secretSource
    Manual,  // nothing; the user starts a backup
};

// Where the passphrase comes from when Coffer unlocks the vault by itself.
enum class SecretSource {
    Prompt,   // ask the user every time (the default)
    KeyFile,  // read VaultEntry::keyFile
    Keyring,  // the user's keyring (Secret Service), stored there when the user chose to
};

struct LockPolicy
{
    bool onSuspend = true;              // lock before suspend and shutdown (false: leave it open)
    std::optional<bool> onScreenLock;   // nothing: the application's setting
    std::optional<int> idleMinutes;     // nothing: the application's setting; 0: never
    bool afterSync = true;              // lock again after a backup that a plug started
    std::optional<int> maxOpenMinutes;  // lock this long after unlocking, by the wall clock (time
                                        // asleep counts); nothing: the application's; 0: never
    bool operator==(const LockPolicy &) const = default;
};

// How the last sync of the vault went.
struct SyncRecord
{
    QDateTime time;                     // when it ended, UTC
    Helper1::JobOutcome outcome = Helper1::JobOutcome::Ok; // Ok, Partial, Failed or Cancelled
    uint64_t bytes = 0;                 // bytes copied
    uint64_t files = 0;                 // files copied
    bool operator==(const SyncRecord &) const = default;
};

// A completed backup: Ok, or Partial (done, but some source items could not be read; the vault
// holds a consistent copy of the rest).
bool isSuccess(Helper1::JobOutcome outcome);

struct VaultEntry
{
    std::string luksUuid;               // the key: canonical, lower case
    std::string name;
    MediumRef medium;
    std::string path;                   // relative to the medium's root: "backups/keys.coffer"
    std::vector<std::string> sources;   // absolute paths of the folders backed up
    std::vector<std::string> excludes;  // rsync-style patterns (Sync::Options::excludes)
    Sync::Mode mode = Sync::Mode::Mirror;
    Sync::Retention retention;          // snapshot mode
    Trigger trigger = Trigger::Ask;
    LockPolicy lock;
    SecretSource secretSource = SecretSource::Prompt;
    std::string keyFile;                // SecretSource::KeyFile: an absolute path
    std::optional<int> staleAfterDays;  // nothing: the application's setting
    std::optional<SyncRecord> lastSync; // the last run, whatever its outcome
    std::optional<QDateTime> lastSuccess; // the end of the last successful run

    // The object this entry was read from: written back with the known fields replaced, so
    // fields a newer Coffer added survive (at every level of nesting).
    QJsonObject original;

    // Equality of what this version understands (not of `original`).
    bool sameFields(const VaultEntry &other) const;
};

struct Settings
{
    bool lockOnScreenLock = true;
    int idleLockMinutes = 0;            // 0: never
    int maxOpenMinutes = 0;             // lock a vault this long after it was unlocked; 0: never
    bool notifications = true;
    int staleAfterDays = 7;             // a vault not backed up for this long is stale
    QJsonObject original;
};

inline constexpr int maxStaleAfterDays = 3650;
inline constexpr int maxIdleMinutes = 24 * 60;
inline constexpr int maxOpenMinutesLimit = 7 * 24 * 60;

struct Staleness
{
    bool stale = true;
    bool neverSynced = true;
    int limitDays = 7;                  // the policy that applied
    qint64 ageSeconds = 0;              // since the last successful sync (0 if never, or in the future)
};

// Stale when it was never backed up, or its last successful sync is limitDays or more ago
// (the vault's own policy, else the application's). A last success in the future (a clock that
// went back) counts as just now.
Staleness staleness(const VaultEntry &vault, const Settings &settings, const QDateTime &now);

} // namespace Coffer::Config
