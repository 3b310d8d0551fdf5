// coffer-sync: the sync child of coffer-helper (syncchild.h). Started as root by the helper
// only; becomes the user first, then reads its options on fd 3 and writes the engine's JSON
// lines on fd 4. A fresh process: nothing of the helper's memory, threads or locks in it.

#include "syncchild.h"

#include "error.h"
#include "sync/syncengine.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <variant>

using namespace Coffer;
using namespace Coffer::Helper;

namespace {

std::atomic<bool> g_cancel{false};

void onTerm(int)
{
    g_cancel.store(true);
}


// The options the helper wrote, at most 64 MiB.
std::optional<Sync::Options> readOptions()
{
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(SyncOptionsFd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || text.size() + size_t(n) > (64u << 20))
            return std::nullopt;
        if (n == 0)
            break;
        text.append(buf, size_t(n));
    }
    ::close(SyncOptionsFd);
    try {
        Sync::Message message = Sync::parseJsonLine(text);
        if (auto *options = std::get_if<Sync::Options>(&message))
            return std::move(*options);
    } catch (const Error &) {
    }
    return std::nullopt;
}

} // namespace

int main(int argc, char **argv)
{
    const std::optional<SyncProgramArguments> args = parseSyncProgramArguments(argc, argv);
    if (!args)
        return 2;
    // Before anything else; and a helper that died meanwhile means nobody wants this run.
    if (!dropPrivileges(args->credentials) || ::getppid() != args->parent)
        return 121;

    struct sigaction sa {};
    sa.sa_handler = onTerm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    umask(077);

    const std::optional<Sync::Options> options = readOptions();
    if (!options) {
        writeAll(SyncOutputFd, Sync::toJsonLine(Sync::errorReport(
                                   Error(ErrorCode::Failed, "The sync process got no valid options."))));
        return 1;
    }
    int status = 0;
    try {
        const Sync::Result result = Sync::run(
            *options, [](const Sync::Progress &p) { writeAll(SyncOutputFd, Sync::toJsonLine(p)); }, &g_cancel);
        writeAll(SyncOutputFd, Sync::toJsonLine(result));
    } catch (const Error &e) {
        writeAll(SyncOutputFd, Sync::toJsonLine(Sync::errorReport(e)));
        status = 1;
    } catch (const std::exception &e) {
        writeAll(SyncOutputFd, Sync::toJsonLine(Sync::errorReport(Error(ErrorCode::Failed, e.what()))));
        status = 1;
    }
    ::close(SyncOutputFd);
    return status;
}
