// cofferctl header-backup FILE OUT: save the vault's LUKS header (to keep off the drive).

#include "args.h"
#include "client/helperclient.h"
#include "command.h"
#include "wait.h"

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runHeaderBackup(int argc, char **argv)
{
    const Args args(argc, argv, {});
    if (args.positional().size() != 2)
        throw UsageError{"give FILE and OUT"};
    const std::string file = args.positional()[0];
    const std::string out = args.positional()[1];
    Client::HelperClient client;
    wait(waitForVault(client.vault(file))->backupHeader(out));
    std::printf("Saved the header of %s to %s. Keep it off the drive.\n", file.c_str(), out.c_str());
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(headerbackup, "header-backup", "FILE OUT", "Save the vault's LUKS header to OUT",
                  runHeaderBackup);

} // namespace Coffer::Ctl
