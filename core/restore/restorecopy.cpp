#include "restore/restorecopy.h"

#include "block/uniquefd.h"
#include "error.h"
#include "sync/fsops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace Coffer::Restore {

namespace {

struct Cancelled
{
};

bool validComponent(const std::string &name)
{
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

std::vector<std::string> components(const std::string &path)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= path.size()) {
        const size_t slash = path.find('/', start);
        const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!part.empty())
            out.push_back(part);
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    return out;
}

// Makes dir and its missing parents (0700: a restore is of secrets) and opens it.
UniqueFd makeDirectories(const std::string &dir)
{
    if (dir.empty() || dir[0] != '/')
        throw Error(ErrorCode::InvalidArgument, "The folder to restore to must be an absolute path: " + dir);
    UniqueFd at(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::string sofar;
    for (const std::string &part : components(dir)) {
        sofar += '/' + part;
        if (::mkdirat(at.get(), part.c_str(), 0700) != 0 && errno != EEXIST)
            throw Error::fromErrno(errno, "Cannot make the folder " + sofar);
        // The folder the person named may be reached through symlinks of theirs; that is theirs
        // to choose. What is made below it is never followed.
        UniqueFd next(::openat(at.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!next)
            throw Error::fromErrno(errno, "Cannot open the folder " + sofar);
        at = std::move(next);
    }
    return at;
}

std::string temporaryName(const std::string &name)
{
    std::random_device device;
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".%d-%08x", int(::getpid()), unsigned(device()));
    // Short enough for any name: the suffix replaces the tail of a long one.
    std::string base = "." + name.substr(0, 200) + ".coffer-restore";
    return base + suffix;
}

class Copier
{
public:
    Copier(const RestoreCallback &progress, const std::atomic<bool> *cancel)
        : m_report(progress)
        , m_cancel(cancel)
    {
    }

    RestoreProgress progress;
    uint64_t skipped = 0;

    // Counts what is below (dirFd, name) for the progress totals.
    void count(int dirFd, const std::string &name)
    {
        checkCancel();
        struct stat st {};
        if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return;
        ++progress.filesTotal;
        if (S_ISREG(st.st_mode))
            progress.bytesTotal += uint64_t(st.st_size);
        if (!S_ISDIR(st.st_mode))
            return;
        const UniqueFd dir(::openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir)
            return;
        try {
            for (const std::string &child : Sync::readDirNames(dir.get(), Sync::Side::Source))
                count(dir.get(), child);
        } catch (const Sync::SysError &) {
            // copy() reports it
        }
    }

    // Copies (srcDir, srcName) to (dstDir, dstName), which must not exist yet.
    void copy(int srcDir, const std::string &srcName, int dstDir, const std::string &dstName, const std::string &path)
    {
        checkCancel();
        progress.currentItem = path;
        struct stat st {};
        if (::fstatat(srcDir, srcName.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw Error::fromErrno(errno, "Cannot read " + path + " in the backup");
        const mode_t mode = st.st_mode & 07777;
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        if (S_ISREG(st.st_mode)) {
            copyFile(srcDir, srcName, st, dstDir, dstName, path);
        } else if (S_ISDIR(st.st_mode)) {
            const UniqueFd src(::openat(srcDir, srcName.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!src)
                throw Error::fromErrno(errno, "Cannot open " + path + " in the backup");
            if (::mkdirat(dstDir, dstName.c_str(), 0700) != 0)
                throw destinationError(errno, dstName);
            const UniqueFd dst(::openat(dstDir, dstName.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!dst)
                throw destinationError(errno, dstName);
            std::vector<std::string> names;
            try {
                names = Sync::readDirNames(src.get(), Sync::Side::Source);
            } catch (const Sync::SysError &e) {
                throw Error::fromErrno(e.err, "Cannot read the folder " + path + " in the backup");
            }
            ++progress.filesDone;
            report();
            for (const std::string &child : names)
                copy(src.get(), child, dst.get(), child, path + '/' + child);
            copyXattrs(src.get(), dst.get());
            // Its own permissions and time last: writing into it changed them.
            if (::fchmod(dst.get(), mode) != 0 || ::futimens(dst.get(), times) != 0)
                throw destinationError(errno, dstName);
            return;
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(size_t(st.st_size) + 1, '\0');
            const ssize_t n = ::readlinkat(srcDir, srcName.c_str(), target.data(), target.size());
            if (n < 0)
                throw Error::fromErrno(errno, "Cannot read the link " + path + " in the backup");
            target.resize(size_t(n));
            if (::symlinkat(target.c_str(), dstDir, dstName.c_str()) != 0
                || ::utimensat(dstDir, dstName.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
                throw destinationError(errno, dstName);
        } else if (S_ISFIFO(st.st_mode)) {
            if (::mkfifoat(dstDir, dstName.c_str(), 0600) != 0 || ::fchmodat(dstDir, dstName.c_str(), mode, 0) != 0
                || ::utimensat(dstDir, dstName.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
                throw destinationError(errno, dstName);
        } else {
            ++skipped;
        }
        ++progress.filesDone;
        report();
    }

private:
    void copyFile(int srcDir, const std::string &srcName, const struct stat &st, int dstDir, const std::string &dstName,
                  const std::string &path)
    {
        const UniqueFd in(::openat(srcDir, srcName.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        if (!in)
            throw Error::fromErrno(errno, "Cannot open " + path + " in the backup");
        const UniqueFd out(::openat(dstDir, dstName.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!out)
            throw destinationError(errno, dstName);
        try {
            Sync::copyData(in.get(), out.get(), uint64_t(st.st_size), uint64_t(st.st_blocks), m_copyFileRange,
                           [this](uint64_t bytes) {
                checkCancel();
                progress.bytesDone += bytes;
                report();
            });
        } catch (const Sync::SysError &e) {
            if (e.err < 0)
                throw Error::fromErrno(-e.err, "Cannot read " + path + " in the backup");
            throw destinationError(e.err, dstName);
        }
        copyXattrs(in.get(), out.get());
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        if (::fchmod(out.get(), st.st_mode & 07777) != 0 || ::futimens(out.get(), times) != 0)
            throw destinationError(errno, dstName);
    }

    static void copyXattrs(int from, int to)
    {
        try {
            Sync::writeUserXattrs(to, false, Sync::readUserXattrs(from, false, Sync::Side::Source));
        } catch (const Sync::SysError &) {
            // extended attributes are a courtesy; the restore does not fail over them
        }
    }

    static Error destinationError(int err, const std::string &name)
    {
        return Error::fromErrno(err, "Cannot write " + name + " where it is being restored");
    }

    void checkCancel() const
    {
        if (m_cancel && m_cancel->load())
            throw Cancelled{};
    }

    void report()
    {
        if (!m_report)
            return;
        // Often enough for a progress bar, seldom enough not to flood the receiver.
        const auto now = std::chrono::steady_clock::now();
        if (progress.filesDone < progress.filesTotal && now - m_lastReport < std::chrono::milliseconds(50))
            return;
        m_lastReport = now;
        m_report(progress);
    }

    const RestoreCallback &m_report;
    const std::atomic<bool> *m_cancel;
    bool m_copyFileRange = true;
    std::chrono::steady_clock::time_point m_lastReport{};
};

} // namespace

bool targetExists(const std::string &targetDir, const std::string &targetName)
{
    struct stat st {};
    return ::lstat((targetDir + "/" + targetName).c_str(), &st) == 0;
}

RestoreResult restore(const RestoreRequest &request, const RestoreCallback &progress, const std::atomic<bool> *cancel)
{
    if (!validComponent(request.targetName))
        throw Error(ErrorCode::InvalidArgument, "Cannot restore under the name \"" + request.targetName + "\".");
    // The item's parent in the backup, walked without following anything.
    const std::vector<std::string> parts = components(request.item);
    if (parts.empty())
        throw Error(ErrorCode::InvalidArgument, "Nothing to restore was named.");
    UniqueFd parent(::open(request.backupDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent)
        throw Error::fromErrno(ErrorCode::NotFound, errno, "Cannot open the backup " + request.backupDir);
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        if (!validComponent(parts[i]))
            throw Error(ErrorCode::InvalidArgument, "Not a path in the backup: " + request.item);
        UniqueFd next(::openat(parent.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next)
            throw Error::fromErrno(ErrorCode::NotFound, errno, "Cannot find " + request.item + " in the backup");
        parent = std::move(next);
    }
    const std::string &name = parts.back();
    struct stat st {};
    if (!validComponent(name) || ::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error(ErrorCode::NotFound, "Cannot find " + request.item + " in the backup.");

    const UniqueFd target = makeDirectories(request.targetDir);
    const std::string restored = request.targetDir + "/" + request.targetName;
    struct stat existing {};
    const bool exists = ::fstatat(target.get(), request.targetName.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !request.replace)
        throw Error(ErrorCode::InvalidArgument, restored + " already exists; nothing was changed.", EEXIST);

    Copier copier(progress, cancel);
    const std::string temporary = temporaryName(request.targetName);
    const auto removeTemporary = [&] {
        uint64_t removed = 0;
        try {
            Sync::removeTree(target.get(), temporary, removed);
        } catch (const Sync::SysError &) {
            // best effort: a hidden leftover is all that remains
        }
    };
    try {
        copier.count(parent.get(), name);
        copier.copy(parent.get(), name, target.get(), temporary, request.item);
        if (exists) {
            // The old one leaves only once the new one is whole: swap them, then remove the old.
            if (::renameat2(target.get(), temporary.c_str(), target.get(), request.targetName.c_str(), RENAME_EXCHANGE) != 0)
                throw Error::fromErrno(errno, "Cannot put the restored copy in place of " + restored);
        } else if (::renameat2(target.get(), temporary.c_str(), target.get(), request.targetName.c_str(), RENAME_NOREPLACE) != 0) {
            const int err = errno;
            throw Error::fromErrno(err == EEXIST ? ErrorCode::InvalidArgument : errorCodeForErrno(err), err,
                                   err == EEXIST ? restored + " appeared while restoring; nothing was changed"
                                                 : "Cannot put the restored copy at " + restored);
        }
    } catch (const Cancelled &) {
        removeTemporary();
        throw Error(ErrorCode::Cancelled, "The restore was cancelled; " + restored
                                              + (exists ? " is as it was." : " was not made."));
    } catch (...) {
        removeTemporary();
        throw;
    }
    if (exists)
        removeTemporary(); // now the old one
    ::fsync(target.get());

    copier.progress.currentItem.clear();
    if (progress)
        progress(copier.progress);
    return {restored, copier.progress.filesDone, copier.progress.bytesDone, copier.skipped};
}

} // namespace Coffer::Restore
