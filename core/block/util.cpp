#include "block/util.h"

#include "block/uniquefd.h"
#include "error.h"

#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
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

ToolResult runTool(const std::vector<std::string> &argv)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0)
        throw Error::fromErrno(errno, "Cannot create a pipe");
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char lang[] = "LC_ALL=C";
    char *env[] = {path, lang, nullptr};

    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw Error::fromErrno(ErrorCode::NotSupported, rc, "Cannot run " + argv[0]);
    writeEnd.reset();

    ToolResult result;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(readEnd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        result.output.append(buf, size_t(n));
        if (result.output.size() > 32768)
            result.output.erase(0, result.output.size() - 16384);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw Error::fromErrno(errno, "Cannot wait for " + argv[0]);
    }
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
