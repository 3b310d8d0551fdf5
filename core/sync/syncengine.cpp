#include "sync/syncengine.h"

#include "block/uniquefd.h"
#include "sync/executor.h"
#include "sync/fsops.h"
#include "sync/job.h"
#include "sync/planner.h"
#include "sync/runcontext.h"
#include "sync/scanner.h"
#include "sync/snapshots.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

// How a run goes (see syncengine.h for the layout), one phase per file:
//  1. scan (scanner.cpp) every source with getdents64 + fstatat(AT_SYMLINK_NOFOLLOW) relative
//     to pinned directory fds, one directory at a time per CPU (excluded entries never enter the
//     tree);
//  2. take the destination's picture from the manifest of the last run when it is still
//     trustworthy (same options, same root inode, every directory's inode and ctime unchanged),
//     else by scanning the destination the same way;
//  3. plan (planner.cpp): merge both trees by name, decide each entry's action, count items and
//     bytes (a dry run stops here);
//  4. execute (executor.cpp) only the dirty subtrees, every file through a temp name + renameat;
//  5. here: one syncfs + directory fsyncs, then the new manifest, then snapshot rename and
//     retention (snapshots.cpp).

namespace Coffer::Sync {

namespace {

UniqueFd openDirAt(int dirFd, const std::string &name)
{
    return UniqueFd(::openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

UniqueFd makeDirAt(int dirFd, const std::string &name, mode_t mode, const std::string &what)
{
    if (::mkdirat(dirFd, name.c_str(), mode) != 0 && errno != EEXIST)
        throw Error::fromErrno(errno, "Cannot create " + what);
    UniqueFd fd = openDirAt(dirFd, name);
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open " + what + " (it must be a directory, not a symbolic link)");
    return fd;
}

// Our own directories in the destination (.coffer/, current/, snapshots/): the owner's only, so
// that other users cannot read the backed-up secrets while a vault is open -- also where an
// older run made them 0755.
UniqueFd makePrivateDirAt(int dirFd, const std::string &name, const std::string &what)
{
    UniqueFd fd = makeDirAt(dirFd, name, 0700, what);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || ((st.st_mode & 07777) != 0700 && ::fchmod(fd.get(), 0700) != 0))
        throw Error::fromErrno(errno, "Cannot make " + what + " private");
    return fd;
}

class Engine
{
public:
    Engine(const Options &options, const ProgressCallback &progress, const std::atomic<bool> *cancel)
        : m_run(options, progress, cancel)
        , m_opt(options)
    {
    }

    Result run();

private:
    void checkOptions() const;
    void openDestination();
    PlanSettings planSettings() const;
    void removeIncompleteSnapshot();
    Result finish(Outcome outcome);

    RunContext m_run;
    const Options &m_opt;
    std::vector<Job> m_jobs;
    UniqueFd m_dest;
    dev_t m_destDev = 0;
    ino_t m_destIno = 0;
    UniqueFd m_meta; // .coffer/sync
    UniqueFd m_area; // current/ or snapshots/
    std::string m_snapshot, m_partialName, m_prevSnapshot;
    std::vector<std::string> m_snapshots;
};

void Engine::checkOptions() const
{
    if (m_opt.sources.empty())
        throw Error(ErrorCode::InvalidArgument, "Give at least one source directory.");
    if (m_opt.destination.empty())
        throw Error(ErrorCode::InvalidArgument, "Give a destination directory.");
    for (size_t i = 0; i < m_opt.sources.size(); ++i) {
        const Source &s = m_opt.sources[i];
        if (!isEntryName(s.name))
            throw Error(ErrorCode::InvalidArgument, "The source name \"" + s.name
                        + "\" is not usable: it must be one path component (no '/', not \".\" or \"..\").");
        if (s.path.empty())
            throw Error(ErrorCode::InvalidArgument, "A source path is empty.");
        for (size_t j = 0; j < i; ++j)
            if (m_opt.sources[j].name == s.name)
                throw Error(ErrorCode::InvalidArgument, "Two sources have the same name \"" + s.name + "\".");
    }
}

// The destination and our own area in it; snapshot mode: the snapshots there and the new name.
void Engine::openDestination()
{
    const bool mirror = m_opt.mode == Mode::Mirror;
    m_dest.reset(::open(m_opt.destination.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!m_dest)
        throw Error::fromErrno(errno, "Cannot open the destination " + m_opt.destination);
    {
        struct stat st;
        if (::fstat(m_dest.get(), &st) == 0) {
            m_destDev = st.st_dev;
            m_destIno = st.st_ino;
        }
    }
    const std::string areaName = mirror ? "current" : "snapshots";
    if (!m_opt.dryRun) {
        UniqueFd coffer = makePrivateDirAt(m_dest.get(), ".coffer", "the destination's .coffer directory");
        m_meta = makePrivateDirAt(coffer.get(), "sync", "the destination's .coffer/sync directory");
        // One run per destination: a second one would race on the same temp files and manifest.
        if (::flock(m_meta.get(), LOCK_EX | LOCK_NB) != 0)
            throw Error(ErrorCode::Busy, "Another sync is writing to " + m_opt.destination + " right now.",
                        errno);
        m_area = makePrivateDirAt(m_dest.get(), areaName, "the destination's " + areaName + " directory");
    } else {
        UniqueFd coffer = openDirAt(m_dest.get(), ".coffer");
        if (coffer)
            m_meta = openDirAt(coffer.get(), "sync");
        m_area = openDirAt(m_dest.get(), areaName);
    }
    if (!mirror && m_area) {
        m_snapshots = listSnapshots(m_area.get(), !m_opt.dryRun);
        if (!m_snapshots.empty())
            m_prevSnapshot = m_snapshots.back();
        m_snapshot = newSnapshotName(m_snapshots);
        m_partialName = m_snapshot + ".partial";
    }
}

PlanSettings Engine::planSettings() const
{
    PlanSettings s;
    s.mode = m_opt.mode;
    s.checksum = m_opt.checksum;
    s.listItems = m_opt.dryRun;
    s.compareOwners = m_run.root;
    s.xattrs = m_opt.xattrs;
    s.durable = m_opt.durable;
    s.excludes = m_run.excludes;
    return s;
}

void Engine::removeIncompleteSnapshot()
{
    uint64_t removed = 0;
    try {
        removeTree(m_area.get(), m_partialName, removed);
    } catch (const SysError &) {
    }
}

Result Engine::finish(Outcome outcome)
{
    m_run.result.outcome = outcome;
    m_run.report(Phase::Done, nullptr, NoNode, true);
    return std::move(m_run.result);
}

Result Engine::run()
{
    checkOptions();
    m_run.result.dryRun = m_opt.dryRun;
    const bool mirror = m_opt.mode == Mode::Mirror;
    openDestination();

    // Sources and what the destination holds for each.
    m_jobs.resize(m_opt.sources.size());
    UniqueFd prevSnap = (!mirror && !m_prevSnapshot.empty()) ? openDirAt(m_area.get(), m_prevSnapshot) : UniqueFd();
    for (size_t i = 0; i < m_jobs.size(); ++i) {
        Job &job = m_jobs[i];
        job.source = m_opt.sources[i];
        job.srcRoot.reset(::open(job.source.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY));
        if (!job.srcRoot) {
            const int err = errno;
            if (err == ENOTDIR)
                throw Error(ErrorCode::InvalidArgument, "The source " + job.source.path + " is not a directory.", err);
            throw Error::fromErrno(err, "Cannot open the source " + job.source.path);
        }
        if (mirror && m_area)
            job.dstRoot = openDirAt(m_area.get(), job.source.name);
        if (!mirror && prevSnap)
            job.prevRoot = openDirAt(prevSnap.get(), job.source.name);
    }

    // Scan.
    m_run.report(Phase::Scan, nullptr, NoNode, true);
    Scanner scanner(m_run, m_destDev, m_destIno);
    for (Job &job : m_jobs) {
        scanner.scanTree(job, job.src, job.srcRoot.get(), true);
        const int dstRoot = mirror ? job.dstRoot.get() : job.prevRoot.get();
        if (dstRoot >= 0) {
            job.haveDst = true;
            job.fromManifest = scanner.loadManifest(job, m_meta.get(), m_prevSnapshot);
            if (!job.fromManifest)
                scanner.scanTree(job, job.dst, dstRoot, false);
        }
        m_run.result.filesScanned += job.src.nodes.size() - 1;
    }
    m_run.result.usedManifest = !m_jobs.empty()
        && std::all_of(m_jobs.begin(), m_jobs.end(), [](const Job &j) { return j.fromManifest; });

    // Plan.
    Plan &plan = m_run.result.plan;
    {
        const PlanSettings settings = planSettings();
        Planner planner(settings, plan);
        for (Job &job : m_jobs)
            planner.plan(job);
    }
    m_run.progress.filesDone = 0;
    m_run.progress.filesTotal += plan.added + plan.updated + plan.metadataOnly;
    m_run.progress.bytesTotal += plan.bytesToWrite;
    struct statvfs vfs;
    if (::fstatvfs(m_dest.get(), &vfs) == 0)
        plan.bytesFree = uint64_t(vfs.f_bavail) * vfs.f_frsize;
    {
        const uint64_t block = 4096;
        const uint64_t needed = plan.bytesToWrite + (plan.added + plan.updated) * block;
        plan.fits = needed <= plan.bytesFree + plan.bytesToDelete;
    }
    if (m_opt.dryRun)
        return finish(m_run.partial() ? Outcome::Partial : Outcome::Complete);

    // Execute.
    bool wrote = false;
    UniqueFd snapDir;
    try {
        if (!mirror)
            snapDir = makeDirAt(m_area.get(), m_partialName, 0700, "the new snapshot");
        Executor executor(m_run, m_dest.get());
        m_run.progress.filesDone = 0;
        m_run.progress.bytesDone = 0;
        m_run.report(Phase::Copy, nullptr, NoNode, true);
        for (Job &job : m_jobs) {
            Node &root = job.src.nodes[0];
            const bool dirty = root.action != Action::None
                || (root.flags & (FlagSubtreeDirty | FlagMetaDirty | FlagCheckXattr));
            if (!dirty && !(mirror && !job.dstRoot))
                continue;
            wrote = true;
            if (job.manifestChanged)
                ::unlinkat(m_meta.get(), m_run.manifestName(job).c_str(), 0);
            if (mirror) {
                if (!job.dstRoot) {
                    uint64_t removed = 0;
                    try {
                        removeTree(m_area.get(), job.source.name, removed);
                    } catch (const SysError &e) {
                        throwDest(e.err, "Cannot replace " + job.source.name + " in the destination");
                    }
                    job.dstRoot = makeDirAt(m_area.get(), job.source.name, 0700, "the directory for " + job.source.name);
                }
            } else {
                job.dstRoot = makeDirAt(snapDir.get(), job.source.name, 0700, "the directory for " + job.source.name);
            }
            if (!m_run.root) {
                struct stat dst;
                if (::fstat(job.dstRoot.get(), &dst) == 0 && (dst.st_mode & 0300) != 0300) {
                    ::fchmod(job.dstRoot.get(), (dst.st_mode & 07777) | 0700);
                    root.flags |= FlagMetaDirty;
                }
            }
            executor.execute(job);
        }
    } catch (const Cancelled &) {
        // The executor (its copy threads first) is gone before anything is cleaned up.
        if (snapDir) {
            snapDir.reset();
            removeIncompleteSnapshot();
        }
        return finish(Outcome::Cancelled);
    } catch (const Error &e) {
        if (snapDir && e.code() == ErrorCode::NoSpace) {
            snapDir.reset();
            removeIncompleteSnapshot();
        }
        throw;
    }

    // Flush: one syncfs for everything written, then the directories we own.
    m_run.report(Phase::Flush, nullptr, NoNode, true);
    // Also when only the manifest changes: the data it describes may come from an unflushed run.
    const bool anyManifest = std::any_of(m_jobs.begin(), m_jobs.end(),
                                         [](const Job &j) { return j.manifestChanged; });
    if ((wrote || anyManifest) && m_opt.durable) {
        if (::syncfs(m_dest.get()) != 0)
            throwDest(errno, "Cannot flush the destination to disk");
        for (Job &job : m_jobs)
            if (job.dstRoot)
                ::fsync(job.dstRoot.get());
        if (snapDir)
            ::fsync(snapDir.get());
        ::fsync(m_area.get());
    }
    if (!mirror) {
        if (::renameat(m_area.get(), m_partialName.c_str(), m_area.get(), m_snapshot.c_str()) != 0)
            throwDest(errno, "Cannot complete the snapshot " + m_snapshot);
        if (m_opt.durable)
            ::fsync(m_area.get());
        m_run.result.snapshot = m_snapshot;
    }
    m_run.result.durable = m_opt.durable || !wrote;

    // The manifests: only after a complete run (a partial one leaves the destination to be
    // compared on both sides next time, which is always right).
    const bool partial = m_run.partial();
    if (!partial) {
        bool any = false;
        for (Job &job : m_jobs) {
            if (!job.manifestChanged && mirror)
                continue;
            struct stat st;
            if (!job.dstRoot || ::fstat(job.dstRoot.get(), &st) != 0)
                continue;
            ManifestHeader h;
            h.sourceName = job.source.name;
            h.snapshot = m_snapshot;
            h.optionsHash = m_run.optionsHash();
            h.rootDev = st.st_dev;
            h.rootIno = st.st_ino;
            if (!m_opt.durable)
                h.unflushedBootId = currentBootId();
            writeManifest(m_meta.get(), m_run.manifestName(job), h, job.src);
            any = true;
        }
        if (any && m_opt.durable)
            ::fsync(m_meta.get());
    }

    if (!mirror)
        applyRetention(m_run, m_area.get(), m_snapshots, m_snapshot);

    return finish(partial ? Outcome::Partial : Outcome::Complete);
}

} // namespace

Result run(const Options &options, const ProgressCallback &progress, const std::atomic<bool> *cancel)
{
    Engine engine(options, progress, cancel);
    return engine.run();
}

} // namespace Coffer::Sync
