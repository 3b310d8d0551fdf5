// cofferctl sync: `sync --into DIR` runs the sync engine in this process, as the invoking user;
// `sync FILE` has the helper sync into the vault in FILE (unlocking it first if needed).

#include "args.h"
#include "bytes.h"
#include "client/helperclient.h"
#include "command.h"
#include "progress.h"
#include "sync/syncengine.h"
#include "terminal.h"
#include "wait.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace Coffer::Ctl {

namespace {

const char SyncUsage[] =
    "--into DIR --source SRC [--as NAME] [--source SRC2 ...] [--mode mirror|snapshot]\n"
    "           [--exclude PATTERN ...] [--dry-run] [--checksum] [--json] [--keep-last N]\n"
    "           [--keep-daily N] [--keep-weekly N] [--no-xattrs] [--no-manifest] [--no-flush]\n"
    "  or: cofferctl sync FILE --source DIR [--source DIR ...] [--mode mirror|snapshot]\n"
    "           [--exclude PATTERN ...] [--dry-run] [--checksum] [--json] [--keep-last N]\n"
    "           [--keep-daily N] [--keep-weekly N] [--lock-after] [--keyfile F|--passphrase-file F]";

// What both kinds of sync take.
const std::vector<Option> syncArguments{
    {"--source", "a directory"}, {"--mode", "mirror or snapshot"}, {"--exclude", "a pattern"},
    {"--keep-last", "a count"},  {"--keep-daily", "a count"},      {"--keep-weekly", "a count"},
    {"--dry-run", {}},           {"--checksum", {}},               {"--json", {}}};

std::string baseName(std::string path)
{
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The options both kinds share, read from the command line.
struct Common
{
    std::vector<std::string> sources;
    Sync::Mode mode = Sync::Mode::Mirror;
    std::vector<std::string> excludes;
    Sync::Retention retention;
    bool dryRun = false, checksum = false, json = false;
};

Common commonOptions(const Args &args)
{
    Common c;
    for (const auto &[key, value] : args.values()) {
        if (value.empty() && (key == "--source" || key == "--exclude"))
            throw UsageError{key + (key == "--source" ? " needs a directory" : " needs a pattern")};
        if (key == "--source")
            c.sources.push_back(value);
        else if (key == "--exclude")
            c.excludes.push_back(value);
    }
    const std::string mode = args.value("--mode", "mirror");
    if (mode == "snapshot")
        c.mode = Sync::Mode::Snapshot;
    else if (mode != "mirror")
        throw UsageError{"--mode is mirror or snapshot"};
    c.retention.keepLast = int(args.number("--keep-last", 0, Helper1::maxKeepCount));
    c.retention.keepDaily = int(args.number("--keep-daily", 0, Helper1::maxKeepCount));
    c.retention.keepWeekly = int(args.number("--keep-weekly", 0, Helper1::maxKeepCount));
    c.dryRun = args.has("--dry-run");
    c.checksum = args.has("--checksum");
    c.json = args.has("--json");
    return c;
}

// ---- the report, the same for both kinds ---------------------------------------------------------

void printWarnings(const Sync::Result &result)
{
    for (const Sync::Warning &w : result.warnings)
        std::fprintf(stderr, "warning: %s%s%s\n", printable(w.path).c_str(), w.path.empty() ? "" : ": ",
                     printable(w.message).c_str());
    if (result.warningsDropped)
        std::fprintf(stderr, "warning: %llu more warnings not shown\n", (unsigned long long)result.warningsDropped);
}

// A dry run: every change, then what it comes to and whether it fits.
void printPlan(const Sync::Plan &p)
{
    for (const Sync::PlanItem &item : p.items) {
        const char mark = item.action == Sync::PlanAction::Add ? '+'
            : item.action == Sync::PlanAction::Update          ? '~'
            : item.action == Sync::PlanAction::Metadata        ? '*'
                                                               : '-';
        std::printf("%c %c %s%s\n", mark, item.type, printable(item.path).c_str(),
                    item.bytes ? ("  (" + formatBytes(item.bytes) + ")").c_str() : "");
    }
    std::printf("Dry run: %llu to add, %llu to update, %llu metadata only, %llu to delete, "
                "%llu unchanged.\n%s to write, %s to free, %s free on the destination: %s.\n",
                (unsigned long long)p.added, (unsigned long long)p.updated, (unsigned long long)p.metadataOnly,
                (unsigned long long)p.deleted, (unsigned long long)p.unchanged, formatBytes(p.bytesToWrite).c_str(),
                formatBytes(p.bytesToDelete).c_str(), formatBytes(p.bytesFree).c_str(),
                p.fits ? "it fits" : "it does NOT fit");
}

// ---- sync --into DIR: the engine in this process -------------------------------------------------

std::atomic<bool> g_cancel{false};

void onSigint(int)
{
    g_cancel.store(true);
}

class EngineProgress
{
public:
    void operator()(const Sync::Progress &p)
    {
        const auto now = std::chrono::steady_clock::now();
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
            std::snprintf(buf, sizeof buf, "Copying: %llu/%llu items, %s/%s, %s/s", (unsigned long long)p.filesDone,
                          (unsigned long long)p.filesTotal, formatBytes(p.bytesDone).c_str(),
                          formatBytes(p.bytesTotal).c_str(), formatBytes(uint64_t(rate)).c_str());
            break;
        }
        case Sync::Phase::Delete:
            std::snprintf(buf, sizeof buf, "Removing old snapshots: %llu/%llu", (unsigned long long)p.filesDone,
                          (unsigned long long)p.filesTotal);
            break;
        case Sync::Phase::Flush:
            std::snprintf(buf, sizeof buf, "Flushing to disk...");
            break;
        case Sync::Phase::Done:
            clear();
            return;
        }
        m_line.show(buf, p.currentItem);
    }
    void clear() { m_line.clear(); }

private:
    ProgressLine m_line;
    std::chrono::steady_clock::time_point m_copyStart;
};

