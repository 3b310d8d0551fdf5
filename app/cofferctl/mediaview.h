#pragma once

// How cofferctl shows drives, the vaults found on them and the registry's entries: one JSON
// object per line for scripts (bytes that are not UTF-8 as {"base64": ...}, as the registry
// writes them), or lines for people (names fit to show: core/media's displayText).

#include "config/registry.h"
#include "media/medium.h"
#include "media/vaultscan.h"

#include <QJsonObject>

#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Ctl {

// Bytes from a drive or the registry, fit to print on a terminal.
std::string shown(std::string_view bytes);

QJsonObject mediumJson(const Media::Medium &medium);
// "/dev/sdb1 "MY STICK" (vfat, 128.0 MiB), mounted at /media/alice/MY STICK, 100.0 MiB free"
std::string mediumText(const Media::Medium &medium);

QJsonObject foundVaultJson(const Media::FoundVault &vault);
QJsonObject stalenessJson(const Config::Staleness &staleness);
// "backed up 3 days ago", "never backed up", with ", stale" when it is.
std::string stalenessText(const Config::Staleness &staleness);
QJsonObject entryJson(const Config::VaultEntry &vault, const Config::Staleness &staleness);

void printJsonLine(const QJsonObject &object);

// The medium whose filesystem holds files of st_dev `dev`, if one is present.
const Media::Medium *mediumWithDevice(const std::vector<Media::Medium> &media, dev_t dev);

// The LUKS header at the start of the open file, read as the user (nothing more of it).
// NotSupported when there is none.
Media::LuksHeader readLuksHeader(int fd, const std::string &file);

// The user's registry, read now. A file that cannot be used was moved aside: say so on standard
// error and go on with an empty registry (the error says where the old file went).
void loadRegistry(Config::Registry &registry);

} // namespace Coffer::Ctl
