// cofferctl status: the user's unlocked vaults.

#include "args.h"
#include "client/helperclient.h"
#include "command.h"
#include "wait.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runStatus(int argc, char **argv)
{
    const Args args(argc, argv, {{"--json", {}}});
    if (!args.positional().empty())
        throw UsageError{"status takes no FILE"};
    Client::HelperClient client;
    wait(client.refreshVaults());
    const QList<Client::VaultHandle *> vaults = client.vaults();
    if (args.has("--json")) {
        QJsonArray list;
        for (const Client::VaultHandle *vault : vaults) {
            const Client::VaultInfo &v = vault->info();
            list.append(QJsonObject{{"id", v.id}, {"name", v.name}, {"backingFile", v.backingFile},
                                    {"mountPoint", v.mountPoint}, {"loopDevice", v.loopDevice},
                                    {"mapperDevice", v.mapperDevice}, {"ownerUid", qint64(v.ownerUid)},
                                    {"size", qint64(v.size)}, {"used", qint64(v.used)}});
        }
        std::printf("%s\n", QJsonDocument(QJsonObject{{"vaults", list}}).toJson(QJsonDocument::Compact).constData());
        return ExitCode::Ok;
    }
    if (vaults.isEmpty()) {
        std::printf("No vaults are unlocked.\n");
        return ExitCode::Ok;
    }
    for (const Client::VaultHandle *vault : vaults) {
        const Client::VaultInfo &v = vault->info();
        std::printf("%s\tunlocked at %s\t(%s, %llu MiB used of %llu MiB)\n", v.name.toUtf8().constData(),
                    v.mountPoint.toUtf8().constData(), v.backingFile.toUtf8().constData(), v.used >> 20,
                    v.size >> 20);
    }
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(status, "status", "[--json]", "List your unlocked vaults", runStatus);

} // namespace Coffer::Ctl
