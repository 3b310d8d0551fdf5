#include "syncchild.h"

#include "error.h"

// glibc 2.36 declares these without extern "C".
extern "C" {
#include <sys/pidfd.h>
}
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace Coffer::Helper {

namespace {

template <class T>
bool parseNumber(std::string_view text, T &value)
{
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

// fd again as a close-on-exec descriptor numbered 10 or more: posix_spawn's dup2 onto 3 and 4
// then never maps a descriptor onto itself (which would keep it close-on-exec).
UniqueFd above(const UniqueFd &fd)
{
    UniqueFd copy(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 10));
    if (!copy)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot start the sync");
    return copy;
}

struct FileActions
{
    posix_spawn_file_actions_t actions;
    FileActions() { posix_spawn_file_actions_init(&actions); }
    ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

struct SpawnAttributes
{
    posix_spawnattr_t attributes;
    SpawnAttributes() { posix_spawnattr_init(&attributes); }
    ~SpawnAttributes() { posix_spawnattr_destroy(&attributes); }
};

} // namespace

Credentials credentialsFor(uid_t uid)
{
    Credentials c;
    c.uid = uid;
    c.gid = gid_t(uid);
    std::vector<char> buffer(16384);
    struct passwd pw {};
    struct passwd *found = nullptr;
    if (getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found) {
        c.gid = pw.pw_gid;
        int count = 64;
        std::vector<gid_t> groups(static_cast<size_t>(count));
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) {
            groups.resize(size_t(count));
            if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0)
                count = 0;
        }
        groups.resize(size_t(count));
        c.groups = groups;
    }
    return c;
}

bool dropPrivileges(const Credentials &credentials)
{
    if (credentials.uid == 0)
        return false; // never run the sync as root
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return false;
    if (setgroups(credentials.groups.size(), credentials.groups.data()) != 0)
        return false;
    if (setresgid(credentials.gid, credentials.gid, credentials.gid) != 0)
        return false;
    if (setresuid(credentials.uid, credentials.uid, credentials.uid) != 0)
        return false;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return false;
    // PR_SET_PDEATHSIG is cleared by a credential change: set it again as the user.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return false;
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != credentials.uid || e != credentials.uid
        || s != credentials.uid)
        return false;
    // There is no way back.
    if (setuid(0) == 0)
        return false;
    return true;
}

bool writeAll(int fd, std::string_view text)
{
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text.remove_prefix(size_t(n));
    }
    return true;
}

std::vector<std::string> syncProgramArguments(const std::string &program, const Credentials &credentials,
                                              pid_t parent)
{
    std::string groups;
    for (const gid_t g : credentials.groups)
        groups += (groups.empty() ? "" : ",") + std::to_string(g);
    return {program, "--uid", std::to_string(credentials.uid), "--gid", std::to_string(credentials.gid),
            "--groups", groups, "--parent", std::to_string(parent)};
}

std::optional<SyncProgramArguments> parseSyncProgramArguments(int argc, const char *const *argv)
{
    if (argc != 9)
        return std::nullopt;
    const auto is = [&](int i, const char *name) { return std::strcmp(argv[i], name) == 0; };
    if (!is(1, "--uid") || !is(3, "--gid") || !is(5, "--groups") || !is(7, "--parent"))
        return std::nullopt;
    SyncProgramArguments args;
    if (!parseNumber(argv[2], args.credentials.uid) || !parseNumber(argv[4], args.credentials.gid)
        || !parseNumber(argv[8], args.parent))
        return std::nullopt;
    std::string_view groups = argv[6];
    while (!groups.empty()) {
        const size_t comma = groups.find(',');
        gid_t g;
        if (!parseNumber(groups.substr(0, comma), g))
            return std::nullopt;
        args.credentials.groups.push_back(g);
        groups = comma == std::string_view::npos ? std::string_view() : groups.substr(comma + 1);
    }
    return args;
}

SyncChild startSyncChild(const std::string &program, const Credentials &credentials,
                         const Sync::Options &options)
{
    if (credentials.uid == 0)
        throw Error(ErrorCode::NotSupported, "The sync never runs as root.");
    UniqueFd optionsFd(::memfd_create("coffer-sync-options", MFD_CLOEXEC));
    if (!optionsFd || !writeAll(optionsFd.get(), Sync::toJsonLine(options))
        || ::lseek(optionsFd.get(), 0, SEEK_SET) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot start the sync");
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot start the sync");
    UniqueFd readEnd(fds[0]);
    UniqueFd writeEnd(fds[1]);
    if (::fcntl(readEnd.get(), F_SETFL, O_NONBLOCK) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot start the sync");
    const UniqueFd optionsSource = above(optionsFd);
    const UniqueFd outputSource = above(writeEnd);

    FileActions files;
    posix_spawn_file_actions_addopen(&files.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&files.actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&files.actions, optionsSource.get(), SyncOptionsFd);
    posix_spawn_file_actions_adddup2(&files.actions, outputSource.get(), SyncOutputFd);
    posix_spawn_file_actions_addclosefrom_np(&files.actions, SyncOutputFd + 1);
    // Default signal handling and an empty mask (the helper ignores SIGPIPE), a session of its
    // own (no terminal's signals).
    SpawnAttributes attributes;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes.attributes, &none);
    posix_spawnattr_setsigdefault(&attributes.attributes, &all);
    posix_spawnattr_setflags(&attributes.attributes,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);

    const std::vector<std::string> args = syncProgramArguments(program, credentials, ::getpid());
    std::vector<char *> argv;
    for (const std::string &arg : args)
        argv.push_back(const_cast<char *>(arg.c_str()));
    argv.push_back(nullptr);
    char *envp[] = {nullptr};
    pid_t pid = -1;
    const int r = posix_spawn(&pid, program.c_str(), &files.actions, &attributes.attributes, argv.data(), envp);
    if (r != 0)
        throw Error::fromErrno(ErrorCode::Failed, r, "Cannot start the sync program " + program);
    SyncChild child;
    child.pid = pid;
    // Not reaped yet, so the pid is still this child's.
    child.pidfd.reset(pidfd_open(pid, 0));
    if (!child.pidfd) {
        const int err = errno;
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        throw Error::fromErrno(ErrorCode::Failed, err, "Cannot watch the sync process");
    }
    child.output = std::move(readEnd);
    return child;
}

} // namespace Coffer::Helper
