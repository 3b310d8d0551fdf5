#include "sync/snapshots.h"

#include "sync/fsops.h"

#include <algorithm>
#include <ctime>

namespace Coffer::Sync {

namespace {

std::string utcName()
{
    const std::time_t now = std::time(nullptr);
    struct tm tm;
    ::gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H%M%SZ", &tm);
    return buf;
}

} // namespace

bool isSnapshotName(std::string_view n)
{
    // YYYY-MM-DDTHHMMSSZ[-k]
    if (n.size() < 18)
        return false;
    static const char shape[] = "dddd-dd-ddTddddddZ";
    for (size_t i = 0; i < 18; ++i) {
        const char want = shape[i];
        if (want == 'd' ? !(n[i] >= '0' && n[i] <= '9') : n[i] != want)
            return false;
    }
    if (n.size() == 18)
        return true;
    if (n[18] != '-' || n.size() == 19)
        return false;
    for (size_t i = 19; i < n.size(); ++i)
        if (!(n[i] >= '0' && n[i] <= '9'))
            return false;
    return true;
}

std::vector<std::string> listSnapshots(int areaFd, bool removeIncomplete)
{
    std::vector<std::string> names;
    try {
        names = readDirNames(areaFd, Side::Destination);
    } catch (const SysError &e) {
        throwDest(e.err, "Cannot list the snapshots");
    }
    std::sort(names.begin(), names.end());
    std::vector<std::string> snapshots;
    for (const std::string &n : names) {
        if (isSnapshotName(n)) {
            snapshots.push_back(n);
        } else if (removeIncomplete && n.size() > 8 && n.compare(n.size() - 8, 8, ".partial") == 0
                   && isSnapshotName(std::string_view(n).substr(0, n.size() - 8))) {
            uint64_t removed = 0;
            try {
                removeTree(areaFd, n, removed); // an interrupted run's leftovers
            } catch (const SysError &e) {
                throwDest(e.err, "Cannot remove the incomplete snapshot " + n);
            }
        }
    }
    return snapshots;
}

std::string newSnapshotName(const std::vector<std::string> &existing)
{
    const std::string previous = existing.empty() ? std::string() : existing.back();
    std::string name = utcName();
    for (int k = 2; std::find(existing.begin(), existing.end(), name) != existing.end()
         || (!previous.empty() && name <= previous); ++k)
        name = utcName() + "-" + std::to_string(k);
    return name;
}

void applyRetention(RunContext &run, int areaFd, const std::vector<std::string> &snapshots,
                    const std::string &newest)
{
    std::vector<std::string> all = snapshots;
    all.push_back(newest);
    const std::vector<std::string> doomed = snapshotsToRemove(all, run.options.retention);
    run.progress.filesDone = 0;
    run.progress.filesTotal = doomed.size();
    for (const std::string &name : doomed) {
        if (name == newest)
            continue;
        run.report(Phase::Delete, nullptr, NoNode, true);
        uint64_t removed = 0;
        try {
            removeTree(areaFd, name, removed);
        } catch (const SysError &e) {
            throwDest(e.err, "Cannot remove the old snapshot " + name);
        }
        run.result.snapshotsRemoved.push_back(name);
        ++run.progress.filesDone;
    }
}

std::vector<std::string> snapshotsToRemove(const std::vector<std::string> &names,
                                           const Retention &retention)
{
    if (retention.keepLast <= 0 && retention.keepDaily <= 0 && retention.keepWeekly <= 0)
        return {};
    std::vector<std::string> sorted;
    for (const std::string &n : names)
        if (isSnapshotName(n))
            sorted.push_back(n);
    std::sort(sorted.begin(), sorted.end());
    std::vector<bool> keep(sorted.size(), false);
    const int count = int(sorted.size());
    for (int i = count - 1, kept = 0; i >= 0 && kept < retention.keepLast; --i, ++kept)
        keep[size_t(i)] = true;
    std::string lastDay;
    for (int i = count - 1, days = 0; i >= 0 && days < retention.keepDaily; --i) {
        const std::string day = sorted[size_t(i)].substr(0, 10);
        if (day != lastDay) {
            keep[size_t(i)] = true;
            lastDay = day;
            ++days;
        }
    }
    std::string lastWeek;
    for (int i = count - 1, weeks = 0; i >= 0 && weeks < retention.keepWeekly; --i) {
        struct tm tm{};
        const std::string &n = sorted[size_t(i)];
        tm.tm_year = std::stoi(n.substr(0, 4)) - 1900;
        tm.tm_mon = std::stoi(n.substr(5, 2)) - 1;
        tm.tm_mday = std::stoi(n.substr(8, 2));
        tm.tm_hour = 12;
        const std::time_t t = ::timegm(&tm);
        struct tm norm;
        ::gmtime_r(&t, &norm);
        char week[16];
        std::strftime(week, sizeof week, "%G-W%V", &norm);
        if (lastWeek != week) {
            keep[size_t(i)] = true;
            lastWeek = week;
            ++weeks;
        }
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < sorted.size(); ++i)
        if (!keep[i])
            out.push_back(sorted[i]);
    return out;
}

} // namespace Coffer::Sync
