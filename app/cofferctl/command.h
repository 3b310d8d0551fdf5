#pragma once

#include "error.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// cofferctl's command table. A command is a function in its own cmd_<name>.cpp, registered with
// one line at namespace scope:
//
//     COFFERCTL_COMMAND(unlock, "unlock", "BACKING [--keyfile FILE]", "Open a vault", runUnlock);
//
// run() gets the arguments after the command name (argv[0] is the command name) and returns an
// exit code from exitcodes.h. Throwing Coffer::Error is fine: main() prints the message and
// maps the code with exitCodeFor().
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

// The exit code for an error kind (exitcodes.h).
int exitCodeFor(ErrorCode code);

// Usage error: prints "cofferctl <command>: <message>" and a hint; returns ExitCode::Usage.
int usageError(std::string_view command, std::string_view message);

// "1.5 MiB": a byte count for people (powers of 1024).
std::string humanBytes(uint64_t bytes);

} // namespace Coffer::Ctl

#define COFFERCTL_COMMAND(ident, name, usage, summary, fn) \
    static const ::Coffer::Ctl::Registrar cofferctlCommand_##ident({name, usage, summary, fn})
