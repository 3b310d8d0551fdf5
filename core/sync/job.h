#pragma once

// Internal to the sync engine: one source of a run and what every phase knows about it (scan
// fills the trees, plan decides each node's action, execute carries it out).

#include "block/uniquefd.h"
#include "sync/syncengine.h"
#include "sync/tree.h"

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <unordered_map>

namespace Coffer::Sync {

struct Job
{
    Source source;
    UniqueFd srcRoot;
    Tree src;
    Tree dst;           // the destination (mirror) or previous snapshot's picture
    bool haveDst = false;
    bool fromManifest = false;
    UniqueFd dstRoot;   // current/<name> or snapshots/<new>.partial/<name>
    UniqueFd prevRoot;  // snapshot: snapshots/<previous>/<name>
    bool manifestChanged = true;
    bool manifestUnflushed = false; // the last run's manifest was written without a syncfs
    std::unordered_map<uint64_t, uint32_t> leaders; // hard links: (device, inode) -> first member
};

// "<source-name>/<relative path>" of a source node, as warnings, progress and plans name it.
inline std::string itemPath(const Job &job, uint32_t idx)
{
    std::string p = job.source.name;
    const std::string rel = job.src.path(idx);
    if (!rel.empty())
        p += '/' + rel;
    return p;
}

// Hard-link groups are keyed by source device and inode.
inline uint64_t linkKey(const Node &n)
{
    return (uint64_t(n.dev) << 48) ^ n.ino;
}

inline int64_t ns(const struct timespec &ts)
{
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline struct timespec toTimespec(int64_t n)
{
    struct timespec ts;
    ts.tv_sec = time_t(n / 1000000000);
    ts.tv_nsec = long(n % 1000000000);
    if (ts.tv_nsec < 0) {
        ts.tv_nsec += 1000000000;
        ts.tv_sec -= 1;
    }
    return ts;
}

} // namespace Coffer::Sync
