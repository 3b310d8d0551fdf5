// cofferctl create FILE --size SIZE: a new vault file, made by the helper.

#include "args.h"
#include "bytes.h"
#include "client/helperclient.h"
#include "command.h"
#include "progress.h"
#include "terminal.h"

#include <QFileInfo>

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runCreate(int argc, char **argv)
{
    const Args args(argc, argv,
                    passphraseOptions
                        + std::vector<Option>{{"--size", "a size"},
                                              {"--name", "a name"},
                                              {"--keyfile", "a file"},
                                              {"--pbkdf-memory-kib", "a number"},
                                              {"--pbkdf-iter-ms", "a number"},
                                              {"--pbkdf-iterations", "a number"},
                                              {"--json", {}}});
    if (args.positional().size() != 1)
        throw UsageError{"give one FILE"};
    const std::string file = args.positional()[0];
    if (args.value("--size").empty())
        throw UsageError{"--size SIZE is required (e.g. --size 1G)"};
    const uint64_t size = parseBytes(args.value("--size"));
    std::string name = args.value("--name");
    if (name.empty())
        name = QFileInfo(QString::fromLocal8Bit(file.c_str())).completeBaseName().toStdString();
    Helper1::CreateOptions options;
    options.label = QString::fromStdString(name);
    options.pbkdf.memoryKiB = uint32_t(args.number("--pbkdf-memory-kib", 0, UINT32_MAX));
    options.pbkdf.iterMs = uint32_t(args.number("--pbkdf-iter-ms", 0, UINT32_MAX));
    options.pbkdf.iterations = uint32_t(args.number("--pbkdf-iterations", 0, UINT32_MAX));
    if (!args.value("--keyfile").empty())
        options.keyFile = Client::keyFileFd(args.value("--keyfile"));
    const Client::Secret passphrase =
        Client::Secret::passphrase(readPassphrase(secretSource(args), "New passphrase: ", true));

    Client::HelperClient client;
    const int rc = watchJob(client.createVault(file, size, passphrase, options), "Creating", args.has("--json"));
    if (rc == ExitCode::Ok && !args.has("--json"))
        std::printf("Created %s (%s).\n", file.c_str(), name.c_str());
    return rc;
}

} // namespace

COFFERCTL_COMMAND(create, "create",
                  "FILE --size SIZE [--name NAME] [--keyfile F] [--passphrase-file F|--passphrase-fd N] [--json]",
                  "Create a new encrypted vault file", runCreate);

} // namespace Coffer::Ctl
