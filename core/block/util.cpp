#include "block/util.h"

#include "block/uniquefd.h"
#include "error.h"

#include <linux/close_range.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <thread>
#include <unistd.h>

namespace Coffer {

std::string readSmallFile(const std::string &path, size_t maxSize)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        return {};
    std::string out;
    char buf[4096];
    while (out.size() < maxSize) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buf, size_t(n));
    }
    return out;
}

bool waitUntil(int timeoutMs, const std::function<bool()> &pred)
{
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + milliseconds(timeoutMs);
    auto step = milliseconds(2);
    for (;;) {
        if (pred())
            return true;
        if (steady_clock::now() >= deadline)
            return pred();
        std::this_thread::sleep_for(step);
        step = std::min(step * 2, milliseconds(50));
    }
}

namespace {

// Which step of the child's set-up failed, reported through a close-on-exec pipe (nothing is
// written when execve succeeds).
struct ChildFailure
{
    int step = 0;
    int err = 0;
};

const char *const childSteps[] = {
    "redirect its input and output", "make a mount namespace", "make the mounts private",
    "mount its /dev",                "make its device nodes",  "set its resource limits",
    "drop its capabilities",         "switch to an unprivileged user", "forbid new privileges",
    "change to /",                   "start it",
};

// Everything the child needs, made before fork: after fork in a process with threads the child
// may only make system calls (no allocation, no locks).
struct ChildPlan
{
    std::vector<char *> args;
    char *env[3] = {};
    int nullFd = -1, outFd = -1, failFd = -1;
    bool sandbox = false;
    dev_t device = 0;
    uid_t uid = 65534;
    gid_t gid = 65534;
    struct rlimit cpu = {RLIM_INFINITY, RLIM_INFINITY};
    struct rlimit as = {RLIM_INFINITY, RLIM_INFINITY};
    struct rlimit files = {64, 64};
};

[[noreturn]] void childFail(const ChildPlan &plan, int step)
{
    const ChildFailure f{step, errno};
    (void)!::write(plan.failFd, &f, sizeof f);
    ::_exit(127);
}

[[noreturn]] void runChild(const ChildPlan &plan)
{
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        ::sigaction(sig, &dfl, nullptr);
    if (::dup2(plan.nullFd, 0) < 0 || ::dup2(plan.outFd, 1) < 0 || ::dup2(plan.outFd, 2) < 0)
        childFail(plan, 0);
    if (plan.sandbox) {
        // A /dev of its own with nothing but null and the device: nothing else to open there.
        if (::unshare(CLONE_NEWNS) != 0)
            childFail(plan, 1);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            childFail(plan, 2);
        if (::mount("coffer-sandbox", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=16k,nr_inodes=8") != 0)
            childFail(plan, 3);
        if (::mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)) != 0
            || ::mknod(sandboxDevicePath, S_IFBLK | 0600, plan.device) != 0
            || ::chown(sandboxDevicePath, plan.uid, plan.gid) != 0)
            childFail(plan, 4);
        const struct rlimit noCore = {0, 0};
        if (::setrlimit(RLIMIT_CPU, &plan.cpu) != 0 || ::setrlimit(RLIMIT_AS, &plan.as) != 0
            || ::setrlimit(RLIMIT_NOFILE, &plan.files) != 0 || ::setrlimit(RLIMIT_CORE, &noCore) != 0)
            childFail(plan, 5);
        for (int cap = 0; ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap)
            if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
                childFail(plan, 6);
        // Leaving uid 0 for good clears every capability left.
        if (::setgroups(0, nullptr) != 0 || ::setresgid(plan.gid, plan.gid, plan.gid) != 0
            || ::setresuid(plan.uid, plan.uid, plan.uid) != 0)
            childFail(plan, 7);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            childFail(plan, 8);
        ::umask(077);
        if (::chdir("/") != 0)
            childFail(plan, 9);
    }
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); // failFd stays open until execve succeeds
    ::execve(plan.args[0], plan.args.data(), const_cast<char **>(plan.env));
    childFail(plan, 10);
}

} // namespace

