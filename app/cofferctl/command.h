#pragma once

#include <string>
#include <string_view>
#include <vector>

// cofferctl's command table. A command is a function in its own cmd_<name>.cpp, registered with
// one line at namespace scope:
//
//     COFFERCTL_COMMAND(unlock, "unlock", "FILE [--keyfile F]", "Unlock a vault", runUnlock);
//
// run() gets the arguments after "cofferctl" (argv[0] is the command's name) and returns an exit
// code (ExitCode in core/error.h). It runs with a QCoreApplication; throwing Coffer::Error is
// fine (main() prints the message and exits with the code's exit code), and so is throwing
// UsageError (args.h).
namespace Coffer::Ctl {

struct Command
{
    std::string_view name;
    std::string_view usage;   // the arguments, for `cofferctl help`
    std::string_view summary; // one line
    int (*run)(int argc, char **argv);
};

std::vector<Command> &commands();

struct Registrar
{
    explicit Registrar(const Command &command) { commands().push_back(command); }
};

// Prints "cofferctl <command>: <message>" and a hint; returns ExitCode::Usage.
int usageError(std::string_view command, std::string_view message);

} // namespace Coffer::Ctl

#define COFFERCTL_COMMAND(ident, name, usage, summary, fn) \
    static const ::Coffer::Ctl::Registrar cofferctlCommand_##ident({name, usage, summary, fn})
