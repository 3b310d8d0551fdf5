#pragma once

// Internal to the sync engine: the scan phase. Lists a tree (a source, or the destination) with
// getdents64 + fstatat(AT_SYMLINK_NOFOLLOW) relative to pinned directory fds, one directory at a
// time per CPU, into a Tree; or takes the destination's picture from the last run's manifest
// when it can still be trusted.

#include "sync/job.h"
#include "sync/runcontext.h"

#include <sys/types.h>

#include <string>

namespace Coffer::Sync {

struct Listing;
struct ScanTask;
struct ScanState;

class Scanner
{
public:
    // destDev/destIno: the destination directory, skipped where a source contains it.
    Scanner(RunContext &run, dev_t destDev, ino_t destIno);

    // Scans the tree at rootFd into `tree` (empty). A source's problems are warnings; excluded
    // entries never enter a source's tree.
    void scanTree(Job &job, Tree &tree, int rootFd, bool isSource);

    // Reads job.dst from the manifest in metaFd (-1: none) when it is still true: same options,
    // same root inode and ctime, every directory's inode and ctime unchanged (mirror: job.dstRoot;
    // snapshot: job.prevRoot, which must be prevSnapshot's). Also sets job.manifestUnflushed.
    bool loadManifest(Job &job, int metaFd, const std::string &prevSnapshot);

private:
    void scanWorker(ScanState &state, bool reports);
    void scanOne(ScanState &state, ScanTask &task, bool reports);
    Listing listDir(int dirFd, const std::string &rel, bool isSource) const;
    bool validateDirs(int rootFd, const Tree &t, uint32_t dir, std::string &rel);

    RunContext &m_run;
    dev_t m_destDev;
    ino_t m_destIno;
};

} // namespace Coffer::Sync
