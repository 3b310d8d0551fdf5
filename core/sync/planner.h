#pragma once

// Internal to the sync engine: the plan phase. It merges a source tree with the destination's
// picture by name and decides each entry's action (Node::action and flags) and which
// destination entries go (FlagDelete), counting items and bytes into a Plan. Pure: no file
// system access, so it is tested on hand-built trees (tests/unit/test_sync_planner).

#include "sync/exclude.h"
#include "sync/job.h"
#include "sync/syncengine.h"

#include <string>

namespace Coffer::Sync {

struct PlanSettings
{
    Mode mode = Mode::Mirror;
    bool checksum = false;      // quick-check-unchanged files are compared by content
    bool listItems = false;     // every change goes into Plan::items (dry runs)
    bool compareOwners = false; // uid/gid count as metadata (running as root)
    bool xattrs = true;         // user.* xattrs are compared where no manifest vouches for them
    bool durable = true;        // the run ends with a syncfs (an unflushed manifest gets rewritten)
    ExcludeRules excludes;      // destination entries they match are kept
};

class Planner
{
public:
    Planner(const PlanSettings &settings, Plan &plan);

    // Plans one source: job.src against job.dst (when job.haveDst) and sets job.manifestChanged.
    void plan(Job &job);

private:
    void planDir(Job &job, uint32_t s, uint32_t d, std::string &rel);
    void planNew(Job &job, uint32_t s);
    void planFile(Job &job, uint32_t s, uint32_t d);
    void planHardLink(Job &job, uint32_t s, uint32_t d);
    void markDelete(Job &job, uint32_t d, std::string_view rel);
    void addItem(PlanAction action, char type, const Job &job, uint32_t idx, uint64_t bytes,
                 const std::string *path = nullptr);
    bool sameMeta(const Node &a, const Node &b) const
    {
        return (a.mode & 07777) == (b.mode & 07777)
            && (!m_settings.compareOwners || (a.uid == b.uid && a.gid == b.gid));
    }

    const PlanSettings &m_settings;
    Plan &m_plan;
};

} // namespace Coffer::Sync
