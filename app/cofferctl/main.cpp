// cofferctl: the command-line face of Coffer. Commands register themselves (command.h).

#include "args.h"
#include "command.h"
#include "error.h"

#include <QCoreApplication>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace Coffer::Ctl {

std::vector<Command> &commands()
{
    static std::vector<Command> table;
    return table;
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
        QCoreApplication app(argc, argv);
        try {
            return c.run(argc - 1, argv + 1);
        } catch (const UsageError &e) {
            return usageError(name, e.message);
        } catch (const Coffer::Error &e) {
            std::fprintf(stderr, "cofferctl %s: %s\n", argv[1], e.what());
            return Coffer::exitCodeFor(e.code());
        } catch (const std::exception &e) {
            std::fprintf(stderr, "cofferctl %s: %s\n", argv[1], e.what());
            return Coffer::ExitCode::Failed;
        }
    }
    return usageError(name, "unknown command");
}
