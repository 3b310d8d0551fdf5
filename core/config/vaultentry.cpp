#include "config/vaultentry.h"

#include <algorithm>

namespace Coffer::Config {

bool MediumRef::matches(const Media::Medium &medium) const
{
    if (!fsUuid.empty() && !medium.fsUuid.empty())
        return fsUuid == medium.fsUuid;
    return !serial.empty() && serial == medium.serial && label == medium.label;
}

MediumRef mediumRefOf(const Media::Medium &medium)
{
    return {medium.fsUuid, medium.serial, medium.label};
}

bool isSuccess(Helper1::JobOutcome outcome)
{
    return outcome == Helper1::JobOutcome::Ok || outcome == Helper1::JobOutcome::Partial;
}

bool VaultEntry::sameFields(const VaultEntry &o) const
{
    return luksUuid == o.luksUuid && name == o.name && medium == o.medium && path == o.path
           && sources == o.sources && excludes == o.excludes && mode == o.mode && retention == o.retention
           && trigger == o.trigger && lock == o.lock && secretSource == o.secretSource && keyFile == o.keyFile
           && staleAfterDays == o.staleAfterDays && lastSync == o.lastSync && lastSuccess == o.lastSuccess;
}

Staleness staleness(const VaultEntry &vault, const Settings &settings, const QDateTime &now)
{
    Staleness s;
    s.limitDays = vault.staleAfterDays.value_or(settings.staleAfterDays);
    if (!vault.lastSuccess || !vault.lastSuccess->isValid())
        return s;
    s.neverSynced = false;
    s.ageSeconds = std::max<qint64>(0, vault.lastSuccess->secsTo(now));
    s.stale = s.ageSeconds >= qint64(s.limitDays) * 86400;
    return s;
}

} // namespace Coffer::Config