ToolResult runTool(const std::vector<std::string> &argv, const ToolOptions &options)
{
    ChildPlan plan;
    for (const auto &a : argv)
        plan.args.push_back(const_cast<char *>(a.c_str()));
    plan.args.push_back(nullptr);
    char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char lang[] = "LC_ALL=C";
    plan.env[0] = path;
    plan.env[1] = lang;

    UniqueFd device;
    if (!options.sandboxDevice.empty()) {
        // The device is pinned open (and checked to be one) before the child makes its node.
        device.reset(::open(options.sandboxDevice.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
        struct stat st;
        if (!device || ::fstat(device.get(), &st) != 0 || !S_ISBLK(st.st_mode))
            throw Error::fromErrno(ErrorCode::NotSupported, device ? ENOTBLK : errno,
                                   "Cannot give " + argv[0] + " the device " + options.sandboxDevice);
        plan.sandbox = true;
        plan.device = st.st_rdev;
        struct passwd pw, *found = nullptr;
        char buf[1024];
        if (::getpwnam_r("nobody", &pw, buf, sizeof buf, &found) == 0 && found && found->pw_uid != 0) {
            plan.uid = found->pw_uid;
            plan.gid = found->pw_gid;
        }
        if (options.cpuSeconds)
            plan.cpu = {rlim_t(options.cpuSeconds), rlim_t(options.cpuSeconds)};
        if (options.addressSpaceBytes)
            plan.as = {rlim_t(options.addressSpaceBytes), rlim_t(options.addressSpaceBytes)};
        plan.files = {rlim_t(options.openFiles), rlim_t(options.openFiles)};
    }

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0)
        throw Error::fromErrno(errno, "Cannot create a pipe");
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    if (::pipe2(fds, O_CLOEXEC) < 0)
        throw Error::fromErrno(errno, "Cannot create a pipe");
    UniqueFd failRead(fds[0]), failWrite(fds[1]);
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null)
        throw Error::fromErrno(errno, "Cannot open /dev/null");
    plan.nullFd = null.get();
    plan.outFd = writeEnd.get();
    plan.failFd = failWrite.get();

    const pid_t pid = ::fork();
    if (pid < 0)
        throw Error::fromErrno(errno, "Cannot start " + argv[0]);
    if (pid == 0)
        runChild(plan);
    writeEnd.reset();
    failWrite.reset();
    // Where pidfds exist (Linux 5.3), waiting for the exit can time out too.
    UniqueFd pidFd(int(::syscall(SYS_pidfd_open, pid, 0)));

    using namespace std::chrono;
    const auto deadline = steady_clock::now() + milliseconds(options.timeoutMs);
    auto leftMs = [&]() -> int {
        if (options.timeoutMs <= 0)
            return -1;
        return int(std::max<int64_t>(0, duration_cast<milliseconds>(deadline - steady_clock::now()).count()));
    };
    ToolResult result;
    char buf[4096];
    bool outputOpen = true;
    for (;;) {
        pollfd pfd[2] = {{outputOpen ? readEnd.get() : -1, POLLIN, 0}, {pidFd.get(), POLLIN, 0}};
        if (!outputOpen && !pidFd)
            break; // no pidfd: wait below without a timeout
        const int left = leftMs();
        if (left == 0) {
            result.timedOut = true;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            break;
        }
        const int n = ::poll(pfd, pidFd ? 2 : 1, left);
        if (n < 0 && errno != EINTR)
            throw Error::fromErrno(errno, "Cannot wait for " + argv[0]);
        if (n <= 0)
            continue;
        if (pfd[0].revents) {
            const ssize_t r = ::read(readEnd.get(), buf, sizeof buf);
            if (r > 0) {
                result.output.append(buf, size_t(r));
                if (result.output.size() > 32768)
                    result.output.erase(0, result.output.size() - 16384);
            } else if (r == 0 || errno != EINTR) {
                outputOpen = false;
            }
        }
        if (!outputOpen && pfd[1].revents)
            break; // exited and its output is all read
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw Error::fromErrno(errno, "Cannot wait for " + argv[0]);
    }
    ChildFailure failure;
    if (::read(failRead.get(), &failure, sizeof failure) == ssize_t(sizeof failure))
        throw Error::fromErrno(ErrorCode::NotSupported, failure.err,
                               "Cannot run " + argv[0] + " (it could not " + childSteps[failure.step] + ")");
    result.exitCode = WIFEXITED(status) && !result.timedOut ? WEXITSTATUS(status) : -1;
    return result;
}

std::string lastLine(const std::string &output)
{
    size_t end = output.find_last_not_of("\n \t");
    if (end == std::string::npos)
        return {};
    size_t start = output.rfind('\n', end);
    start = start == std::string::npos ? 0 : start + 1;
    return output.substr(start, end - start + 1);
}

} // namespace Coffer
