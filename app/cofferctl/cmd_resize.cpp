// cofferctl resize FILE --size SIZE: grow a vault (unlocked for it if it is locked).

#include "args.h"
#include "bytes.h"
#include "client/helperclient.h"
#include "command.h"
#include "terminal.h"
#include "wait.h"

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runResize(int argc, char **argv)
{
    const Args args(argc, argv, passphraseOptions + std::vector<Option>{{"--size", "a size"}});
    if (args.positional().size() != 1 || args.value("--size").empty())
        throw UsageError{"give FILE and --size SIZE"};
    const std::string file = args.positional()[0];
    const uint64_t size = parseBytes(args.value("--size"));
    const auto passphrase = Client::Secret::passphrase(readPassphrase(secretSource(args), "Passphrase: "));
    Client::HelperClient client;
    wait(waitForVault(client.vault(file))->resize(size, passphrase));
    std::printf("Resized %s.\n", file.c_str());
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(resize, "resize", "FILE --size SIZE [--passphrase-file F]", "Grow a vault",
                  runResize);

} // namespace Coffer::Ctl
