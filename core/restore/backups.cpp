#include "restore/backups.h"

#include "block/uniquefd.h"
#include "error.h"
#include "paths.h"
#include "sync/exclude.h"
#include "sync/fsops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace Coffer::Restore {

namespace {

// Deeper trees are not walked further (each level holds two descriptors).
constexpr int maxDepth = 256;

UniqueFd openDirectoryAt(int dirFd, const std::string &name)
{
    return UniqueFd(::openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

char typeOf(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return 'f';
    case S_IFDIR: return 'd';
    case S_IFLNK: return 'l';
    case S_IFIFO: return 'p';
    default: return '?';
    }
}

int64_t nanoseconds(const struct timespec &ts)
{
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string linkTarget(int dirFd, const std::string &name)
{
    char buf[4096];
    const ssize_t n = ::readlinkat(dirFd, name.c_str(), buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, size_t(n));
}

struct Side
{
    int dir = -1;              // the directory holding the entry; -1: no such side
    std::optional<struct stat> st;
};

class Walker
{
public:
    Walker(Tree &tree, const std::vector<std::string> &excludes, const std::atomic<bool> *cancel)
        : m_tree(tree)
        , m_rules(excludes)
        , m_cancel(cancel)
    {
    }

    // One entry (name in the two parent directories) and, for directories, what it holds.
    // rel: the path below the source's root ("" for the root itself).
    void visit(const Side &backup, const Side &live, const std::string &name, const std::string &path,
               const std::string &rel, bool compared, int depth)
    {
        if (m_cancel && m_cancel->load())
            throw Error(ErrorCode::Cancelled, "Reading the backup was cancelled.");
        const bool inBackup = backup.st.has_value();
        const bool inLive = live.st.has_value();
        const struct stat &st = inBackup ? *backup.st : *live.st;
        Entry e;
        e.path = path;
        e.type = typeOf(st.st_mode);
        e.size = S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ? uint64_t(st.st_size) : 0;
        e.mtimeNs = nanoseconds(st.st_mtim);
        e.mode = st.st_mode & 07777;
        if (!compared)
            e.change = Change::NotCompared;
        else if (!inLive)
            e.change = Change::Deleted;
        else if (!inBackup)
            e.change = Change::Added;
        else
            e.change = differ(backup, *backup.st, live, *live.st, name) ? Change::Changed : Change::Unchanged;
        count(e.change);
        m_tree.entries.push_back(std::move(e));

        const bool backupDir = inBackup && S_ISDIR(backup.st->st_mode);
        const bool liveDir = inLive && S_ISDIR(live.st->st_mode);
        if (!backupDir && !liveDir)
            return;
        if (depth >= maxDepth) {
            m_tree.problems.push_back(path + ": too deep, not read further");
            return;
        }
        UniqueFd b = backupDir ? open(backup.dir, name, path) : UniqueFd();
        UniqueFd l = liveDir ? open(live.dir, name, path) : UniqueFd();
        std::vector<std::string> names = namesIn(b, path);
        if (l) {
            for (std::string &n : namesIn(l, path))
                names.push_back(std::move(n));
        }
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        for (const std::string &child : names) {
            const std::string childRel = rel.empty() ? child : rel + '/' + child;
            Side cb{b.get(), b ? statAt(b.get(), child) : std::nullopt};
            Side cl{l.get(), l ? statAt(l.get(), child) : std::nullopt};
            // Left out of every backup: not "added" (an excluded entry that is in the backup, from
            // before the pattern, is compared like any other).
            if (!cb.st && cl.st && m_rules.excluded(childRel, S_ISDIR(cl.st->st_mode)))
                cl.st.reset();
            if (!cb.st && !cl.st)
                continue;
            visit(cb, cl, child, path + '/' + child, childRel, compared, depth + 1);
        }
    }

    static std::optional<struct stat> statAt(int dirFd, const std::string &name)
    {
        struct stat st {};
        if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return std::nullopt;
        return st;
    }

private:
    static bool differ(const Side &b, const struct stat &bs, const Side &l, const struct stat &ls, const std::string &name)
    {
        if ((bs.st_mode & S_IFMT) != (ls.st_mode & S_IFMT) || (bs.st_mode & 07777) != (ls.st_mode & 07777))
            return true;
        if (S_ISREG(bs.st_mode))
            return bs.st_size != ls.st_size || nanoseconds(bs.st_mtim) != nanoseconds(ls.st_mtim);
        if (S_ISLNK(bs.st_mode))
            return linkTarget(b.dir, name) != linkTarget(l.dir, name);
        return false; // a directory's own time changes with what it holds
    }

    UniqueFd open(int dirFd, const std::string &name, const std::string &path)
    {
        UniqueFd fd = openDirectoryAt(dirFd, name);
        if (!fd)
            m_tree.problems.push_back(path + ": " + std::strerror(errno));
        return fd;
    }

    std::vector<std::string> namesIn(const UniqueFd &dir, const std::string &path)
    {
        if (!dir)
            return {};
        try {
            return Sync::readDirNames(dir.get(), Sync::Side::Source);
        } catch (const Sync::SysError &e) {
            m_tree.problems.push_back(path + ": " + std::strerror(e.err));
            return {};
        }
    }

    void count(Change change)
    {
        switch (change) {
        case Change::Unchanged: ++m_tree.unchanged; break;
        case Change::Changed: ++m_tree.changed; break;
        case Change::Deleted: ++m_tree.deleted; break;
        case Change::Added: ++m_tree.added; break;
        case Change::NotCompared: break;
        }
    }

    Tree &m_tree;
    Sync::ExcludeRules m_rules;
    const std::atomic<bool> *m_cancel;
};

} // namespace

std::optional<QDateTime> snapshotTime(const std::string &name)
{
    // YYYY-MM-DDTHHMMSSZ, then maybe -<n> for a second snapshot within the same second.
    if (name.size() < 18)
        return std::nullopt;
    if (name.size() > 18) {
        if (name[18] != '-' || name.size() == 19
            || !std::all_of(name.begin() + 19, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
    }
    QDateTime t = QDateTime::fromString(QString::fromLatin1(name.data(), 18), QStringLiteral("yyyy-MM-ddTHHmmss'Z'"));
    if (!t.isValid())
        return std::nullopt;
    t.setTimeSpec(Qt::UTC);
    return t;
}

std::vector<Backup> listBackups(const std::string &vaultRoot)
{
    const UniqueFd root(::open(vaultRoot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        throw Error::fromErrno(ErrorCode::NotFound, errno, "Cannot open the vault at " + vaultRoot);
    std::vector<Backup> backups;
    if (openDirectoryAt(root.get(), "current"))
        backups.push_back({"current", "current", true, std::nullopt});
    const UniqueFd snapshots = openDirectoryAt(root.get(), "snapshots");
    if (!snapshots)
        return backups;
    std::vector<std::string> names;
    try {
        names = Sync::readDirNames(snapshots.get(), Sync::Side::Source);
    } catch (const Sync::SysError &e) {
        throw Error::fromErrno(e.err, "Cannot list the snapshots in " + vaultRoot);
    }
    std::sort(names.begin(), names.end(), std::greater<>());
    for (const std::string &n : names) {
        const std::optional<QDateTime> time = snapshotTime(n);
        if (time && openDirectoryAt(snapshots.get(), n))
            backups.push_back({n, "snapshots/" + n, false, time});
    }
    return backups;
}

Tree readBackup(const std::string &backupDir, const std::vector<std::string> &liveFolders,
                const std::vector<std::string> &excludes, const std::atomic<bool> *cancel)
{
    const UniqueFd backup(::open(backupDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!backup)
        throw Error::fromErrno(ErrorCode::NotFound, errno, "Cannot open the backup " + backupDir);
    std::vector<std::string> names;
    try {
        names = Sync::readDirNames(backup.get(), Sync::Side::Source);
    } catch (const Sync::SysError &e) {
        throw Error::fromErrno(e.err, "Cannot read the backup " + backupDir);
    }
    std::sort(names.begin(), names.end());
    Tree tree;
    Walker walker(tree, excludes, cancel);
    for (const std::string &name : names) {
        const Side b{backup.get(), Walker::statAt(backup.get(), name)};
        if (!b.st || !S_ISDIR(b.st->st_mode))
            continue; // the vault keeps each source as a folder; anything else is not a backup of one
        const auto folder = std::find_if(liveFolders.begin(), liveFolders.end(),
                                         [&](const std::string &path) { return lastComponent(path) == name; });
        Side l;
        UniqueFd parent;
        if (folder != liveFolders.end()) {
            parent = UniqueFd(::open(parentDirectory(*folder).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            l = {parent.get(), parent ? Walker::statAt(parent.get(), name) : std::nullopt};
            if (l.st && !S_ISDIR(l.st->st_mode))
                l.st.reset(); // gone, and something else in its place: all of it is deleted
        }
        walker.visit(b, l, name, name, "", folder != liveFolders.end(), 0);
    }
    return tree;
}

} // namespace Coffer::Restore
