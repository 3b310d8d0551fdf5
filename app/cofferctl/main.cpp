// cofferctl: the command-line face of Coffer. Commands register themselves (command.h).

#include "command.h"
#include "exitcodes.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

namespace Coffer::Ctl {

std::vector<Command> &commands()
{
    static std::vector<Command> table;
    return table;
}

int exitCodeFor(ErrorCode code)
{
    switch (code) {
    case ErrorCode::NotAuthorized: return ExitCode::NotAuthorized;
    case ErrorCode::BadPassphrase: return ExitCode::BadPassphrase;
    case ErrorCode::Busy: return ExitCode::Busy;
    case ErrorCode::NoSpace: return ExitCode::NoSpace;
    case ErrorCode::InvalidArgument: return ExitCode::Usage;
    case ErrorCode::NotFound: return ExitCode::NotFound;
    case ErrorCode::Cancelled: return ExitCode::Cancelled;
    case ErrorCode::MediumGone: return ExitCode::MediumGone;
    case ErrorCode::NotSupported:
    case ErrorCode::Failed: return ExitCode::Failed;
    }
    return ExitCode::Failed;
}

std::string humanBytes(uint64_t bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

int usageError(std::string_view command, std::string_view message)
{
    std::fprintf(stderr, "cofferctl %.*s: %.*s\nTry 'cofferctl help'.\n", int(command.size()),
                 command.data(), int(message.size()), message.data());
    return ExitCode::Usage;
}

namespace {

void printHelp(FILE *out)
{
    std::fprintf(out, "Usage: cofferctl COMMAND [ARGS...]\n\nCommands:\n");
    std::vector<Command> sorted = commands();
    std::sort(sorted.begin(), sorted.end(),
              [](const Command &a, const Command &b) { return a.name < b.name; });
    for (const Command &c : sorted)
        std::fprintf(out, "  %-8.*s %.*s\n           %.*s\n", int(c.name.size()), c.name.data(),
                     int(c.usage.size()), c.usage.data(), int(c.summary.size()), c.summary.data());
    std::fprintf(out, "\nExit codes: 0 ok, 1 failed, 2 usage, 3 partial, 4 bad passphrase, "
                      "5 not authorized,\n6 busy, 7 cancelled, 8 no space, 9 not found, "
                      "10 medium gone. See cofferctl(1).\n");
}

} // namespace

} // namespace Coffer::Ctl

int main(int argc, char **argv)
{
    using namespace Coffer::Ctl;
    if (argc < 2) {
        printHelp(stderr);
        return Coffer::ExitCode::Usage;
    }
    const std::string_view name = argv[1];
    if (name == "help" || name == "--help" || name == "-h") {
        printHelp(stdout);
        return Coffer::ExitCode::Ok;
    }
    for (const Command &c : commands()) {
        if (c.name != name)
            continue;
        try {
            return c.run(argc - 1, argv + 1);
        } catch (const Coffer::Error &e) {
            std::fprintf(stderr, "cofferctl %s: %s\n", argv[1], e.what());
            return exitCodeFor(e.code());
        } catch (const std::exception &e) {
            std::fprintf(stderr, "cofferctl %s: %s\n", argv[1], e.what());
            return Coffer::ExitCode::Failed;
        }
    }
    return usageError(name, "unknown command");
}
