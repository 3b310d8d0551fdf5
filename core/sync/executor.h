#pragma once

// Internal to the sync engine: the execute phase. Walks only the dirty subtrees of a planned
// job and carries out each node's action in the destination: every file through a temp name
// + renameat, deletions first in each directory, a directory's own metadata last. Small files
// are copied on helper threads when there is more than one CPU.

#include "sync/earlywriteback.h"
#include "sync/job.h"
#include "sync/runcontext.h"
#include "sync/workqueue.h"

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Sync {

struct OpenDir;
struct CopyTask;
struct Tally;

class Executor
{
public:
    // destFd: the destination, whose writeback a durable run starts early.
    Executor(RunContext &run, int destFd);
    // Stops the copy threads (queued copies are dropped, running ones finish), then the writeback.
    ~Executor();
    Executor(const Executor &) = delete;
    Executor &operator=(const Executor &) = delete;

    // Carries out job's plan into job.dstRoot (job.prevRoot: the previous snapshot's copy, for
    // hard links to unchanged files).
    void execute(Job &job);

private:
    // `dir`: the directory being executed (the entry's parent); prevFd: its previous snapshot.
    void execDir(const std::shared_ptr<OpenDir> &dir, int prevFd);
    void execEntry(const std::shared_ptr<OpenDir> &dir, uint32_t c, int prevFd);
    void execFile(const std::shared_ptr<OpenDir> &dir, uint32_t c, int prevFd);
    bool copyFile(Job &job, uint32_t c, int srcFd, int dstFd, Tally *async = nullptr);
    void countCopied(const Node &n);
    bool queueCopy(const std::shared_ptr<OpenDir> &dir, uint32_t c);
    void absorbCopies(std::vector<CopyTask> done);
    void finishDir(OpenDir &dir);
    void noXattrSupport();
    void makeSpecial(Job &job, uint32_t c, int dstFd);
    void linkToLeader(Job &job, uint32_t c, int dstFd);
    void setDirMeta(Job &job, uint32_t s, int srcFd, int dstFd);
    void syncDirXattrs(Job &job, uint32_t s, int srcFd, int dstFd);
    void fixMeta(Job &job, uint32_t c, int srcFd, int dstFd);
    uint64_t install(int dstFd, const std::string &tmp, std::string_view name);

    RunContext &m_run;
    // Shared with the copy threads.
    std::atomic<bool> m_xattrs;     // cleared when the destination turns out not to support them
    std::atomic<bool> m_cfr{true};  // copy_file_range usable
    std::atomic<uint64_t> m_tmpCounter{0};
    std::unique_ptr<EarlyWriteback> m_writeback; // durable runs only
    std::unique_ptr<WorkQueue<CopyTask>> m_copies; // with more than one CPU; stopped first
};

} // namespace Coffer::Sync
