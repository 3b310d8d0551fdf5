// cofferctl add-key FILE --keyfile F: let a key file unlock the vault too.

#include "args.h"
#include "client/helperclient.h"
#include "command.h"
#include "terminal.h"
#include "wait.h"

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runAddKey(int argc, char **argv)
{
    const Args args(argc, argv, passphraseOptions + std::vector<Option>{{"--keyfile", "a file"}});
    if (args.positional().size() != 1 || args.value("--keyfile").empty())
        throw UsageError{"give FILE and --keyfile KEYFILE"};
    const std::string file = args.positional()[0];
    const auto existing = Client::Secret::passphrase(readPassphrase(secretSource(args), "Current passphrase: "));
    Client::HelperClient client;
    wait(waitForVault(client.vault(file))->addKey(existing, Client::Secret::keyFile(args.value("--keyfile"))));
    std::printf("Added the key file to %s.\n", file.c_str());
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(addkey, "add-key", "FILE --keyfile F [--passphrase-file F]",
                  "Let a key file unlock the vault too", runAddKey);

} // namespace Coffer::Ctl
