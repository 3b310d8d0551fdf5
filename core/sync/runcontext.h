#pragma once

// Internal to the sync engine: what every phase of one run shares -- the options, the result
// being built, progress reports, warnings (from any thread) and cancellation.

#include "sync/exclude.h"
#include "sync/job.h"
#include "sync/syncengine.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace Coffer::Sync {

// Thrown when the caller's cancel flag is seen; the run ends with Outcome::Cancelled.
struct Cancelled
{
};

// A destination failure stops the run: an Error with the errno's kind (NoSpace, MediumGone, ...).
[[noreturn]] void throwDest(int err, const std::string &what);

class RunContext
{
public:
    RunContext(const Options &options, const ProgressCallback &progress, const std::atomic<bool> *cancel);

    const Options &options;
    const ExcludeRules excludes;
    const bool root; // running as root: owners are copied and compared
    Result result;
    Progress progress; // reported by the run's own thread only

    void checkCancel() const
    {
        if (m_cancel && m_cancel->load(std::memory_order_relaxed))
            throw Cancelled{};
    }
    // A warning about `path` (thread safe). `partial`: the run is Partial because of it.
    void warn(std::string path, std::string message, int err = 0, bool partial = true);
    bool partial();
    // Reports progress in `phase` (at most every progressIntervalMs unless forced or the phase
    // changes); the current item is the job's node idx (NoNode: the source itself).
    void report(Phase phase, const Job *job = nullptr, uint32_t idx = NoNode, bool force = false);

    // What a manifest must have been written with to be trusted: mode, xattrs, root, excludes.
    uint64_t optionsHash() const;
    std::string manifestName(const Job &job) const;

private:
    const ProgressCallback &m_progressCb;
    const std::atomic<bool> *m_cancel;
    std::mutex m_warnLock; // result.warnings, result.warningsDropped, m_partial
    bool m_partial = false;
    std::chrono::steady_clock::time_point m_lastReport;
};

} // namespace Coffer::Sync
