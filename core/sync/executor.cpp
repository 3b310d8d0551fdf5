#include "sync/executor.h"

#include "error.h"
#include "sync/fsops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace Coffer::Sync {

namespace {

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

// With copy threads (more than one CPU), small regular files are copied on them while the main
// thread walks on: the per-file work of a sync is system calls (create, write, rename), which two
// CPUs do nearly twice as fast as one. Only the main thread touches the run's counters, reports
// progress and sets a directory's own metadata, the last only once every file copied into the
// directory is in place (a rename into it changes its mtime and ctime).
constexpr uint64_t CopyOnThreadMaxBytes = 1 << 20;
constexpr size_t CopyQueueLength = 64;

} // namespace

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

Executor::Executor(RunContext &run, int destFd)
    : m_run(run)
    , m_xattrs(run.options.xattrs)
{
    if (run.options.durable)
        m_writeback = std::make_unique<EarlyWriteback>(destFd);
    if (cpuThreads() > 1)
        m_copies = std::make_unique<WorkQueue<CopyTask>>(cpuThreads() - 1, CopyQueueLength, [this](CopyTask &t) {
            t.copied = copyFile(*t.dir->job, t.index, t.dir->src, t.dir->dst, &t.tally);
        });
}

Executor::~Executor() = default; // m_copies (declared last) stops first

