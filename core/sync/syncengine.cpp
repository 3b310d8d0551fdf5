#include "sync/syncengine.h"

#include "block/uniquefd.h"
#include "sync/earlywriteback.h"
#include "sync/exclude.h"
#include "sync/fsops.h"
#include "sync/tree.h"
#include "sync/workqueue.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <sched.h>
#include <thread>
#include <unordered_map>

// How a run goes (see syncengine.h for the layout):
//  1. scan every source with getdents64 + fstatat(AT_SYMLINK_NOFOLLOW) relative to pinned
//     directory fds, one directory at a time per CPU (excluded entries never enter the tree);
//  2. take the destination's picture from the manifest of the last run when it is still
//     trustworthy (same options, same root inode, every directory's inode and ctime unchanged),
//     else by scanning the destination the same way;
//  3. plan: merge both trees by name, decide each entry's action, count items and bytes (a dry
//     run stops here);
//  4. execute only the dirty subtrees, every file through a temp name + renameat;
//  5. one syncfs + directory fsyncs, then the new manifest, then snapshot rename and retention.

namespace Coffer::Sync {

namespace {

constexpr size_t MaxWarnings = 1000;

int64_t ns(const struct timespec &ts)
{
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct timespec toTimespec(int64_t n)
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

bool validName(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." && name.size() <= 255
        && name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::string hexName(std::string_view name)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : name) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// A failure that belongs to one source entry: warn, mark the run partial, go on.
struct SourceError
{
    int err;
    std::string message;
};

struct Cancelled
{
};

struct Listing;
struct ScanTask;
struct ScanState;
struct OpenDir;
struct CopyTask;
struct Tally;

// One source in this run.
struct Job
{
    Source source;
    UniqueFd srcRoot;
    dev_t srcRootDev = 0;
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

class Engine
{
public:
    Engine(const Options &options, const ProgressCallback &progress, const std::atomic<bool> *cancel)
        : m_opt(options)
        , m_progressCb(progress)
        , m_cancel(cancel)
        , m_excludes(options.excludes)
        , m_root(::geteuid() == 0)
    {
    }

    Result run();

private:
    // --- helpers
    void checkCancel() const
    {
        if (m_cancel && m_cancel->load(std::memory_order_relaxed))
            throw Cancelled{};
    }
    void warn(std::string path, std::string message, int err = 0, bool partial = true)
    {
        std::lock_guard<std::mutex> guard(m_warnLock);
        if (partial)
            m_partial = true;
        if (m_result.warnings.size() >= MaxWarnings) {
            ++m_result.warningsDropped;
            return;
        }
        if (err)
            message += std::string(": ") + std::strerror(err);
        m_result.warnings.push_back({std::move(path), std::move(message), err});
    }
    std::string itemPath(const Job &job, uint32_t idx) const
    {
        std::string p = job.source.name;
        const std::string rel = job.src.path(idx);
        if (!rel.empty())
            p += '/' + rel;
        return p;
    }
    void report(Phase phase, const Job *job = nullptr, uint32_t idx = NoNode, bool force = false);
    uint64_t optionsHash() const;
    std::string manifestName(const Job &job) const
    {
        return std::string(m_opt.mode == Mode::Mirror ? "mirror-" : "snapshot-")
            + hexName(job.source.name) + ".manifest";
    }

    // --- scan
    void scanTree(Job &job, Tree &tree, int rootFd, bool isSource);
    void scanWorker(ScanState &state, bool reports);
    void scanOne(ScanState &state, ScanTask &task, bool reports);
    Listing listDir(int dirFd, const std::string &rel, bool isSource) const;
    bool loadManifest(Job &job);
    bool validateDirs(Job &job, const Tree &t, uint32_t dir, std::string &rel);

    // --- plan
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
            && (!m_root || (a.uid == b.uid && a.gid == b.gid));
    }

    // --- execute
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

    const Options &m_opt;
    const ProgressCallback &m_progressCb;
    const std::atomic<bool> *m_cancel;
    ExcludeRules m_excludes;
    bool m_root;
    // Shared with the scan and copy threads.
    std::mutex m_warnLock; // m_result.warnings, m_result.warningsDropped, m_partial
    bool m_partial = false;
    std::atomic<bool> m_xattrs{true};
    std::atomic<bool> m_cfr{true}; // copy_file_range usable
    std::atomic<uint64_t> m_tmpCounter{0};
    Result m_result;
    Progress m_progress;
    std::chrono::steady_clock::time_point m_lastReport;
    std::vector<Job> m_jobs;
    UniqueFd m_dest;
    dev_t m_destDev = 0;
    ino_t m_destIno = 0;
    UniqueFd m_meta; // .coffer/sync
    UniqueFd m_area; // current/ or snapshots/
    std::string m_snapshot, m_partialName, m_prevSnapshot;
    std::vector<std::string> m_snapshots;
    std::unique_ptr<EarlyWriteback> m_writeback; // durable runs only, while executing
    std::unique_ptr<WorkQueue<CopyTask>> m_copies; // while executing, with more than one CPU
};

void Engine::report(Phase phase, const Job *job, uint32_t idx, bool force)
{
    if (!m_progressCb)
        return;
    const auto now = std::chrono::steady_clock::now();
    const bool phaseChange = phase != m_progress.phase;
    if (!force && !phaseChange
        && now - m_lastReport < std::chrono::milliseconds(m_opt.progressIntervalMs))
        return;
    m_lastReport = now;
    m_progress.phase = phase;
    m_progress.currentItem = job ? (idx == NoNode ? job->source.name : itemPath(*job, idx))
                                 : std::string();
    m_progressCb(m_progress);
}

uint64_t Engine::optionsHash() const
{
    std::string key = "v1;";
    key += m_opt.mode == Mode::Mirror ? 'm' : 's';
    key += m_opt.xattrs ? 'x' : '-';
    key += m_root ? 'r' : 'u';
    for (const std::string &e : m_opt.excludes) {
        key += '\0';
        key += e;
    }
    return fnv1a(key.data(), key.size());
}

// ---------------------------------------------------------------------------------------------
// Scan
//
// Every directory is listed (getdents64, then fstatat and readlinkat relative to its own pinned
// fd) by whichever scan thread is free, and merged into the tree under one lock: a directory's
// children stay contiguous and sorted by name, only the order of the directories' child blocks
// in the table may differ from a one-thread walk. Most of a scan is the kernel's path lookup
// per entry, so two CPUs scan nearly twice as fast as one.

// What one scan thread found in one directory, before it enters the tree.
struct Listing
{
    struct Entry
    {
        Node node; // nameOff: offset into `names`, where a symlink's target follows its name
        dev_t dev = 0;
    };
    // A warning to give (empty message: none, as for the destination) and whether the
    // directory could not be read completely (then nothing inside it is deleted).
    struct Problem
    {
        std::string name; // the entry's name, or empty for the directory itself
        std::string message;
        int err = 0;
        bool partial = true;
        bool incomplete = false;
    };
    std::vector<Entry> entries;
    std::string names;
    std::vector<Problem> problems;
};

// A directory waiting to be listed. The thread that lists it opens it relative to its parent,
// whose fd stays open while any of its children wait (the root's fd is the caller's).
struct ScanTask
{
    std::shared_ptr<UniqueFd> parent;
    int rootFd = -1;
    uint32_t index = 0;
    std::string name;
    std::string rel; // relative to the root, for excludes
    ino_t ino = 0;
    dev_t dev = 0;
};

struct ScanState
{
    Job &job;
    Tree &tree;
    bool isSource;
    std::mutex lock;
    std::condition_variable wake;
    std::vector<ScanTask> pending; // a stack: depth first keeps few parents' fds open
    unsigned busy = 0;
    bool stop = false;
    std::exception_ptr error;
};

unsigned cpuThreads()
{
    cpu_set_t set;
    const int cpus = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return unsigned(std::clamp(cpus, 1, 4));
}

void Engine::scanTree(Job &job, Tree &tree, int rootFd, bool isSource)
{
    struct stat st;
    if (::fstat(rootFd, &st) != 0)
        throw Error::fromErrno(errno, "Cannot examine " + job.source.path);
    Node root;
    root.mode = st.st_mode;
    root.uid = st.st_uid;
    root.gid = st.st_gid;
    root.mtimeNs = ns(st.st_mtim);
    root.ctimeNs = ns(st.st_ctim);
    root.ino = st.st_ino;
    root.destIno = isSource ? 0 : st.st_ino;
    root.destCtimeNs = isSource ? 0 : ns(st.st_ctim);
    root.nlink = uint32_t(st.st_nlink);
    root.dev = tree.deviceIndex(st.st_dev);
    tree.nodes.push(root);

    ScanState state{job, tree, isSource, {}, {}, {}, 0, false, {}};
    state.pending.push_back(ScanTask{nullptr, rootFd, 0, {}, {}, st.st_ino, st.st_dev});
    std::vector<std::thread> helpers;
    startHelpers(helpers, cpuThreads() - 1, [this, &state] { scanWorker(state, false); });
    scanWorker(state, true);
    for (std::thread &t : helpers)
        t.join();
    if (state.error)
        std::rethrow_exception(state.error);
}

void Engine::scanWorker(ScanState &state, bool reports)
{
    std::unique_lock<std::mutex> lock(state.lock);
    for (;;) {
        state.wake.wait(lock, [&] { return state.stop || !state.pending.empty() || state.busy == 0; });
        if (state.stop || state.pending.empty())
            break; // stopped, or nothing waits and nobody is listing: the walk is complete
        ScanTask task = std::move(state.pending.back());
        state.pending.pop_back();
        ++state.busy;
        lock.unlock();
        try {
            scanOne(state, task, reports);
            lock.lock();
        } catch (...) {
            lock.lock();
            if (!state.error)
                state.error = std::current_exception();
            state.stop = true;
        }
        if (--state.busy == 0 || state.stop)
            state.wake.notify_all();
    }
}

void Engine::scanOne(ScanState &state, ScanTask &task, bool reports)
{
    checkCancel();
    UniqueFd own;
    int dirFd = task.rootFd;
    if (task.parent) {
        own.reset(::openat(task.parent->get(), task.name.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        task.parent.reset();
        struct stat st;
        if (!own || ::fstat(own.get(), &st) != 0 || st.st_ino != task.ino || st.st_dev != task.dev) {
            const int err = own ? 0 : errno;
            std::lock_guard<std::mutex> guard(state.lock);
            state.tree.nodes[task.index].flags |= FlagScanFailed | FlagFailed; // skipped later
            if (state.isSource)
                warn(itemPath(state.job, task.index),
                     err ? "Cannot open the directory" : "The directory was replaced during the scan", err);
            return;
        }
        dirFd = own.get();
    }
    const Listing listing = listDir(dirFd, task.rel, state.isSource);

    std::lock_guard<std::mutex> guard(state.lock);
    Tree &tree = state.tree;
    for (const Listing::Problem &p : listing.problems) {
        if (p.incomplete)
            tree.nodes[task.index].flags |= FlagScanFailed;
        if (p.message.empty())
            continue;
        std::string path = itemPath(state.job, task.index);
        if (!p.name.empty())
            path += '/' + p.name;
        warn(std::move(path), p.message, p.err, p.partial);
    }
    const uint32_t first = tree.nodes.size();
    tree.nodes[task.index].firstChild = first;
    tree.nodes[task.index].childCount = uint32_t(listing.entries.size());
    for (const Listing::Entry &e : listing.entries) {
        Node n = e.node;
        const std::string_view name(listing.names.data() + n.nameOff, n.nameLen);
        const std::string_view target = S_ISLNK(n.mode)
            ? std::string_view(listing.names.data() + n.nameOff + n.nameLen, n.size) : std::string_view();
        n.nameOff = tree.names.add(name, target);
        n.dev = tree.deviceIndex(e.dev);
        n.parent = task.index;
        tree.nodes.push(n);
    }
    if (state.isSource && !listing.entries.empty()) {
        m_progress.filesDone += listing.entries.size();
        if (reports)
            report(Phase::Scan, &state.job, tree.nodes.size() - 1);
    }
    // Children pushed last first, so that the first is listed next.
    std::shared_ptr<UniqueFd> self;
    for (size_t k = listing.entries.size(); k-- > 0;) {
        const Listing::Entry &e = listing.entries[k];
        if (!S_ISDIR(e.node.mode))
            continue;
        if (!self)
            self = std::make_shared<UniqueFd>(own ? std::move(own) : UniqueFd(::fcntl(dirFd, F_DUPFD_CLOEXEC, 0)));
        std::string name(listing.names.data() + e.node.nameOff, e.node.nameLen);
        std::string rel = task.rel.empty() ? name : task.rel + '/' + name;
        state.pending.push_back(ScanTask{self, -1, first + uint32_t(k), std::move(name), std::move(rel),
                                         e.node.ino, e.dev});
        state.wake.notify_one();
    }
}

Listing Engine::listDir(int dirFd, const std::string &rel, bool isSource) const
{
    Listing out;
    std::vector<std::string> names;
    try {
        names = readDirNames(dirFd);
    } catch (const SysError &e) {
        out.problems.push_back({{}, isSource ? "Cannot read the directory" : std::string(), e.err, true, true});
        return out;
    }
    std::sort(names.begin(), names.end());
    out.entries.reserve(names.size());
    std::string path = rel; // rel + '/' + name, for excludes
    char target[4097];
    size_t seen = 0;
    for (const std::string &name : names) {
        if ((++seen & 255) == 0)
            checkCancel();
        struct stat st;
        if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            const int err = errno;
            if (!isSource)
                out.problems.push_back({name, {}, err, true, true});
            else
                out.problems.push_back({name, err == ENOENT ? "The file vanished during the scan"
                                                            : "Cannot examine the file",
                                        err, true, err != ENOENT});
            continue;
        }
        const mode_t type = st.st_mode & S_IFMT;
        if (isSource) {
            if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFIFO) {
                out.problems.push_back({name, type == S_IFSOCK ? "Skipped a socket" : "Skipped a device node",
                                        0, false, false});
                continue;
            }
            if (type == S_IFDIR && st.st_ino == m_destIno && st.st_dev == m_destDev) {
                // The destination inside a source: copying it would copy the copy.
                out.problems.push_back({name, "Skipped the destination directory, which is inside this source",
                                        0, false, false});
                continue;
            }
            if (!m_excludes.empty()) {
                path.resize(rel.size());
                if (!path.empty())
                    path += '/';
                path += name;
                if (m_excludes.excluded(path, type == S_IFDIR))
                    continue;
            }
        }
        Listing::Entry e;
        Node &n = e.node;
        n.mode = st.st_mode;
        n.uid = st.st_uid;
        n.gid = st.st_gid;
        n.size = type == S_IFREG ? uint64_t(st.st_size) : 0;
        n.mtimeNs = ns(st.st_mtim);
        n.ctimeNs = ns(st.st_ctim);
        n.ino = st.st_ino;
        n.nlink = uint32_t(st.st_nlink);
        n.nameLen = uint16_t(name.size());
        n.nameOff = out.names.size();
        e.dev = st.st_dev;
        if (!isSource) {
            n.destIno = st.st_ino;
            n.destCtimeNs = ns(st.st_ctim);
        }
        out.names += name;
        if (type == S_IFLNK) {
            const ssize_t len = ::readlinkat(dirFd, name.c_str(), target, sizeof target - 1);
            if (len < 0) {
                if (isSource) {
                    out.problems.push_back({name, "Cannot read the symbolic link", errno, true, false});
                    out.names.resize(n.nameOff);
                    continue;
                }
                n.size = 0;
            } else {
                n.size = uint64_t(len);
                out.names.append(target, size_t(len));
            }
        }
        out.entries.push_back(e);
    }
    return out;
}

bool Engine::validateDirs(Job &job, const Tree &t, uint32_t dir, std::string &rel)
{
    const Node &d = t.nodes[dir];
    for (uint32_t i = d.firstChild; i < d.firstChild + d.childCount; ++i) {
        const Node &c = t.nodes[i];
        if (!S_ISDIR(c.mode))
            continue;
        const size_t keep = rel.size();
        if (!rel.empty())
            rel += '/';
        rel += t.name(c);
        struct stat st;
        const int rootFd = m_opt.mode == Mode::Mirror ? job.dstRoot.get() : job.prevRoot.get();
        if (::fstatat(rootFd, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)
            || st.st_ino != c.destIno || ns(st.st_ctim) != c.destCtimeNs)
            return false;
        if (!validateDirs(job, t, i, rel))
            return false;
        rel.resize(keep);
    }
    return true;
}

bool Engine::loadManifest(Job &job)
{
    if (!m_meta)
        return false;
    const int rootFd = m_opt.mode == Mode::Mirror ? job.dstRoot.get() : job.prevRoot.get();
    if (rootFd < 0)
        return false;
    ManifestHeader h;
    if (!readManifest(m_meta.get(), manifestName(job), h, job.dst))
        return false;
    struct stat st;
    bool ok = h.sourceName == job.source.name && h.optionsHash == optionsHash()
        && ::fstat(rootFd, &st) == 0 && h.rootDev == st.st_dev && h.rootIno == st.st_ino
        && job.dst.nodes[0].destCtimeNs == ns(st.st_ctim)
        && (m_opt.mode == Mode::Mirror || h.snapshot == m_prevSnapshot)
        && (h.unflushedBootId.empty() || h.unflushedBootId == currentBootId());
    if (ok) {
        std::string rel;
        ok = validateDirs(job, job.dst, 0, rel);
    }
    job.manifestUnflushed = ok && !h.unflushedBootId.empty();
    if (!ok || !m_opt.useManifest) {
        // useManifest == false: compare both sides (a new manifest is still written).
        job.dst = Tree();
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Plan

void Engine::addItem(PlanAction action, char type, const Job &job, uint32_t idx, uint64_t bytes,
                     const std::string *path)
{
    switch (action) {
    case PlanAction::Add: ++m_result.plan.added; break;
    case PlanAction::Update: ++m_result.plan.updated; break;
    case PlanAction::Metadata: ++m_result.plan.metadataOnly; break;
    case PlanAction::Delete: ++m_result.plan.deleted; break;
    }
    if (action == PlanAction::Delete)
        m_result.plan.bytesToDelete += bytes;
    else
        m_result.plan.bytesToWrite += bytes;
    if (action != PlanAction::Delete) {
        ++m_progress.filesTotal;
        m_progress.bytesTotal += bytes;
    }
    if (m_opt.dryRun)
        m_result.plan.items.push_back(
            {action, type, path ? *path : itemPath(job, idx), bytes});
}

char typeChar(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return 'd';
    case S_IFLNK: return 'l';
    case S_IFIFO: return 'p';
    case S_IFREG: return 'f';
    default: return '?';
    }
}

void Engine::markDelete(Job &job, uint32_t d, std::string_view rel)
{
    Node &n = job.dst.nodes[d];
    n.flags |= FlagDelete;
    if (!m_opt.dryRun && !S_ISDIR(n.mode)) {
        addItem(PlanAction::Delete, typeChar(n.mode), job, 0, n.nlink > 1 ? 0 : n.size);
        return;
    }
    // Count (and for a dry run, list) everything below a deleted directory.
    std::string path = job.source.name + '/' + std::string(rel);
    if (S_ISDIR(n.mode)) {
        std::string sub(rel);
        for (uint32_t i = n.firstChild; i < n.firstChild + n.childCount; ++i)
            markDelete(job, i, sub + '/' + std::string(job.dst.name(job.dst.nodes[i])));
    }
    addItem(PlanAction::Delete, typeChar(n.mode), job, 0, n.nlink > 1 ? 0 : n.size, &path);
}

// A source entry with no counterpart: everything below is new.
void Engine::planNew(Job &job, uint32_t s)
{
    Node &n = job.src.nodes[s];
    n.match = NoNode;
    const mode_t type = n.mode & S_IFMT;
    if (type == S_IFREG && n.nlink > 1) {
        planHardLink(job, s, NoNode);
        return;
    }
    n.action = Action::Create;
    addItem(PlanAction::Add, typeChar(n.mode), job, s, type == S_IFREG ? n.size : 0);
    if (type == S_IFDIR) {
        n.flags |= FlagSubtreeDirty | FlagMetaDirty;
        for (uint32_t i = n.firstChild; i < n.firstChild + n.childCount; ++i)
            planNew(job, i);
    }
}

uint64_t linkKey(const Node &n)
{
    return (uint64_t(n.dev) << 48) ^ n.ino;
}

// A regular file with more than one link in the source: the first one met (in walk order) is the
// group's leader and is planned as a file; the others become links to it.
void Engine::planHardLink(Job &job, uint32_t s, uint32_t d)
{
    Node &n = job.src.nodes[s];
    const uint64_t key = linkKey(n);
    auto [it, inserted] = job.leaders.try_emplace(key, s);
    if (inserted || job.src.nodes[it->second].ino != n.ino || job.src.nodes[it->second].dev != n.dev) {
        if (!inserted)
            it->second = s;
        if (d == NoNode) {
            n.action = Action::Create;
            addItem(PlanAction::Add, 'f', job, s, n.size);
        } else {
            planFile(job, s, d);
        }
        return;
    }
    const Node &leader = job.src.nodes[it->second];
    n.match = d;
    const bool leaderKept = leader.action == Action::None || leader.action == Action::Metadata
        || leader.action == Action::LinkPrev || leader.action == Action::Verify;
    if (m_opt.mode == Mode::Mirror && d != NoNode && leaderKept && leader.match != NoNode) {
        const Node &dn = job.dst.nodes[d];
        const Node &ld = job.dst.nodes[leader.match];
        if (S_ISREG(dn.mode) && dn.destIno != 0 && dn.destIno == ld.destIno) {
            n.action = Action::None;
            n.destIno = dn.destIno;
            return;
        }
    }
    n.action = Action::Link;
    addItem(d == NoNode ? PlanAction::Add : PlanAction::Update, 'h', job, s, 0);
}

void Engine::planFile(Job &job, uint32_t s, uint32_t d)
{
    Node &n = job.src.nodes[s];
    const Node &o = job.dst.nodes[d];
    n.match = d;
    n.destIno = o.destIno;
    const mode_t type = n.mode & S_IFMT;
    // The fast path: the manifest saw this very inode with this ctime, so nothing about it
    // (mode, owner, xattrs, size, mtime) changed since the last run wrote it.
    const bool fast = job.fromManifest && n.ctimeNs == o.ctimeNs && n.ino == o.ino;
    const bool snapshot = m_opt.mode == Mode::Snapshot;
    if (type == S_IFREG) {
        const bool quick = n.size == o.size && n.mtimeNs == o.mtimeNs;
        if (!quick) {
            n.action = snapshot ? Action::Create : Action::Update;
            addItem(PlanAction::Update, 'f', job, s, n.size);
            return;
        }
        const bool meta = sameMeta(n, o);
        if (snapshot) {
            if (!meta) {
                n.action = Action::Create;
                addItem(PlanAction::Update, 'f', job, s, n.size);
                return;
            }
            n.action = m_opt.checksum ? Action::Verify : Action::LinkPrev;
        } else if (m_opt.checksum) {
            n.action = Action::Verify;
            if (!meta)
                n.flags |= FlagMetaDirty; // files: mode/owner to set if the content is the same
        } else if (!meta) {
            n.action = Action::Metadata;
            addItem(PlanAction::Metadata, 'f', job, s, 0);
        } else {
            n.action = Action::None;
        }
        if (m_xattrs && !fast)
            n.flags |= FlagCheckXattr;
        if (n.action == Action::None)
            ++m_result.plan.unchanged;
        return;
    }
    if (type == S_IFLNK) {
        if (snapshot || job.src.symlinkTarget(n) != job.dst.symlinkTarget(o)) {
            n.action = snapshot ? Action::Create : Action::Update;
            if (!snapshot)
                addItem(PlanAction::Update, 'l', job, s, 0);
            else if (job.src.symlinkTarget(n) != job.dst.symlinkTarget(o) || n.mtimeNs != o.mtimeNs)
                addItem(PlanAction::Update, 'l', job, s, 0);
            else
                ++m_result.plan.unchanged;
        } else if (n.mtimeNs != o.mtimeNs || (m_root && (n.uid != o.uid || n.gid != o.gid))) {
            n.action = Action::Metadata;
            addItem(PlanAction::Metadata, 'l', job, s, 0);
        } else {
            ++m_result.plan.unchanged;
        }
        return;
    }
    // FIFO
    if (snapshot) {
        n.action = Action::Create;
        ++m_result.plan.unchanged;
    } else if (!sameMeta(n, o) || n.mtimeNs != o.mtimeNs) {
        n.action = Action::Metadata;
        addItem(PlanAction::Metadata, 'p', job, s, 0);
    } else {
        ++m_result.plan.unchanged;
    }
}

// Plans the children of source directory s against destination directory d (NoNode: none).
void Engine::planDir(Job &job, uint32_t s, uint32_t d, std::string &rel)
{
    Tree &S = job.src;
    Tree &D = job.dst;
    const bool snapshot = m_opt.mode == Mode::Snapshot;
    uint32_t i = S.nodes[s].firstChild;
    const uint32_t iEnd = i + S.nodes[s].childCount;
    uint32_t k = d == NoNode ? 0 : D.nodes[d].firstChild;
    const uint32_t kEnd = d == NoNode ? 0 : k + D.nodes[d].childCount;
    const bool protectDst = d == NoNode || (D.nodes[d].flags & FlagScanFailed)
        || (S.nodes[s].flags & FlagScanFailed);
    bool direct = false;  // an entry directly in this directory is created, replaced or deleted
    bool subtree = false; // anything below changes
    while (i < iEnd || k < kEnd) {
        int cmp;
        if (i >= iEnd)
            cmp = 1;
        else if (k >= kEnd)
            cmp = -1;
        else {
            const std::string_view a = S.name(S.nodes[i]), b = D.name(D.nodes[k]);
            cmp = a < b ? -1 : (b < a ? 1 : 0);
        }
        if (cmp > 0) {
            // Only in the destination.
            if (!snapshot && !protectDst) {
                const Node &o = D.nodes[k];
                const size_t keep = rel.size();
                if (!rel.empty())
                    rel += '/';
                rel += D.name(o);
                if (m_excludes.empty() || !m_excludes.excluded(rel, S_ISDIR(o.mode))) {
                    markDelete(job, k, rel);
                    direct = subtree = true;
                } else {
                    D.nodes[k].flags |= FlagKeep;
                }
                rel.resize(keep);
            }
            ++k;
            continue;
        }
        Node &n = S.nodes[i];
        if (cmp < 0) {
            planNew(job, i);
            direct = subtree = true;
            ++i;
            continue;
        }
        // Both sides have this name.
        const Node &o = D.nodes[k];
        const mode_t type = n.mode & S_IFMT;
        if (type != (o.mode & S_IFMT)) {
            if (!snapshot) {
                const size_t keep = rel.size();
                if (!rel.empty())
                    rel += '/';
                rel += D.name(o);
                markDelete(job, k, rel);
                rel.resize(keep);
            }
            planNew(job, i);
            direct = subtree = true;
        } else if (type == S_IFDIR) {
            n.match = k;
            n.destIno = o.destIno;
            n.destCtimeNs = o.destCtimeNs;
            const size_t keep = rel.size();
            if (!rel.empty())
                rel += '/';
            rel += S.name(n);
            planDir(job, i, k, rel);
            rel.resize(keep);
            if (snapshot) {
                n.action = Action::Create;
                ++m_result.plan.unchanged;
            } else {
                const bool fast = job.fromManifest && n.ctimeNs == o.ctimeNs && n.ino == o.ino;
                if (!sameMeta(n, o) || n.mtimeNs != o.mtimeNs) {
                    n.action = Action::Metadata;
                    n.flags |= FlagMetaDirty;
                    addItem(PlanAction::Metadata, 'd', job, i, 0);
                } else {
                    ++m_result.plan.unchanged;
                }
                if (m_xattrs && !fast)
                    n.flags |= FlagCheckXattr;
            }
            if (n.flags & (FlagSubtreeDirty | FlagMetaDirty | FlagCheckXattr))
                subtree = true;
        } else {
            if (type == S_IFREG && n.nlink > 1)
                planHardLink(job, i, k);
            else
                planFile(job, i, k);
            if (n.action != Action::None || (n.flags & FlagCheckXattr))
                subtree = true;
            if (n.action == Action::Create || n.action == Action::Update || n.action == Action::Link
                || n.action == Action::Verify || n.action == Action::LinkPrev)
                direct = true;
        }
        ++i;
        ++k;
    }
    if (snapshot)
        direct = subtree = true;
    if (direct)
        S.nodes[s].flags |= FlagMetaDirty;
    if (subtree || direct)
        S.nodes[s].flags |= FlagSubtreeDirty;
}

// ---------------------------------------------------------------------------------------------
// Execute

// A temp name in a destination directory, unlinked unless installed.
class TempName
{
public:
    TempName(int dirFd, std::atomic<uint64_t> &counter) : m_dir(dirFd)
    {
        m_name = prefix() + std::to_string(++counter) + ".tmp";
    }
    ~TempName()
    {
        if (m_armed)
            ::unlinkat(m_dir, m_name.c_str(), 0);
    }
    TempName(const TempName &) = delete;
    TempName &operator=(const TempName &) = delete;
    const std::string &name() const { return m_name; }
    void next(std::atomic<uint64_t> &counter) { m_name = prefix() + std::to_string(++counter) + ".tmp"; }
    static const std::string &prefix()
    {
        static const std::string p = ".coffer-" + std::to_string(::getpid()) + "-";
        return p;
    }
    void arm() { m_armed = true; }
    void disarm() { m_armed = false; }

private:
    int m_dir;
    std::string m_name;
    bool m_armed = false;
};

[[noreturn]] void throwDest(int err, const std::string &what)
{
    throw Error::fromErrno(err, what);
}

// With copy threads (more than one CPU), small regular files are copied on them while the main
// thread walks on: the per-file work of a sync is system calls (create, write, rename), which two
// CPUs do nearly twice as fast as one. Only the main thread touches the run's counters, reports
// progress and sets a directory's own metadata, the last only once every file copied into the
// directory is in place (a rename into it changes its mtime and ctime).
constexpr uint64_t CopyOnThreadMaxBytes = 1 << 20;
constexpr size_t CopyQueueLength = 64;

// A directory of the destination while its entries are executed.
struct OpenDir
{
    Job *job = nullptr;
    uint32_t index = 0;
    UniqueFd ownSrc, ownDst; // empty for a source's root, whose fds the job owns
    int src = -1, dst = -1;
    unsigned copying = 0; // files queued or being copied into it (main thread only)
    bool walked = false;  // every entry handled: finish it when `copying` drops to 0
};

// What a copy on a copy thread adds to the run, merged by the main thread.
struct Tally
{
    uint64_t bytes = 0;     // data written
    uint64_t moreBytes = 0; // the file grew while it was copied
    uint64_t deleted = 0;   // destination entries removed to make room
};

struct CopyTask
{
    std::shared_ptr<OpenDir> dir;
    uint32_t index = 0;
    Tally tally;
    bool copied = false;
};

void Engine::noXattrSupport()
{
    if (m_xattrs.exchange(false))
        warn({}, "The destination does not support extended attributes; they are not copied", 0, false);
}

// Returns the number of destination entries removed to make room.
uint64_t Engine::install(int dstFd, const std::string &tmp, std::string_view name)
{
    const std::string n(name);
    if (::renameat(dstFd, tmp.c_str(), dstFd, n.c_str()) == 0)
        return 0;
    int err = errno;
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST || err == ENOTDIR) {
        // Something of another type is in the way (the destination changed since the plan).
        uint64_t removed = 0;
        try {
            removeTree(dstFd, n, removed);
        } catch (const SysError &e) {
            throwDest(e.err, "Cannot replace \"" + n + "\" in the destination");
        }
        if (::renameat(dstFd, tmp.c_str(), dstFd, n.c_str()) == 0)
            return removed;
        err = errno;
    }
    throwDest(err, "Cannot move \"" + n + "\" into place in the destination");
}

// `async`: on a copy thread (or for one): counts go to the tally, no progress reports.
bool Engine::copyFile(Job &job, uint32_t c, int srcFd, int dstFd, Tally *async)
{
    Node &n = job.src.nodes[c];
    const std::string name(job.src.name(n));
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    UniqueFd in(::openat(srcFd, name.c_str(), flags | O_NOATIME));
    if (!in && errno == EPERM)
        in.reset(::openat(srcFd, name.c_str(), flags));
    if (!in) {
        const int err = errno;
        warn(itemPath(job, c), err == ENOENT ? "The file vanished before it was copied"
                                             : "Cannot open the file", err);
        n.flags |= FlagFailed;
        return false;
    }
    struct stat st;
    if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != n.ino
        || st.st_dev != job.src.devices[n.dev]) {
        warn(itemPath(job, c), "The file was replaced during the sync and was not copied");
        n.flags |= FlagFailed;
        return false;
    }
    for (int attempt = 0;; ++attempt) {
        TempName tmp(dstFd, m_tmpCounter);
        UniqueFd out;
        for (int tries = 0; tries < 100; ++tries) {
            out.reset(::openat(dstFd, tmp.name().c_str(),
                               (m_opt.checksum ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
            if (out || errno != EEXIST)
                break;
            tmp.next(m_tmpCounter);
        }
        if (!out)
            throwDest(errno, "Cannot create a file in the destination for " + itemPath(job, c));
        tmp.arm();
        bool complete = false;
        bool cfr = m_cfr;
        try {
            complete = copyData(in.get(), out.get(), uint64_t(st.st_size), uint64_t(st.st_blocks),
                                cfr, [&](uint64_t bytes) {
                                    checkCancel();
                                    if (async) {
                                        async->bytes += bytes;
                                        if (m_copies && m_copies->stopping())
                                            throw Cancelled{};
                                        return;
                                    }
                                    m_progress.bytesDone += bytes;
                                    m_result.bytesCopied += bytes;
                                    report(Phase::Copy, &job, c);
                                });
            if (!cfr)
                m_cfr = false;
        } catch (const SysError &e) {
            if (e.err < 0) {
                warn(itemPath(job, c), "Cannot read the file", -e.err);
                n.flags |= FlagFailed;
                return false;
            }
            throwDest(e.err, "Cannot write " + itemPath(job, c) + " to the destination");
        }
        struct stat after;
        if (::fstat(in.get(), &after) != 0)
            throwDest(errno, "Cannot examine " + itemPath(job, c));
        if (complete && after.st_size == st.st_size && ns(after.st_mtim) == ns(st.st_mtim)
            && ns(after.st_ctim) == ns(st.st_ctim)) {
            if (m_opt.checksum) {
                bool same = false;
                try {
                    same = sameContent(in.get(), out.get(), uint64_t(st.st_size),
                                       [&] { checkCancel(); });
                } catch (const SysError &e) {
                    throwDest(e.err < 0 ? -e.err : e.err, "Cannot read back " + itemPath(job, c));
                }
                if (!same)
                    throw Error(ErrorCode::Failed, "Reading back " + itemPath(job, c)
                                + " from the destination gave different content; the medium may be failing.");
            }
            if (m_root && ::fchown(out.get(), st.st_uid, st.st_gid) != 0)
                throwDest(errno, "Cannot set the owner of " + itemPath(job, c));
            if (::fchmod(out.get(), st.st_mode & 07777) != 0)
                throwDest(errno, "Cannot set the permissions of " + itemPath(job, c));
            if (m_xattrs) {
                try {
                    const Xattrs xa = readUserXattrs(in.get(), false);
                    if (!xa.empty() && !writeUserXattrs(out.get(), false, xa))
                        noXattrSupport();
                } catch (const SysError &e) {
                    warn(itemPath(job, c), "Cannot copy the extended attributes", std::abs(e.err));
                }
            }
            const struct timespec times[2] = {{0, UTIME_OMIT}, st.st_mtim};
            if (::futimens(out.get(), times) != 0)
                throwDest(errno, "Cannot set the modification time of " + itemPath(job, c));
            if (n.nlink > 1) {
                struct stat o;
                if (::fstat(out.get(), &o) == 0)
                    n.destIno = o.st_ino;
            }
            out.reset();
            const uint64_t removed = install(dstFd, tmp.name(), name);
            (async ? async->deleted : m_result.filesDeleted) += removed;
            tmp.disarm();
            break;
        }
        if (attempt == 0) {
            // Changed while copied: once more with what is there now.
            if (!S_ISREG(after.st_mode)) {
                warn(itemPath(job, c), "The file changed type while it was copied; the previous version was kept");
                n.flags |= FlagFailed;
                return false;
            }
            (async ? async->moreBytes : m_progress.bytesTotal) += uint64_t(after.st_size);
            st = after;
            continue;
        }
        warn(itemPath(job, c), "The file kept changing while it was copied; the previous version was kept");
        n.flags |= FlagFailed;
        return false;
    }
    // What the manifest records: the source as it was copied.
    n.size = uint64_t(st.st_size);
    n.mtimeNs = ns(st.st_mtim);
    n.ctimeNs = ns(st.st_ctim);
    n.mode = st.st_mode;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.flags |= FlagRewritten;
    if (!async)
        countCopied(n);
    return true;
}

void Engine::countCopied(const Node &n)
{
    if (m_writeback)
        m_writeback->wrote(n.size);
    ++m_result.filesCopied;
    ++m_progress.filesDone;
}

// Hands a small regular file's copy to the copy threads; false: copy it here and now. Hard-link
// members are always copied here, in walk order, since later members link to the first.
bool Engine::queueCopy(const std::shared_ptr<OpenDir> &dir, uint32_t c)
{
    const Node &n = dir->job->src.nodes[c];
    if (!m_copies || n.nlink > 1 || n.size > CopyOnThreadMaxBytes)
        return false;
    ++dir->copying;
    m_copies->push(CopyTask{dir, c, {}, false});
    return true;
}

void Engine::absorbCopies(std::vector<CopyTask> done)
{
    for (CopyTask &t : done) {
        Job &job = *t.dir->job;
        m_progress.bytesDone += t.tally.bytes;
        m_result.bytesCopied += t.tally.bytes;
        m_progress.bytesTotal += t.tally.moreBytes;
        m_result.filesDeleted += t.tally.deleted;
        if (t.copied)
            countCopied(job.src.nodes[t.index]);
        report(Phase::Copy, &job, t.index);
        if (--t.dir->copying == 0 && t.dir->walked)
            finishDir(*t.dir);
    }
}

void Engine::makeSpecial(Job &job, uint32_t c, int dstFd)
{
    Node &n = job.src.nodes[c];
    TempName tmp(dstFd, m_tmpCounter);
    int r = -1;
    for (int tries = 0; tries < 100; ++tries) {
        if (S_ISLNK(n.mode)) {
            const std::string target(job.src.symlinkTarget(n));
            r = ::symlinkat(target.c_str(), dstFd, tmp.name().c_str());
        } else {
            r = ::mknodat(dstFd, tmp.name().c_str(), S_IFIFO | 0600, 0);
        }
        if (r == 0 || errno != EEXIST)
            break;
        tmp.next(m_tmpCounter);
    }
    if (r != 0) {
        if (errno == ENOENT && S_ISLNK(n.mode)) {
            warn(itemPath(job, c), "Cannot copy a symbolic link with an empty target", ENOENT);
            n.flags |= FlagFailed;
            return;
        }
        throwDest(errno, "Cannot create " + itemPath(job, c) + " in the destination");
    }
    tmp.arm();
    if (m_root && ::fchownat(dstFd, tmp.name().c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) != 0)
        throwDest(errno, "Cannot set the owner of " + itemPath(job, c));
    if (!S_ISLNK(n.mode) && ::fchmodat(dstFd, tmp.name().c_str(), n.mode & 07777, 0) != 0)
        throwDest(errno, "Cannot set the permissions of " + itemPath(job, c));
    const struct timespec times[2] = {{0, UTIME_OMIT}, toTimespec(n.mtimeNs)};
    if (::utimensat(dstFd, tmp.name().c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        throwDest(errno, "Cannot set the modification time of " + itemPath(job, c));
    m_result.filesDeleted += install(dstFd, tmp.name(), job.src.name(n));
    tmp.disarm();
    ++m_result.itemsUpdated;
    ++m_progress.filesDone;
}

void Engine::linkToLeader(Job &job, uint32_t c, int dstFd)
{
    Node &n = job.src.nodes[c];
    auto it = job.leaders.find(linkKey(n));
    if (it == job.leaders.end() || it->second == c || (job.src.nodes[it->second].flags & FlagFailed)
        || job.src.nodes[it->second].ino != n.ino) {
        job.leaders[linkKey(n)] = c;
        return;
    }
    Node &l = job.src.nodes[it->second];
    UniqueFd parentHolder;
    int parentFd = dstFd;
    if (l.parent != n.parent) {
        if (l.parent == 0) {
            parentFd = job.dstRoot.get();
        } else {
            const std::string rel = job.src.path(l.parent);
            struct open_how how;
            std::memset(&how, 0, sizeof how);
            how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
            how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
            parentHolder.reset(int(::syscall(SYS_openat2, job.dstRoot.get(), rel.c_str(), &how, sizeof how)));
            if (!parentHolder)
                throwDest(errno, "Cannot find the destination of " + itemPath(job, it->second));
            parentFd = parentHolder.get();
        }
    }
    const std::string leaderName(job.src.name(l));
    if (l.destIno == 0) {
        struct stat st;
        if (::fstatat(parentFd, leaderName.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
            l.destIno = st.st_ino;
    }
    TempName tmp(dstFd, m_tmpCounter);
    int r = -1;
    for (int tries = 0; tries < 100; ++tries) {
        r = ::linkat(parentFd, leaderName.c_str(), dstFd, tmp.name().c_str(), 0);
        if (r == 0 || errno != EEXIST)
            break;
        tmp.next(m_tmpCounter);
    }
    if (r != 0) {
        if (errno == EMLINK) {
            // Too many links for the file system: this one becomes a copy and the leader of
            // the members after it.
            job.leaders[linkKey(n)] = c;
            return;
        }
        throwDest(errno, "Cannot make the hard link " + itemPath(job, c));
    }
    tmp.arm();
    m_result.filesDeleted += install(dstFd, tmp.name(), job.src.name(n));
    // rename() of two links to one inode does nothing: the temp name may still be there.
    ::unlinkat(dstFd, tmp.name().c_str(), 0);
    tmp.disarm();
    n.destIno = l.destIno;
    n.action = Action::Link; // done
    n.flags |= FlagRewritten;
    ++m_result.filesLinked;
    ++m_progress.filesDone;
}

void Engine::fixMeta(Job &job, uint32_t c, int srcFd, int dstFd)
{
    Node &n = job.src.nodes[c];
    const std::string name(job.src.name(n));
    if (n.action == Action::Metadata) {
        if (m_root && ::fchownat(dstFd, name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) != 0)
            throwDest(errno, "Cannot set the owner of " + itemPath(job, c));
        if (!S_ISLNK(n.mode) && ::fchmodat(dstFd, name.c_str(), n.mode & 07777, AT_SYMLINK_NOFOLLOW) != 0)
            throwDest(errno, "Cannot set the permissions of " + itemPath(job, c));
        if (!S_ISREG(n.mode)) {
            const struct timespec times[2] = {{0, UTIME_OMIT}, toTimespec(n.mtimeNs)};
            if (::utimensat(dstFd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
                throwDest(errno, "Cannot set the modification time of " + itemPath(job, c));
        }
        ++m_result.itemsUpdated;
        ++m_progress.filesDone;
    }
    if (m_xattrs && (n.flags & FlagCheckXattr) && S_ISREG(n.mode)) {
        // Through "/proc/self/fd/<dir>/<name>" with the l*xattr calls: one system call per side,
        // relative to the pinned directories, never following a symlink.
        try {
            const Xattrs want = readUserXattrsAt(srcFd, name);
            if (!writeUserXattrsAt(dstFd, name, want) && !want.empty())
                noXattrSupport();
        } catch (const SysError &e) {
            warn(itemPath(job, c), "Cannot copy the extended attributes", std::abs(e.err));
        }
    }
}

void Engine::syncDirXattrs(Job &job, uint32_t s, int srcFd, int dstFd)
{
    if (!m_xattrs)
        return;
    try {
        const Xattrs want = readUserXattrs(srcFd, false);
        if (!writeUserXattrs(dstFd, false, want) && !want.empty())
            noXattrSupport();
    } catch (const SysError &e) {
        warn(itemPath(job, s), "Cannot copy the extended attributes", std::abs(e.err));
    }
}

void Engine::setDirMeta(Job &job, uint32_t s, int srcFd, int dstFd)
{
    Node &n = job.src.nodes[s];
    if (m_root && ::fchown(dstFd, n.uid, n.gid) != 0)
        throwDest(errno, "Cannot set the owner of " + itemPath(job, s));
    syncDirXattrs(job, s, srcFd, dstFd);
    if (::fchmod(dstFd, n.mode & 07777) != 0)
        throwDest(errno, "Cannot set the permissions of " + itemPath(job, s));
    const struct timespec times[2] = {{0, UTIME_OMIT}, toTimespec(n.mtimeNs)};
    if (::futimens(dstFd, times) != 0)
        throwDest(errno, "Cannot set the modification time of " + itemPath(job, s));
}

void Engine::execFile(const std::shared_ptr<OpenDir> &dir, uint32_t c, int prevFd)
{
    Job &job = *dir->job;
    const int srcFd = dir->src, dstFd = dir->dst;
    Node &n = job.src.nodes[c];
    const bool isReg = S_ISREG(n.mode);
    const bool member = isReg && n.nlink > 1;
    if (member) {
        auto it = job.leaders.find(linkKey(n));
        const bool isLeader = it == job.leaders.end() || it->second == c;
        if (!isLeader) {
            const Node &l = job.src.nodes[it->second];
            if (n.action == Action::Link || (l.flags & (FlagRewritten | FlagFailed))) {
                linkToLeader(job, c, dstFd);
                if (n.action != Action::Create && (n.flags & FlagRewritten))
                    return;
                if (job.leaders[linkKey(n)] != c)
                    return;
                // The leader failed (or EMLINK): this member stands on its own.
                if (n.action == Action::Link)
                    n.action = n.match == NoNode ? Action::Create : Action::Update;
            } else {
                if (n.flags & FlagCheckXattr)
                    fixMeta(job, c, srcFd, dstFd);
                return;
            }
        }
    }
    switch (n.action) {
    case Action::None:
    case Action::Metadata:
        if (n.action == Action::Metadata || (n.flags & FlagCheckXattr))
            fixMeta(job, c, srcFd, dstFd);
        return;
    case Action::Create:
    case Action::Update:
    case Action::Link:
        if (isReg) {
            if (!queueCopy(dir, c))
                copyFile(job, c, srcFd, dstFd);
        } else
            makeSpecial(job, c, dstFd);
        return;
    case Action::Verify: {
        const std::string name(job.src.name(n));
        const int otherFd = m_opt.mode == Mode::Snapshot ? prevFd : dstFd;
        UniqueFd a(::openat(srcFd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        UniqueFd b(otherFd < 0 ? -1 : ::openat(otherFd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        bool same = false;
        if (a && b) {
            try {
                same = sameContent(a.get(), b.get(), n.size, [&] { checkCancel(); });
            } catch (const SysError &) {
                same = false;
            }
        }
        if (!same) {
            n.action = m_opt.mode == Mode::Snapshot ? Action::Create : Action::Update;
            copyFile(job, c, srcFd, dstFd);
            return;
        }
        if (m_opt.mode == Mode::Mirror) {
            if (n.flags & FlagMetaDirty)
                n.action = Action::Metadata;
            if (n.action == Action::Metadata || (n.flags & FlagCheckXattr))
                fixMeta(job, c, srcFd, dstFd);
            return;
        }
        n.action = Action::LinkPrev;
        [[fallthrough]];
    }
    case Action::LinkPrev: {
        const std::string name(job.src.name(n));
        bool linked = false;
        if (prevFd >= 0) {
            bool sameXattrs = true;
            if (m_xattrs && (n.flags & FlagCheckXattr)) {
                try {
                    sameXattrs = readUserXattrsAt(srcFd, name) == readUserXattrsAt(prevFd, name);
                } catch (const SysError &) {
                    sameXattrs = false;
                }
            }
            if (sameXattrs && ::linkat(prevFd, name.c_str(), dstFd, name.c_str(), 0) == 0)
                linked = true;
            else if (sameXattrs && errno != EMLINK && errno != ENOENT)
                throwDest(errno, "Cannot link " + itemPath(job, c) + " to the previous snapshot");
        }
        if (!linked) {
            n.action = Action::Create;
            copyFile(job, c, srcFd, dstFd);
            return;
        }
        if (member) {
            struct stat st;
            if (::fstatat(dstFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
                n.destIno = st.st_ino;
        }
        ++m_result.filesLinked;
        ++m_progress.filesDone;
        return;
    }
    }
}

void Engine::execEntry(const std::shared_ptr<OpenDir> &parent, uint32_t c, int prevFd)
{
    checkCancel();
    Job &job = *parent->job;
    const int srcFd = parent->src, dstFd = parent->dst;
    Node &n = job.src.nodes[c];
    if (!S_ISDIR(n.mode)) {
        if (n.action == Action::None && !(n.flags & FlagCheckXattr) && !(S_ISREG(n.mode) && n.nlink > 1))
            return;
        execFile(parent, c, prevFd);
        report(Phase::Copy, &job, c);
        return;
    }
    if (n.action == Action::None && !(n.flags & (FlagSubtreeDirty | FlagMetaDirty | FlagCheckXattr)))
        return;
    if (n.flags & FlagFailed)
        return; // unreadable at scan time: warned then; nothing below it is touched
    const std::string name(job.src.name(n));
    UniqueFd sfd(::openat(srcFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    struct stat st;
    if (!sfd || ::fstat(sfd.get(), &st) != 0 || st.st_ino != n.ino
        || st.st_dev != job.src.devices[n.dev]) {
        warn(itemPath(job, c), sfd ? "The directory was replaced during the sync and was skipped"
                                   : "Cannot open the directory", sfd ? 0 : errno);
        n.flags |= FlagFailed;
        return;
    }
    if (n.action == Action::Create) {
        if (::mkdirat(dstFd, name.c_str(), 0700) != 0) {
            const int err = errno;
            struct stat dst;
            if (err != EEXIST)
                throwDest(err, "Cannot create the directory " + itemPath(job, c));
            if (::fstatat(dstFd, name.c_str(), &dst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(dst.st_mode)) {
                uint64_t removed = 0;
                try {
                    removeTree(dstFd, name, removed);
                } catch (const SysError &e) {
                    throwDest(e.err, "Cannot replace " + itemPath(job, c));
                }
                if (::mkdirat(dstFd, name.c_str(), 0700) != 0)
                    throwDest(errno, "Cannot create the directory " + itemPath(job, c));
            }
        }
        ++m_result.itemsUpdated;
        ++m_progress.filesDone;
    }
    UniqueFd dfd(::openat(dstFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dfd)
        throwDest(errno, "Cannot open the directory " + itemPath(job, c) + " in the destination");
    if (!m_root && n.action != Action::Create) {
        struct stat dst;
        if (::fstat(dfd.get(), &dst) == 0 && (dst.st_mode & 0300) != 0300) {
            ::fchmod(dfd.get(), (dst.st_mode & 07777) | 0700);
            n.flags |= FlagMetaDirty;
        }
    }
    UniqueFd pfd;
    if (prevFd >= 0 && n.match != NoNode)
        pfd.reset(::openat(prevFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    auto dir = std::make_shared<OpenDir>();
    dir->job = &job;
    dir->index = c;
    dir->src = sfd.get();
    dir->dst = dfd.get();
    dir->ownSrc = std::move(sfd);
    dir->ownDst = std::move(dfd);
    execDir(dir, pfd.get());
    dir->walked = true;
    if (dir->copying == 0)
        finishDir(*dir);
}

// A directory's own metadata, once everything inside it is in place.
void Engine::finishDir(OpenDir &dir)
{
    Job &job = *dir.job;
    Node &n = job.src.nodes[dir.index];
    if (n.action == Action::Create || n.action == Action::Metadata || (n.flags & FlagMetaDirty))
        setDirMeta(job, dir.index, dir.src, dir.dst);
    else if (n.flags & FlagCheckXattr)
        syncDirXattrs(job, dir.index, dir.src, dir.dst);
    if (n.action == Action::Metadata && dir.index != 0) { // a source's root is not an item
        ++m_result.itemsUpdated;
        ++m_progress.filesDone;
    }
    struct stat after;
    if (::fstat(dir.dst, &after) == 0) {
        n.destIno = after.st_ino;
        n.destCtimeNs = ns(after.st_ctim);
    }
}

void Engine::execDir(const std::shared_ptr<OpenDir> &open, int prevFd)
{
    Job &job = *open->job;
    const int dstFd = open->dst;
    Node &dir = job.src.nodes[open->index];
    if (m_opt.mode == Mode::Mirror && dir.match != NoNode && job.haveDst) {
        const Node &d = job.dst.nodes[dir.match];
        for (uint32_t k = d.firstChild; k < d.firstChild + d.childCount; ++k) {
            if (!(job.dst.nodes[k].flags & FlagDelete))
                continue;
            checkCancel();
            uint64_t removed = 0;
            const std::string name(job.dst.name(job.dst.nodes[k]));
            try {
                removeTree(dstFd, name, removed);
            } catch (const SysError &e) {
                throwDest(e.err, "Cannot remove \"" + name + "\" from the destination");
            }
            m_result.filesDeleted += removed;
        }
    }
    for (uint32_t c = dir.firstChild; c < dir.firstChild + dir.childCount; ++c) {
        execEntry(open, c, prevFd);
        if (m_copies)
            absorbCopies(m_copies->collect());
    }
}

// ---------------------------------------------------------------------------------------------
// The run

std::string utcName()
{
    const std::time_t now = std::time(nullptr);
    struct tm tm;
    ::gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H%M%SZ", &tm);
    return buf;
}

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

Result Engine::run()
{
    // Options.
    if (m_opt.sources.empty())
        throw Error(ErrorCode::InvalidArgument, "Give at least one source directory.");
    if (m_opt.destination.empty())
        throw Error(ErrorCode::InvalidArgument, "Give a destination directory.");
    for (size_t i = 0; i < m_opt.sources.size(); ++i) {
        const Source &s = m_opt.sources[i];
        if (!validName(s.name))
            throw Error(ErrorCode::InvalidArgument, "The source name \"" + s.name
                        + "\" is not usable: it must be one path component (no '/', not \".\" or \"..\").");
        if (s.path.empty())
            throw Error(ErrorCode::InvalidArgument, "A source path is empty.");
        for (size_t j = 0; j < i; ++j)
            if (m_opt.sources[j].name == s.name)
                throw Error(ErrorCode::InvalidArgument, "Two sources have the same name \"" + s.name + "\".");
    }
    m_result.dryRun = m_opt.dryRun;
    m_xattrs = m_opt.xattrs;
    const bool mirror = m_opt.mode == Mode::Mirror;

    // The destination and our own area in it.
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
        UniqueFd coffer = makeDirAt(m_dest.get(), ".coffer", 0700, "the destination's .coffer directory");
        m_meta = makeDirAt(coffer.get(), "sync", 0700, "the destination's .coffer/sync directory");
        // One run per destination: a second one would race on the same temp files and manifest.
        if (::flock(m_meta.get(), LOCK_EX | LOCK_NB) != 0)
            throw Error(ErrorCode::Busy, "Another sync is writing to " + m_opt.destination + " right now.",
                        errno);
        m_area = makeDirAt(m_dest.get(), areaName, 0755, "the destination's " + areaName + " directory");
    } else {
        UniqueFd coffer = openDirAt(m_dest.get(), ".coffer");
        if (coffer)
            m_meta = openDirAt(coffer.get(), "sync");
        m_area = openDirAt(m_dest.get(), areaName);
    }
    if (!mirror && m_area) {
        std::vector<std::string> names;
        try {
            names = readDirNames(m_area.get());
        } catch (const SysError &e) {
            throwDest(e.err, "Cannot list the snapshots");
        }
        std::sort(names.begin(), names.end());
        for (const std::string &n : names) {
            if (isSnapshotName(n)) {
                m_snapshots.push_back(n);
            } else if (!m_opt.dryRun && n.size() > 8 && n.compare(n.size() - 8, 8, ".partial") == 0
                       && isSnapshotName(std::string_view(n).substr(0, n.size() - 8))) {
                uint64_t removed = 0;
                try {
                    removeTree(m_area.get(), n, removed); // an interrupted run's leftovers
                } catch (const SysError &e) {
                    throwDest(e.err, "Cannot remove the incomplete snapshot " + n);
                }
            }
        }
        if (!m_snapshots.empty())
            m_prevSnapshot = m_snapshots.back();
        m_snapshot = utcName();
        for (int k = 2; std::find(m_snapshots.begin(), m_snapshots.end(), m_snapshot) != m_snapshots.end()
             || (!m_prevSnapshot.empty() && m_snapshot <= m_prevSnapshot); ++k)
            m_snapshot = utcName() + "-" + std::to_string(k);
        m_partialName = m_snapshot + ".partial";
    }

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
    report(Phase::Scan, nullptr, NoNode, true);
    for (Job &job : m_jobs) {
        scanTree(job, job.src, job.srcRoot.get(), true);
        const int dstRoot = mirror ? job.dstRoot.get() : job.prevRoot.get();
        if (dstRoot >= 0) {
            job.haveDst = true;
            job.fromManifest = loadManifest(job);
            if (!job.fromManifest)
                scanTree(job, job.dst, dstRoot, false);
        }
        m_result.filesScanned += job.src.nodes.size() - 1;
    }
    m_result.usedManifest = !m_jobs.empty()
        && std::all_of(m_jobs.begin(), m_jobs.end(), [](const Job &j) { return j.fromManifest; });

    // Plan.
    m_progress.filesDone = 0;
    for (Job &job : m_jobs) {
        Node &root = job.src.nodes[0];
        std::string rel;
        if (job.haveDst) {
            root.match = 0;
            root.destIno = job.dst.nodes[0].destIno;
            root.destCtimeNs = job.dst.nodes[0].destCtimeNs;
            planDir(job, 0, 0, rel);
            const Node &o = job.dst.nodes[0];
            if (!mirror)
                root.action = Action::Create;
            else if (!sameMeta(root, o) || root.mtimeNs != o.mtimeNs)
                root.action = Action::Metadata;
            if (root.action != Action::None)
                root.flags |= FlagMetaDirty;
            if (m_xattrs && !job.fromManifest)
                root.flags |= FlagCheckXattr;
        } else {
            root.action = Action::Create;
            root.flags |= FlagSubtreeDirty | FlagMetaDirty;
            for (uint32_t i = root.firstChild; i < root.firstChild + root.childCount; ++i)
                planNew(job, i);
        }
        // The manifest only needs rewriting if something differs from what it says.
        job.manifestChanged = !job.fromManifest || (root.flags & (FlagSubtreeDirty | FlagMetaDirty | FlagCheckXattr))
            || root.action != Action::None;
        // A durable run makes an unflushed run's results durable too, and says so in the manifest.
        if (m_opt.durable && job.manifestUnflushed)
            job.manifestChanged = true;
        if (!job.manifestChanged) {
            for (uint32_t i = 1; i < job.src.nodes.size() && !job.manifestChanged; ++i) {
                const Node &n = job.src.nodes[i];
                const Node &o = job.dst.nodes[n.match == NoNode ? 0 : n.match];
                job.manifestChanged = n.match == NoNode || n.ctimeNs != o.ctimeNs || n.ino != o.ino;
            }
        }
    }
    struct statvfs vfs;
    if (::fstatvfs(m_dest.get(), &vfs) == 0)
        m_result.plan.bytesFree = uint64_t(vfs.f_bavail) * vfs.f_frsize;
    {
        const uint64_t block = 4096;
        const uint64_t needed = m_result.plan.bytesToWrite
            + (m_result.plan.added + m_result.plan.updated) * block;
        m_result.plan.fits = needed <= m_result.plan.bytesFree + m_result.plan.bytesToDelete;
    }
    if (m_opt.dryRun) {
        m_result.outcome = m_partial ? Outcome::Partial : Outcome::Complete;
        report(Phase::Done, nullptr, NoNode, true);
        return std::move(m_result);
    }

    // Execute.
    bool wrote = false;
    UniqueFd snapDir;
    try {
        if (!mirror)
            snapDir = makeDirAt(m_area.get(), m_partialName, 0755, "the new snapshot");
        if (m_opt.durable)
            m_writeback = std::make_unique<EarlyWriteback>(m_dest.get());
        m_progress.filesDone = 0;
        m_progress.bytesDone = 0;
        if (cpuThreads() > 1)
            m_copies = std::make_unique<WorkQueue<CopyTask>>(cpuThreads() - 1, CopyQueueLength, [this](CopyTask &t) {
                t.copied = copyFile(*t.dir->job, t.index, t.dir->src, t.dir->dst, &t.tally);
            });
        report(Phase::Copy, nullptr, NoNode, true);
        for (Job &job : m_jobs) {
            Node &root = job.src.nodes[0];
            const bool dirty = root.action != Action::None
                || (root.flags & (FlagSubtreeDirty | FlagMetaDirty | FlagCheckXattr));
            if (!dirty && !(mirror && !job.dstRoot))
                continue;
            wrote = true;
            if (job.manifestChanged)
                ::unlinkat(m_meta.get(), manifestName(job).c_str(), 0);
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
            if (!m_root) {
                struct stat dst;
                if (::fstat(job.dstRoot.get(), &dst) == 0 && (dst.st_mode & 0300) != 0300) {
                    ::fchmod(job.dstRoot.get(), (dst.st_mode & 07777) | 0700);
                    root.flags |= FlagMetaDirty;
                }
            }
            auto rootDir = std::make_shared<OpenDir>();
            rootDir->job = &job;
            rootDir->src = job.srcRoot.get();
            rootDir->dst = job.dstRoot.get();
            execDir(rootDir, job.prevRoot.get());
            if (m_copies)
                absorbCopies(m_copies->drain());
            rootDir->walked = true;
            finishDir(*rootDir);
        }
        m_copies.reset();
    } catch (const Cancelled &) {
        m_copies.reset(); // its threads stopped before anything is cleaned up
        if (snapDir) {
            snapDir.reset();
            uint64_t removed = 0;
            try {
                removeTree(m_area.get(), m_partialName, removed);
            } catch (const SysError &) {
            }
        }
        m_result.outcome = Outcome::Cancelled;
        report(Phase::Done, nullptr, NoNode, true);
        return std::move(m_result);
    } catch (const Error &e) {
        m_copies.reset();
        if (snapDir && e.code() == ErrorCode::NoSpace) {
            snapDir.reset();
            uint64_t removed = 0;
            try {
                removeTree(m_area.get(), m_partialName, removed);
            } catch (const SysError &) {
            }
        }
        throw;
    }

    // Flush: one syncfs for everything written, then the directories we own.
    m_writeback.reset();
    report(Phase::Flush, nullptr, NoNode, true);
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
        m_result.snapshot = m_snapshot;
    }
    m_result.durable = m_opt.durable || !wrote;

    // The manifests: only after a complete run (a partial one leaves the destination to be
    // compared on both sides next time, which is always right).
    if (!m_partial) {
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
            h.optionsHash = optionsHash();
            h.rootDev = st.st_dev;
            h.rootIno = st.st_ino;
            if (!m_opt.durable)
                h.unflushedBootId = currentBootId();
            writeManifest(m_meta.get(), manifestName(job), h, job.src);
            any = true;
        }
        if (any && m_opt.durable)
            ::fsync(m_meta.get());
    }

    // Retention.
    if (!mirror) {
        std::vector<std::string> all = m_snapshots;
        all.push_back(m_snapshot);
        const std::vector<std::string> doomed = snapshotsToRemove(all, m_opt.retention);
        m_progress.filesDone = 0;
        m_progress.filesTotal = doomed.size();
        for (const std::string &name : doomed) {
            if (name == m_snapshot)
                continue;
            report(Phase::Delete, nullptr, NoNode, true);
            uint64_t removed = 0;
            try {
                removeTree(m_area.get(), name, removed);
            } catch (const SysError &e) {
                throwDest(e.err, "Cannot remove the old snapshot " + name);
            }
            m_result.snapshotsRemoved.push_back(name);
            ++m_progress.filesDone;
        }
    }

    m_result.outcome = m_partial ? Outcome::Partial : Outcome::Complete;
    report(Phase::Done, nullptr, NoNode, true);
    return std::move(m_result);
}

} // namespace

Result run(const Options &options, const ProgressCallback &progress, const std::atomic<bool> *cancel)
{
    Engine engine(options, progress, cancel);
    return engine.run();
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