int runLocalSync(int argc, char **argv)
{
    const Args args(argc, argv,
                    syncArguments
                        + std::vector<Option>{{"--into", "a directory"},
                                              {"--as", "a name"},
                                              {"--no-xattrs", {}},
                                              {"--no-manifest", {}},
                                              {"--no-flush", {}},
                                              {"--help", {}}});
    const std::vector<std::string> &positional = args.positional();
    if (args.has("--help") || std::find(positional.begin(), positional.end(), "-h") != positional.end()) {
        std::printf("Usage: cofferctl sync %s\n", SyncUsage);
        return ExitCode::Ok;
    }
    if (!positional.empty())
        throw UsageError{"unknown argument '" + printable(positional[0], 200) + "'"};
    const Common common = commonOptions(args);
    Sync::Options opt;
    for (const auto &[key, value] : args.values()) {
        if (key == "--into" && value.empty())
            throw UsageError{"--into needs a directory"};
        if (key == "--source")
            opt.sources.push_back({value, baseName(value)});
        else if (key == "--as" && opt.sources.empty())
            throw UsageError{"--as NAME follows a --source"};
        else if (key == "--as")
            opt.sources.back().name = value;
    }
    opt.destination = args.value("--into");
    if (opt.destination.empty())
        throw UsageError{"--into DIR is required"};
    if (opt.sources.empty())
        throw UsageError{"at least one --source is required"};
    opt.mode = common.mode;
    opt.excludes = common.excludes;
    opt.retention = common.retention;
    opt.dryRun = common.dryRun;
    opt.checksum = common.checksum;
    opt.xattrs = !args.has("--no-xattrs");
    opt.useManifest = !args.has("--no-manifest");
    opt.durable = !args.has("--no-flush");

    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = onSigint;
    sa.sa_flags = SA_RESETHAND; // a second Ctrl-C kills
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    EngineProgress terminal;
    Sync::ProgressCallback progress;
    if (common.json)
        progress = [](const Sync::Progress &p) {
            const std::string line = Sync::toJsonLine(p);
            std::fwrite(line.data(), 1, line.size(), stdout);
            std::fflush(stdout);
        };
    else if (::isatty(STDERR_FILENO))
        progress = [&terminal](const Sync::Progress &p) { terminal(p); };

    Sync::Result result;
    try {
        result = Sync::run(opt, progress, &g_cancel);
    } catch (const Error &e) {
        if (common.json) {
            const std::string line = Sync::toJsonLine(Sync::errorReport(e));
            std::fwrite(line.data(), 1, line.size(), stdout);
        } else {
            terminal.clear();
            std::fprintf(stderr, "cofferctl sync: %s\n", printable(e.message()).c_str());
        }
        return exitCodeFor(e.code());
    }

    if (common.json) {
        const std::string line = Sync::toJsonLine(result);
        std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
        printWarnings(result);
        if (result.dryRun)
            printPlan(result.plan);
        else
            std::printf("Sync %s%s: %llu scanned, %llu copied (%s), %llu linked, %llu updated, %llu deleted%s.\n",
                        std::string(Sync::outcomeName(result.outcome)).c_str(),
                        result.snapshot.empty() ? "" : (" (snapshot " + result.snapshot + ")").c_str(),
                        (unsigned long long)result.filesScanned, (unsigned long long)result.filesCopied,
                        formatBytes(result.bytesCopied).c_str(), (unsigned long long)result.filesLinked,
                        (unsigned long long)result.itemsUpdated, (unsigned long long)result.filesDeleted,
                        result.outcome == Sync::Outcome::Cancelled ? ""
                            : result.durable                       ? "; on disk"
                                                                   : "; not flushed");
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

// ---- sync FILE: the helper syncs into the vault --------------------------------------------------

int runVaultSync(int argc, char **argv)
{
    const Args args(argc, argv,
                    syncArguments + passphraseOptions
                        + std::vector<Option>{{"--keyfile", "a file"}, {"--lock-after", {}}});
    if (args.positional().size() != 1)
        throw UsageError{std::string("usage: cofferctl sync ") + SyncUsage};
    const std::string file = args.positional()[0];
    const Common common = commonOptions(args);
    if (common.sources.empty())
        throw UsageError{"at least one --source DIR is required"};
    QStringList sources;
    for (const std::string &s : common.sources)
        sources << QString::fromLocal8Bit(s.c_str());
    Helper1::SyncOptions options;
    options.mode = common.mode;
    options.excludes = common.excludes;
    options.retention = common.retention;
    options.dryRun = common.dryRun;
    options.checksum = common.checksum;
    options.lockAfter = args.has("--lock-after");

    Client::HelperClient client;
    Client::VaultHandle *vault = waitForVault(client.vault(file));
    if (!vault->isUnlocked())
        wait(vault->unlock(unlockSecret(args, file)));
    Client::JobResult result;
    const int rc = watchJob(vault->sync(sources, options), "Syncing", common.json, &result);
    if (common.json || !result.sync)
        return rc;
    printWarnings(*result.sync);
    if (result.sync->dryRun) {
        printPlan(result.sync->plan);
        return rc == ExitCode::Ok && !result.sync->plan.fits ? ExitCode::NoSpace : rc;
    }
    std::printf("Synced %lld folder(s) into %s%s.\n", qint64(sources.size()), file.c_str(),
                options.lockAfter ? "; locked, safe to unplug" : "");
    return rc;
}

int runSync(int argc, char **argv)
{
    const bool local = std::any_of(argv + 1, argv + argc, [](const char *a) {
        return std::strncmp(a, "--into", 6) == 0 || !std::strcmp(a, "--help") || !std::strcmp(a, "-h");
    });
    return local ? runLocalSync(argc, argv) : runVaultSync(argc, argv);
}

} // namespace

COFFERCTL_COMMAND(sync, "sync", SyncUsage,
                  "Copy source directories into DIR (a vault's mount point) like rsync -aH --delete, "
                  "or into the vault in FILE",
                  runSync);

} // namespace Coffer::Ctl
