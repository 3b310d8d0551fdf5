#pragma once

// Internal to the sync engine: snapshot mode's area (snapshots/ in the destination) -- the names
// of complete snapshots, the new one's name, and retention.

#include "sync/runcontext.h"

#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Sync {

// "YYYY-MM-DDTHHMMSSZ", with "-<k>" when two runs fall in one second.
bool isSnapshotName(std::string_view name);

// The complete snapshots in areaFd, oldest first. removeIncomplete: also removes what an
// interrupted run left ("<name>.partial").
std::vector<std::string> listSnapshots(int areaFd, bool removeIncomplete);

// A name for a new snapshot: the time now (UTC), made unique and later than every existing one
// (`existing` sorted).
std::string newSnapshotName(const std::vector<std::string> &existing);

// Removes the snapshots run.options.retention lets go (never `newest`), with progress in the
// Delete phase; their names go into run.result.snapshotsRemoved.
void applyRetention(RunContext &run, int areaFd, const std::vector<std::string> &snapshots,
                    const std::string &newest);

} // namespace Coffer::Sync
