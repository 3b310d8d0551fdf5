// cofferctl sync: runs the sync engine in-process, as the invoking user.

#include "command.h"
#include "exitcodes.h"
#include "sync/syncengine.h"
#include "vaultcommands.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace Coffer::Ctl {

namespace {

std::atomic<bool> g_cancel{false};

void onSigint(int)
{
    g_cancel.store(true);
}

const char SyncUsage[] =
    "--into DIR --source SRC [--as NAME] [--source SRC2 ...] [--mode mirror|snapshot]\n"
    "           [--exclude PATTERN ...] [--dry-run] [--checksum] [--json] [--keep-last N]\n"
    "           [--keep-daily N] [--keep-weekly N] [--no-xattrs] [--no-manifest] [--no-flush]";

// Terminal-safe rendering of a byte name: control characters and invalid bytes as \xNN.
std::string printable(std::string_view s, size_t max)
{
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    if (out.size() > max && max > 3)
        out = "..." + out.substr(out.size() - (max - 3));
    return out;
}

bool parseCount(const char *text, int &out)
{
    char *end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (!end || *end || v < 0 || v > 100000)
        return false;
    out = int(v);
    return true;
}

std::string baseName(std::string path)
{
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

class TerminalProgress
{
public:
    void operator()(const Sync::Progress &p)
    {
        const auto now = std::chrono::steady_clock::now();
        if (m_start == std::chrono::steady_clock::time_point())
            m_start = now;
        struct winsize ws;
        int width = 80;
        if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
            width = ws.ws_col;
        std::string line;
        char buf[256];
        switch (p.phase) {
        case Sync::Phase::Scan:
            std::snprintf(buf, sizeof buf, "Scanning: %llu entries", (unsigned long long)p.filesDone);
            break;
        case Sync::Phase::Copy: {
            if (m_copyStart == std::chrono::steady_clock::time_point())
                m_copyStart = now;
            const double secs = std::chrono::duration<double>(now - m_copyStart).count();
            const double rate = secs > 0.2 ? double(p.bytesDone) / secs : 0;
            std::snprintf(buf, sizeof buf, "Copying: %llu/%llu items, %s/%s, %s/s",
                          (unsigned long long)p.filesDone, (unsigned long long)p.filesTotal,
                          humanBytes(p.bytesDone).c_str(), humanBytes(p.bytesTotal).c_str(),
                          humanBytes(uint64_t(rate)).c_str());
            break;
        }
        case Sync::Phase::Delete:
            std::snprintf(buf, sizeof buf, "Removing old snapshots: %llu/%llu",
                          (unsigned long long)p.filesDone, (unsigned long long)p.filesTotal);
            break;
        case Sync::Phase::Flush:
            std::snprintf(buf, sizeof buf, "Flushing to disk...");
            break;
        case Sync::Phase::Done:
            std::fprintf(stderr, "\r\033[K");
            return;
        }
        line = buf;
        if (!p.currentItem.empty() && int(line.size()) + 10 < width)
            line += "  " + printable(p.currentItem, size_t(width) - line.size() - 3);
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        std::fflush(stderr);
    }

private:
    std::chrono::steady_clock::time_point m_start, m_copyStart;
};

int runSync(int argc, char **argv)
{
    // Without --into, FILE is a vault: the helper syncs into it (vaultcommands.cpp).
    if (std::none_of(argv + 1, argv + argc, [](const char *a) {
            return std::strncmp(a, "--into", 6) == 0 || !std::strcmp(a, "--help") || !std::strcmp(a, "-h");
        }))
        return runVaultSync(argc, argv);
    Sync::Options opt;
    bool json = false;
    bool sawInto = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        bool hasValue = false;
        if (arg.rfind("--", 0) == 0) {
            const size_t eq = arg.find('=');
            if (eq != std::string::npos) {
                value = arg.substr(eq + 1);
                arg.resize(eq);
                hasValue = true;
            }
        }
        auto need = [&](std::string &out) {
            if (hasValue) {
                out = value;
                return true;
            }
            if (i + 1 >= argc)
                return false;
            out = argv[++i];
            return true;
        };
        std::string v;
        if (arg == "--into") {
            if (!need(v) || v.empty())
                return usageError("sync", "--into needs a directory");
            opt.destination = v;
            sawInto = true;
        } else if (arg == "--source") {
            if (!need(v) || v.empty())
                return usageError("sync", "--source needs a directory");
            opt.sources.push_back({v, baseName(v)});
        } else if (arg == "--as") {
            if (!need(v) || opt.sources.empty())
                return usageError("sync", "--as NAME follows a --source");
            opt.sources.back().name = v;
        } else if (arg == "--mode") {
            if (!need(v))
                return usageError("sync", "--mode needs mirror or snapshot");
            if (v == "mirror")
                opt.mode = Sync::Mode::Mirror;
            else if (v == "snapshot")
                opt.mode = Sync::Mode::Snapshot;
            else
                return usageError("sync", "--mode is mirror or snapshot");
        } else if (arg == "--exclude") {
            if (!need(v) || v.empty())
                return usageError("sync", "--exclude needs a pattern");
            opt.excludes.push_back(v);
        } else if (arg == "--keep-last" || arg == "--keep-daily" || arg == "--keep-weekly") {
            int n = 0;
            if (!need(v) || !parseCount(v.c_str(), n))
                return usageError("sync", arg + " needs a count");
            (arg == "--keep-last" ? opt.retention.keepLast
                                  : arg == "--keep-daily" ? opt.retention.keepDaily
                                                          : opt.retention.keepWeekly) = n;
        } else if (arg == "--dry-run" && !hasValue) {
            opt.dryRun = true;
        } else if (arg == "--checksum" && !hasValue) {
            opt.checksum = true;
        } else if (arg == "--json" && !hasValue) {
            json = true;
        } else if (arg == "--no-xattrs" && !hasValue) {
            opt.xattrs = false;
        } else if (arg == "--no-manifest" && !hasValue) {
            opt.useManifest = false;
        } else if (arg == "--no-flush" && !hasValue) {
            opt.durable = false;
        } else if (arg == "--help" || arg == "-h") {
            std::printf("Usage: cofferctl sync %s\n", SyncUsage);
            return ExitCode::Ok;
        } else {
            return usageError("sync", "unknown argument '" + printable(argv[i], 200) + "'");
        }
    }
    if (!sawInto)
        return usageError("sync", "--into DIR is required");
    if (opt.sources.empty())
        return usageError("sync", "at least one --source is required");

    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = onSigint;
    sa.sa_flags = SA_RESETHAND; // a second Ctrl-C kills
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    const bool tty = ::isatty(STDERR_FILENO);
    TerminalProgress terminal;
    Sync::ProgressCallback progress;
    if (json)
        progress = [](const Sync::Progress &p) {
            const std::string line = Sync::toJsonLine(p);
            std::fwrite(line.data(), 1, line.size(), stdout);
            std::fflush(stdout);
        };
    else if (tty)
        progress = [&terminal](const Sync::Progress &p) { terminal(p); };

    Sync::Result result;
    try {
        result = Sync::run(opt, progress, &g_cancel);
    } catch (const Error &e) {
        if (json) {
            const std::string line = Sync::toJsonLine(Sync::errorReport(e));
            std::fwrite(line.data(), 1, line.size(), stdout);
        } else {
            if (tty)
                std::fprintf(stderr, "\r\033[K");
            std::fprintf(stderr, "cofferctl sync: %s\n", printable(e.message(), 4096).c_str());
        }
        return exitCodeFor(e.code());
    }

    if (json) {
        const std::string line = Sync::toJsonLine(result);
        std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
        for (const Sync::Warning &w : result.warnings)
            std::fprintf(stderr, "warning: %s%s%s\n", printable(w.path, 4096).c_str(),
                         w.path.empty() ? "" : ": ", printable(w.message, 4096).c_str());
        if (result.warningsDropped)
            std::fprintf(stderr, "warning: %llu more warnings not shown\n",
                         (unsigned long long)result.warningsDropped);
        const Sync::Plan &p = result.plan;
        if (result.dryRun) {
            for (const Sync::PlanItem &item : p.items) {
                const char mark = item.action == Sync::PlanAction::Add ? '+'
                    : item.action == Sync::PlanAction::Update          ? '~'
                    : item.action == Sync::PlanAction::Metadata        ? '*'
                                                                       : '-';
                std::printf("%c %c %s%s\n", mark, item.type, printable(item.path, 4096).c_str(),
                            item.bytes ? ("  (" + humanBytes(item.bytes) + ")").c_str() : "");
            }
            std::printf("Dry run: %llu to add, %llu to update, %llu metadata only, %llu to delete, "
                        "%llu unchanged.\n%s to write, %s to free, %s free on the destination: %s.\n",
                        (unsigned long long)p.added, (unsigned long long)p.updated,
                        (unsigned long long)p.metadataOnly, (unsigned long long)p.deleted,
                        (unsigned long long)p.unchanged, humanBytes(p.bytesToWrite).c_str(),
                        humanBytes(p.bytesToDelete).c_str(), humanBytes(p.bytesFree).c_str(),
                        p.fits ? "it fits" : "it does NOT fit");
        } else {
            std::printf("Sync %s%s: %llu scanned, %llu copied (%s), %llu linked, %llu updated, "
                        "%llu deleted%s.\n",
                        std::string(Sync::outcomeName(result.outcome)).c_str(),
                        result.snapshot.empty() ? "" : (" (snapshot " + result.snapshot + ")").c_str(),
                        (unsigned long long)result.filesScanned, (unsigned long long)result.filesCopied,
                        humanBytes(result.bytesCopied).c_str(), (unsigned long long)result.filesLinked,
                        (unsigned long long)result.itemsUpdated, (unsigned long long)result.filesDeleted,
                        result.outcome == Sync::Outcome::Cancelled ? ""
                            : result.durable                       ? "; on disk"
                                                                   : "; not flushed");
        }
    }
    std::fflush(stdout);
    switch (result.outcome) {
    case Sync::Outcome::Complete:
        return result.dryRun && !result.plan.fits ? ExitCode::NoSpace : ExitCode::Ok;
    case Sync::Outcome::Partial: return ExitCode::Partial;
    case Sync::Outcome::Cancelled: return ExitCode::Cancelled;
    }
    return ExitCode::Failed;
}

} // namespace

COFFERCTL_COMMAND(sync, "sync", SyncUsage,
                  "Copy source directories into DIR (a vault's mount point) like rsync -aH --delete",
                  runSync);

} // namespace Coffer::Ctl
