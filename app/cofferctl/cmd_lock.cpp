// cofferctl lock FILE | --all: lock vaults; then the drive is safe to unplug.

#include "args.h"
#include "client/helperclient.h"
#include "command.h"
#include "wait.h"

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runLock(int argc, char **argv)
{
    const Args args(argc, argv, {{"--all", {}}, {"--force", {}}});
    const bool all = args.has("--all");
    if (all != args.positional().empty())
        throw UsageError{"give one FILE, or --all"};
    Client::HelperClient client;
    if (all && !args.has("--force")) {
        wait(client.lockAll());
        return ExitCode::Ok;
    }
    QList<Client::VaultHandle *> targets;
    if (all) {
        wait(client.refreshVaults());
        targets = client.vaults();
    } else {
        const std::string file = args.positional()[0];
        Client::VaultHandle *vault = waitForVault(client.vault(file));
        if (!vault->isUnlocked())
            throw Error(ErrorCode::NotFound, file + " is not unlocked; run: cofferctl unlock " + file);
        targets.append(vault);
    }
    Helper1::LockOptions options;
    options.force = args.has("--force");
    for (Client::VaultHandle *vault : targets) {
        const QString name = vault->info().name;
        wait(vault->lock(options));
        std::printf("Locked %s; it is safe to unplug the drive.\n", name.toUtf8().constData());
    }
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(lock, "lock", "FILE | --all [--force]", "Lock a vault (or all of yours)", runLock);

} // namespace Coffer::Ctl
