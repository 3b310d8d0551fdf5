#pragma once

// The words the tray, the main window and the notifications share for the same facts, so a
// vault's state reads the same everywhere.

#include "config/vaultentry.h"
#include "media/vaultscan.h"

#include <QCoreApplication>
#include <QString>

#include <cstdint>
#include <string_view>

namespace Coffer::Ui {

class Texts
{
    Q_DECLARE_TR_FUNCTIONS(Texts)

public:
    // "just now", "5 minutes ago", "3 hours ago", "2 days ago".
    static QString ago(qint64 seconds);
    // "Never backed up", "Backed up 2 days ago", "... (the last attempt failed)", stale or not.
    static QString lastBackup(const Config::VaultEntry &entry, const Config::Staleness &staleness);
    // "12 MiB of 64 MiB used".
    static QString used(uint64_t used, uint64_t size);
    // "3.2 GiB free on the drive".
    static QString freeOnDrive(uint64_t bytes);
    static QString bytes(uint64_t bytes);
    // A path or name in bytes (a file name need not be UTF-8), fit to show.
    static QString fromBytes(std::string_view bytes);
    static QString outcome(Helper1::JobOutcome outcome);
    static QString trigger(Config::Trigger trigger);
    // A vault found on a drive: its name in the LUKS label, else its file's name.
    static QString foundName(const Media::FoundVault &vault);
};

} // namespace Coffer::Ui