void Executor::execute(Job &job)
{
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

void Executor::noXattrSupport()
{
    if (m_xattrs.exchange(false))
        m_run.warn({}, "The destination does not support extended attributes; they are not copied", 0, false);
}

// Returns the number of destination entries removed to make room.
uint64_t Executor::install(int dstFd, const std::string &tmp, std::string_view name)
{
    const std::string n(name);
    if (!isEntryName(n))
        throwDest(EINVAL, "Cannot move \"" + n + "\" into place in the destination");
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
bool Executor::copyFile(Job &job, uint32_t c, int srcFd, int dstFd, Tally *async)
{
    Node &n = job.src.nodes[c];
    const std::string name(job.src.name(n));
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    UniqueFd in(::openat(srcFd, name.c_str(), flags | O_NOATIME));
    if (!in && errno == EPERM)
        in.reset(::openat(srcFd, name.c_str(), flags));
    if (!in) {
        const int err = errno;
        m_run.warn(itemPath(job, c), err == ENOENT ? "The file vanished before it was copied"
                                             : "Cannot open the file", err);
        n.flags |= FlagFailed;
        return false;
    }
    struct stat st;
    if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != n.ino
        || st.st_dev != job.src.devices[n.dev]) {
        m_run.warn(itemPath(job, c), "The file was replaced during the sync and was not copied");
        n.flags |= FlagFailed;
        return false;
    }
    for (int attempt = 0;; ++attempt) {
        TempName tmp(dstFd, m_tmpCounter);
        UniqueFd out;
        for (int tries = 0; tries < 100; ++tries) {
            out.reset(::openat(dstFd, tmp.name().c_str(),
                               (m_run.options.checksum ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
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
                                    m_run.checkCancel();
                                    if (async) {
                                        async->bytes += bytes;
                                        if (m_copies && m_copies->stopping())
                                            throw Cancelled{};
                                        return;
                                    }
                                    m_run.progress.bytesDone += bytes;
                                    m_run.result.bytesCopied += bytes;
                                    m_run.report(Phase::Copy, &job, c);
                                });
            if (!cfr)
                m_cfr = false;
        } catch (const SysError &e) {
            if (e.side == Side::Source) {
                m_run.warn(itemPath(job, c), "Cannot read the file", e.err);
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
            if (m_run.options.checksum) {
                bool same = false;
                try {
                    same = sameContent(in.get(), out.get(), uint64_t(st.st_size),
                                       [&] { m_run.checkCancel(); });
                } catch (const SysError &e) {
                    throwDest(e.err, "Cannot read back " + itemPath(job, c));
                }
                if (!same)
                    throw Error(ErrorCode::Failed, "Reading back " + itemPath(job, c)
                                + " from the destination gave different content; the medium may be failing.");
            }
            if (m_run.root && ::fchown(out.get(), st.st_uid, st.st_gid) != 0)
                throwDest(errno, "Cannot set the owner of " + itemPath(job, c));
            if (::fchmod(out.get(), st.st_mode & 07777) != 0)
                throwDest(errno, "Cannot set the permissions of " + itemPath(job, c));
            if (m_xattrs) {
                try {
                    const Xattrs xa = readUserXattrs(in.get(), false, Side::Source);
                    if (!xa.empty() && !writeUserXattrs(out.get(), false, xa))
                        noXattrSupport();
                } catch (const SysError &e) {
                    m_run.warn(itemPath(job, c), "Cannot copy the extended attributes", e.err);
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
            (async ? async->deleted : m_run.result.filesDeleted) += removed;
            tmp.disarm();
            break;
        }
        if (attempt == 0) {
            // Changed while copied: once more with what is there now.
            if (!S_ISREG(after.st_mode)) {
                m_run.warn(itemPath(job, c), "The file changed type while it was copied; the previous version was kept");
                n.flags |= FlagFailed;
                return false;
            }
            (async ? async->moreBytes : m_run.progress.bytesTotal) += uint64_t(after.st_size);
            st = after;
            continue;
        }
        m_run.warn(itemPath(job, c), "The file kept changing while it was copied; the previous version was kept");
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

void Executor::countCopied(const Node &n)
{
    if (m_writeback)
        m_writeback->wrote(n.size);
    ++m_run.result.filesCopied;
    ++m_run.progress.filesDone;
}

// Hands a small regular file's copy to the copy threads; false: copy it here and now. Hard-link
// members are always copied here, in walk order, since later members link to the first.
bool Executor::queueCopy(const std::shared_ptr<OpenDir> &dir, uint32_t c)
{
    const Node &n = dir->job->src.nodes[c];
    if (!m_copies || n.nlink > 1 || n.size > CopyOnThreadMaxBytes)
        return false;
    ++dir->copying;
    m_copies->push(CopyTask{dir, c, {}, false});
    return true;
}

void Executor::absorbCopies(std::vector<CopyTask> done)
{
    for (CopyTask &t : done) {
        Job &job = *t.dir->job;
        m_run.progress.bytesDone += t.tally.bytes;
        m_run.result.bytesCopied += t.tally.bytes;
        m_run.progress.bytesTotal += t.tally.moreBytes;
        m_run.result.filesDeleted += t.tally.deleted;
        if (t.copied)
            countCopied(job.src.nodes[t.index]);
        m_run.report(Phase::Copy, &job, t.index);
        if (--t.dir->copying == 0 && t.dir->walked)
            finishDir(*t.dir);
    }
}

void Executor::makeSpecial(Job &job, uint32_t c, int dstFd)
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
            m_run.warn(itemPath(job, c), "Cannot copy a symbolic link with an empty target", ENOENT);
            n.flags |= FlagFailed;
            return;
        }
        throwDest(errno, "Cannot create " + itemPath(job, c) + " in the destination");
    }
    tmp.arm();
    if (m_run.root && ::fchownat(dstFd, tmp.name().c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) != 0)
        throwDest(errno, "Cannot set the owner of " + itemPath(job, c));
    if (!S_ISLNK(n.mode) && ::fchmodat(dstFd, tmp.name().c_str(), n.mode & 07777, 0) != 0)
        throwDest(errno, "Cannot set the permissions of " + itemPath(job, c));
    const struct timespec times[2] = {{0, UTIME_OMIT}, toTimespec(n.mtimeNs)};
    if (::utimensat(dstFd, tmp.name().c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        throwDest(errno, "Cannot set the modification time of " + itemPath(job, c));
    m_run.result.filesDeleted += install(dstFd, tmp.name(), job.src.name(n));
    tmp.disarm();
    ++m_run.result.itemsUpdated;
    ++m_run.progress.filesDone;
}

void Executor::linkToLeader(Job &job, uint32_t c, int dstFd)
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
            parentHolder = openBeneath(job.dstRoot.get(), rel, O_PATH | O_DIRECTORY);
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
    m_run.result.filesDeleted += install(dstFd, tmp.name(), job.src.name(n));
    // rename() of two links to one inode does nothing: the temp name may still be there.
    ::unlinkat(dstFd, tmp.name().c_str(), 0);
    tmp.disarm();
    n.destIno = l.destIno;
    n.action = Action::Link; // done
    n.flags |= FlagRewritten;
    ++m_run.result.filesLinked;
    ++m_run.progress.filesDone;
}

void Executor::fixMeta(Job &job, uint32_t c, int srcFd, int dstFd)
{
    Node &n = job.src.nodes[c];
    const std::string name(job.src.name(n));
    if (n.action == Action::Metadata) {
        if (m_run.root && ::fchownat(dstFd, name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) != 0)
            throwDest(errno, "Cannot set the owner of " + itemPath(job, c));
        if (!S_ISLNK(n.mode) && ::fchmodat(dstFd, name.c_str(), n.mode & 07777, AT_SYMLINK_NOFOLLOW) != 0)
            throwDest(errno, "Cannot set the permissions of " + itemPath(job, c));
        if (!S_ISREG(n.mode)) {
            const struct timespec times[2] = {{0, UTIME_OMIT}, toTimespec(n.mtimeNs)};
            if (::utimensat(dstFd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
                throwDest(errno, "Cannot set the modification time of " + itemPath(job, c));
        }
        ++m_run.result.itemsUpdated;
        ++m_run.progress.filesDone;
    }
    if (m_xattrs && (n.flags & FlagCheckXattr) && S_ISREG(n.mode)) {
        // Through "/proc/self/fd/<dir>/<name>" with the l*xattr calls: one system call per side,
        // relative to the pinned directories, never following a symlink.
        try {
            const Xattrs want = readUserXattrsAt(srcFd, name, Side::Source);
            if (!writeUserXattrsAt(dstFd, name, want) && !want.empty())
                noXattrSupport();
        } catch (const SysError &e) {
            m_run.warn(itemPath(job, c), "Cannot copy the extended attributes", e.err);
        }
    }
}

void Executor::syncDirXattrs(Job &job, uint32_t s, int srcFd, int dstFd)
{
    if (!m_xattrs)
        return;
    try {
        const Xattrs want = readUserXattrs(srcFd, false, Side::Source);
        if (!writeUserXattrs(dstFd, false, want) && !want.empty())
            noXattrSupport();
    } catch (const SysError &e) {
        m_run.warn(itemPath(job, s), "Cannot copy the extended attributes", e.err);
    }
}

void Executor::setDirMeta(Job &job, uint32_t s, int srcFd, int dstFd)
{
    Node &n = job.src.nodes[s];
    if (m_run.root && ::fchown(dstFd, n.uid, n.gid) != 0)
        throwDest(errno, "Cannot set the owner of " + itemPath(job, s));
    syncDirXattrs(job, s, srcFd, dstFd);
    if (::fchmod(dstFd, n.mode & 07777) != 0)
        throwDest(errno, "Cannot set the permissions of " + itemPath(job, s));
    const struct timespec times[2] = {{0, UTIME_OMIT}, toTimespec(n.mtimeNs)};
    if (::futimens(dstFd, times) != 0)
        throwDest(errno, "Cannot set the modification time of " + itemPath(job, s));
}

void Executor::execFile(const std::shared_ptr<OpenDir> &dir, uint32_t c, int prevFd)
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
        const int otherFd = m_run.options.mode == Mode::Snapshot ? prevFd : dstFd;
        UniqueFd a(::openat(srcFd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        UniqueFd b(otherFd < 0 ? -1 : ::openat(otherFd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        bool same = false;
        if (a && b) {
            try {
                same = sameContent(a.get(), b.get(), n.size, [&] { m_run.checkCancel(); });
            } catch (const SysError &) {
                same = false;
            }
        }
        if (!same) {
            n.action = m_run.options.mode == Mode::Snapshot ? Action::Create : Action::Update;
            copyFile(job, c, srcFd, dstFd);
            return;
        }
        if (m_run.options.mode == Mode::Mirror) {
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
                    sameXattrs = readUserXattrsAt(srcFd, name, Side::Source)
                        == readUserXattrsAt(prevFd, name, Side::Destination);
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
        ++m_run.result.filesLinked;
        ++m_run.progress.filesDone;
        return;
    }
    }
}

void Executor::execEntry(const std::shared_ptr<OpenDir> &parent, uint32_t c, int prevFd)
{
    m_run.checkCancel();
    Job &job = *parent->job;
    const int srcFd = parent->src, dstFd = parent->dst;
    Node &n = job.src.nodes[c];
    if (!S_ISDIR(n.mode)) {
        if (n.action == Action::None && !(n.flags & FlagCheckXattr) && !(S_ISREG(n.mode) && n.nlink > 1))
            return;
        execFile(parent, c, prevFd);
        m_run.report(Phase::Copy, &job, c);
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
        m_run.warn(itemPath(job, c), sfd ? "The directory was replaced during the sync and was skipped"
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
        ++m_run.result.itemsUpdated;
        ++m_run.progress.filesDone;
    }
    UniqueFd dfd(::openat(dstFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dfd)
        throwDest(errno, "Cannot open the directory " + itemPath(job, c) + " in the destination");
    if (!m_run.root && n.action != Action::Create) {
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
void Executor::finishDir(OpenDir &dir)
{
    Job &job = *dir.job;
    Node &n = job.src.nodes[dir.index];
    if (n.action == Action::Create || n.action == Action::Metadata || (n.flags & FlagMetaDirty))
        setDirMeta(job, dir.index, dir.src, dir.dst);
    else if (n.flags & FlagCheckXattr)
        syncDirXattrs(job, dir.index, dir.src, dir.dst);
    if (n.action == Action::Metadata && dir.index != 0) { // a source's root is not an item
        ++m_run.result.itemsUpdated;
        ++m_run.progress.filesDone;
    }
    struct stat after;
    if (::fstat(dir.dst, &after) == 0) {
        n.destIno = after.st_ino;
        n.destCtimeNs = ns(after.st_ctim);
    }
}

void Executor::execDir(const std::shared_ptr<OpenDir> &open, int prevFd)
{
    Job &job = *open->job;
    const int dstFd = open->dst;
    Node &dir = job.src.nodes[open->index];
    if (m_run.options.mode == Mode::Mirror && dir.match != NoNode && job.haveDst) {
        const Node &d = job.dst.nodes[dir.match];
        for (uint32_t k = d.firstChild; k < d.firstChild + d.childCount; ++k) {
            if (!(job.dst.nodes[k].flags & FlagDelete))
                continue;
            m_run.checkCancel();
            uint64_t removed = 0;
            const std::string name(job.dst.name(job.dst.nodes[k]));
            try {
                removeTree(dstFd, name, removed);
            } catch (const SysError &e) {
                throwDest(e.err, "Cannot remove \"" + name + "\" from the destination");
            }
            m_run.result.filesDeleted += removed;
        }
    }
    for (uint32_t c = dir.firstChild; c < dir.firstChild + dir.childCount; ++c) {
        execEntry(open, c, prevFd);
        if (m_copies)
            absorbCopies(m_copies->collect());
    }
}

} // namespace Coffer::Sync
