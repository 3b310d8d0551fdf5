#include "syncchild.h"

#include "error.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Coffer::Helper {

namespace {

std::atomic<bool> g_cancel{false};

void onTerm(int)
{
    g_cancel.store(true);
}

bool writeAll(int fd, const std::string &text)
{
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += size_t(n);
    }
    return true;
}

[[noreturn]] void runChild(int out, const Credentials &credentials, const Sync::Options &options,
                           pid_t parent)
{
    // Only our pipe, and stdin/stdout/stderr pointing nowhere harmful.
    const int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
    }
    if (dup2(out, 3) != 3)
        _exit(120);
    close_range(4, ~0U, 0);
    out = 3;
    if (!dropPrivileges(credentials) || getppid() != parent)
        _exit(121);

    struct sigaction sa {};
    sa.sa_handler = onTerm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    umask(077);

    int status = 0;
    try {
        const Sync::Result result = Sync::run(
            options, [out](const Sync::Progress &p) { writeAll(out, Sync::toJsonLine(p)); },
            &g_cancel);
        writeAll(out, Sync::toJsonLine(result));
    } catch (const Error &e) {
        writeAll(out, Sync::toJsonLine(Sync::errorReport(e)));
        status = 1;
    } catch (const std::exception &e) {
        writeAll(out, Sync::toJsonLine(Sync::errorReport(Error(ErrorCode::Failed, e.what()))));
        status = 1;
    }
    close(out);
    _exit(status);
}

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

SyncChild startSyncChild(const Credentials &credentials, const Sync::Options &options)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot start the sync");
    UniqueFd readEnd(fds[0]);
    UniqueFd writeEnd(fds[1]);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot start the sync");
    if (pid == 0) {
        readEnd.reset();
        runChild(writeEnd.release(), credentials, options, parent);
    }
    SyncChild child;
    child.pid = pid;
    child.output = std::move(readEnd);
    return child;
}

} // namespace Coffer::Helper
