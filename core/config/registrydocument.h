#pragma once

// vaults.json, the registry's file: its format and a parser that keeps what it does not know.
//
//   {
//     "version": 1,
//     "settings": {"lock-on-screen-lock": true, "idle-lock-minutes": 0, "max-open-minutes": 0,
//                  "notifications": true, "stale-after-days": 7},
//     "vaults": {
//       "<LUKS UUID>": {
//         "name": "keys",
//         "medium": {"fs-uuid": "1234-ABCD", "serial": "4C530001", "label": "STICK"},
//         "path": "backups/keys.coffer",
//         "sources": ["/home/alice/.ssh"], "excludes": ["*.tmp"],
//         "mode": "mirror" | "snapshot",
//         "retention": {"keep-last": 0, "keep-daily": 0, "keep-weekly": 0},
//         "trigger": "ask" | "backup" | "manual",
//         "lock": {"on-suspend": true, "on-screen-lock": true, "idle-minutes": 10,
//                  "max-open-minutes": 120, "after-sync": true},
//         "secret": {"source": "prompt" | "key-file" | "keyring", "key-file": "/home/alice/k"},
//         "stale-after-days": 7,
//         "last-sync": {"time": "2025-01-31T12:00:00Z", "outcome": "ok", "bytes": 1, "files": 1},
//         "last-success": "2025-01-31T12:00:00Z"
//       }
//     }
//   }
//
// Every field but "version" may be missing (its default applies). Strings that are bytes (names,
// paths, labels, patterns) are JSON strings when they are UTF-8, and {"base64": "..."} when
// they are not, so any name comes back byte for byte. Fields this version does not know are kept
// and written back. A file of a newer version is read but never written.

#include "config/vaultentry.h"

#include <QByteArray>
#include <QJsonObject>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Config {

inline constexpr int registryVersion = 1;

struct RegistryDocument
{
    int version = registryVersion;
    Settings settings;
    std::vector<VaultEntry> vaults;     // sorted by LUKS UUID
    // Entries this version cannot read (a key that is not a LUKS UUID, a field of the wrong
    // type): not offered as vaults, written back exactly as they were.
    QJsonObject unreadableVaults;
    // One sentence for each thing that was set aside or replaced by its default while reading.
    std::vector<std::string> problems;
    QJsonObject original;               // the top level as read (unknown fields survive)

    VaultEntry *find(std::string_view luksUuid);
    const VaultEntry *find(std::string_view luksUuid) const;
    bool newerThanThisVersion() const { return version > registryVersion; }
};

// Throws Failed when the text is not a registry at all (not JSON, not an object, no version,
// "vaults" or "settings" not objects). A file of a newer version whose structure this version
// cannot read is not an error: it comes back without vaults, with a problem, and read-only.
RegistryDocument parseRegistry(const QByteArray &json);

// Indented JSON, ending in a newline.
QByteArray serializeRegistry(const RegistryDocument &document);

// The names the file uses for a trigger, a secret source and a sync mode (for command lines and
// reports too), and back: nothing for a name that is none of them.
const char *triggerName(Trigger trigger);
std::optional<Trigger> triggerFromName(const QString &name);
const char *secretSourceName(SecretSource source);
std::optional<SecretSource> secretSourceFromName(const QString &name);
const char *modeName(Sync::Mode mode);
std::optional<Sync::Mode> modeFromName(const QString &name);

// A byte string as JSON: a string if it is UTF-8, else {"base64": ...}. The reverse throws
// Failed for anything else.
QJsonValue bytesToJson(std::string_view bytes);
std::string bytesFromJson(const QJsonValue &value);

} // namespace Coffer::Config
