// cofferctl unlock FILE: unlock a vault and print where it is mounted.

#include "args.h"
#include "client/helperclient.h"
#include "command.h"
#include "terminal.h"
#include "wait.h"

#include <QJsonDocument>

#include <cstdio>

namespace Coffer::Ctl {

namespace {

std::string jsonString(const QString &text)
{
    return QJsonDocument::fromVariant(QVariantList{text}).toJson(QJsonDocument::Compact).mid(1).chopped(1).toStdString();
}

int runUnlock(int argc, char **argv)
{
    const Args args(argc, argv, passphraseOptions + std::vector<Option>{{"--keyfile", "a file"}, {"--json", {}}, {"--stay-open-on-suspend", {}},
                                                                        {"--read-only", {}}});
    if (args.positional().size() != 1)
        throw UsageError{"give one FILE"};
    const std::string file = args.positional()[0];
    Client::HelperClient client;
    Client::VaultHandle *vault = waitForVault(client.vault(file));
    Helper1::UnlockOptions options;
    options.lockOnSuspend = !args.has("--stay-open-on-suspend");
    // Mounted read-only (and a sparse file that cannot grow is then allowed): to look, compare
    // or copy a file back out of a snapshot without changing the vault.
    options.readOnly = args.has("--read-only");
    wait(vault->unlock(unlockSecret(args, file), options));
    if (args.has("--json"))
        std::printf("{\"vault\":%s,\"mountPoint\":%s}\n", jsonString(vault->info().path).c_str(),
                    jsonString(vault->info().mountPoint).c_str());
    else
        std::printf("%s\n", vault->info().mountPoint.toUtf8().constData());
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(unlock, "unlock", "FILE [--keyfile F] [--passphrase-file F|--passphrase-fd N] [--read-only] [--stay-open-on-suspend] [--json]",
                  "Unlock a vault and print its mount point", runUnlock);

} // namespace Coffer::Ctl
