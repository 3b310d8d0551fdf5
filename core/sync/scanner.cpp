#include "sync/scanner.h"

#include "error.h"
#include "sync/fsops.h"
#include "sync/workqueue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

// Every directory is listed (getdents64, then fstatat and readlinkat relative to its own pinned
// fd) by whichever scan thread is free, and merged into the tree under one lock: a directory's
// children stay contiguous and sorted by name, only the order of the directories' child blocks
// in the table may differ from a one-thread walk. Most of a scan is the kernel's path lookup
// per entry, so two CPUs scan nearly twice as fast as one.

namespace Coffer::Sync {

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

Scanner::Scanner(RunContext &run, dev_t destDev, ino_t destIno)
    : m_run(run)
    , m_destDev(destDev)
    , m_destIno(destIno)
{
}

void Scanner::scanTree(Job &job, Tree &tree, int rootFd, bool isSource)
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

void Scanner::scanWorker(ScanState &state, bool reports)
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

void Scanner::scanOne(ScanState &state, ScanTask &task, bool reports)
{
    m_run.checkCancel();
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
                m_run.warn(itemPath(state.job, task.index),
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
        m_run.warn(std::move(path), p.message, p.err, p.partial);
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
        m_run.progress.filesDone += listing.entries.size();
        if (reports)
            m_run.report(Phase::Scan, &state.job, tree.nodes.size() - 1);
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

Listing Scanner::listDir(int dirFd, const std::string &rel, bool isSource) const
{
    Listing out;
    std::vector<std::string> names;
    try {
        names = readDirNames(dirFd, isSource ? Side::Source : Side::Destination);
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
            m_run.checkCancel();
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
            if (!m_run.excludes.empty()) {
                path.resize(rel.size());
                if (!path.empty())
                    path += '/';
                path += name;
                if (m_run.excludes.excluded(path, type == S_IFDIR))
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

bool Scanner::validateDirs(int rootFd, const Tree &t, uint32_t dir, std::string &rel)
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
        if (::fstatat(rootFd, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)
            || st.st_ino != c.destIno || ns(st.st_ctim) != c.destCtimeNs)
            return false;
        if (!validateDirs(rootFd, t, i, rel))
            return false;
        rel.resize(keep);
    }
    return true;
}

bool Scanner::loadManifest(Job &job, int metaFd, const std::string &prevSnapshot)
{
    if (metaFd < 0)
        return false;
    const bool mirror = m_run.options.mode == Mode::Mirror;
    const int rootFd = mirror ? job.dstRoot.get() : job.prevRoot.get();
    if (rootFd < 0)
        return false;
    ManifestHeader h;
    if (!readManifest(metaFd, m_run.manifestName(job), h, job.dst))
        return false;
    struct stat st;
    bool ok = h.sourceName == job.source.name && h.optionsHash == m_run.optionsHash()
        && ::fstat(rootFd, &st) == 0 && h.rootDev == st.st_dev && h.rootIno == st.st_ino
        && job.dst.nodes[0].destCtimeNs == ns(st.st_ctim)
        && (mirror || h.snapshot == prevSnapshot)
        && (h.unflushedBootId.empty() || h.unflushedBootId == currentBootId());
    if (ok) {
        std::string rel;
        ok = validateDirs(rootFd, job.dst, 0, rel);
    }
    job.manifestUnflushed = ok && !h.unflushedBootId.empty();
    if (!ok || !m_run.options.useManifest) {
        // useManifest == false: compare both sides (a new manifest is still written).
        job.dst = Tree();
        return false;
    }
    return true;
}

} // namespace Coffer::Sync
