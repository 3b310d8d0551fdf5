// cofferctl passwd FILE: change a vault's passphrase (through the helper while it is unlocked,
// else on the user's own file).

#include "args.h"
#include "client/helperclient.h"
#include "command.h"
#include "terminal.h"
#include "wait.h"

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runPasswd(int argc, char **argv)
{
    const Args args(argc, argv,
                    passphraseOptions
                        + std::vector<Option>{{"--new-passphrase-file", "a file"},
                                              {"--new-passphrase-fd", "a file descriptor number"}});
    if (args.positional().size() != 1)
        throw UsageError{"give one FILE"};
    const std::string file = args.positional()[0];
    const auto current = Client::Secret::passphrase(readPassphrase(secretSource(args), "Current passphrase: "));
    const auto replacement = Client::Secret::passphrase(
        readPassphrase(secretSource(args, "--new-passphrase-file", "--new-passphrase-fd"), "New passphrase: ", true));
    Client::HelperClient client;
    wait(waitForVault(client.vault(file))->changePassphrase(current, replacement));
    std::printf("Changed the passphrase of %s.\n", file.c_str());
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(passwd, "passwd", "FILE [--passphrase-file F] [--new-passphrase-file F]",
                  "Change a vault's passphrase", runPasswd);

} // namespace Coffer::Ctl
