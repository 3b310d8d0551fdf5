#include "texts.h"

#include "bytes.h"
#include "media/medium.h"

namespace Coffer::Ui {

QString Texts::ago(qint64 seconds)
{
    if (seconds < 60)
        return tr("just now");
    if (seconds < 3600)
        return tr("%n minute(s) ago", nullptr, int(seconds / 60));
    if (seconds < 86400)
        return tr("%n hour(s) ago", nullptr, int(seconds / 3600));
    return tr("%n day(s) ago", nullptr, int(seconds / 86400));
}

QString Texts::lastBackup(const Config::VaultEntry &entry, const Config::Staleness &staleness)
{
    QString text = staleness.neverSynced ? tr("Never backed up")
                                         : tr("Backed up %1").arg(ago(staleness.ageSeconds));
    if (entry.lastSync && !Config::isSuccess(entry.lastSync->outcome))
        text = tr("%1 (the last attempt %2)").arg(text, outcome(entry.lastSync->outcome));
    else if (entry.lastSync && entry.lastSync->outcome == Helper1::JobOutcome::Partial)
        text = tr("%1 (some files could not be read)").arg(text);
    return text;
}

QString Texts::used(uint64_t used, uint64_t size)
{
    return tr("%1 of %2 used").arg(bytes(used), bytes(size));
}

QString Texts::freeOnDrive(uint64_t free)
{
    return tr("%1 free on the drive").arg(bytes(free));
}

QString Texts::bytes(uint64_t bytes)
{
    return QString::fromStdString(formatBytes(bytes));
}

QString Texts::fromBytes(std::string_view bytes)
{
    return Media::displayText(bytes, 4096);
}

QString Texts::outcome(Helper1::JobOutcome outcome)
{
    switch (outcome) {
    case Helper1::JobOutcome::Running: return tr("is still running");
    case Helper1::JobOutcome::Ok: return tr("succeeded");
    case Helper1::JobOutcome::Partial: return tr("could not read some files");
    case Helper1::JobOutcome::Failed: return tr("failed");
    case Helper1::JobOutcome::Cancelled: return tr("was cancelled");
    }
    return {};
}

QString Texts::trigger(Config::Trigger trigger)
{
    switch (trigger) {
    case Config::Trigger::Ask: return tr("Ask when the drive is plugged in");
    case Config::Trigger::Backup: return tr("Back up when the drive is plugged in");
    case Config::Trigger::Manual: return tr("Only when I start it");
    }
    return {};
}

QString Texts::foundName(const Media::FoundVault &vault)
{
    if (!vault.name.empty())
        return fromBytes(vault.name);
    const size_t slash = vault.path.rfind('/');
    return fromBytes(slash == std::string::npos ? vault.path : vault.path.substr(slash + 1));
}

} // namespace Coffer::Ui
