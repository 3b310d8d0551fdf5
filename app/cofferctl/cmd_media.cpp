// cofferctl media: the USB drives present now and the vaults on each (found by reading the
// headers of the files on a mounted drive, as the user), with what the registry says of them.

#include "args.h"
#include "command.h"
#include "mediaview.h"

#include "config/registry.h"
#include "error.h"
#include "media/mediamonitor.h"
#include "media/vaultscan.h"

#include <QJsonArray>

#include <cstdio>

namespace Coffer::Ctl {

namespace {

int runMedia(int argc, char **argv)
{
    const Args args(argc, argv, {{"--json", {}}});
    if (!args.positional().empty())
        throw UsageError{"takes no arguments"};
    const bool json = args.has("--json");
    Config::Registry registry;
    loadRegistry(registry);
    Media::MediaMonitor monitor;
    monitor.start();
    const std::vector<Media::Medium> media = monitor.media();
    if (media.empty() && !json)
        std::printf("No USB drive is plugged in.\n");
    for (const Media::Medium &medium : media) {
        const std::vector<Config::VaultEntry> registered = registry.vaultsOn(medium);
        std::vector<std::string> paths;
        for (const Config::VaultEntry &entry : registered)
            paths.push_back(entry.path);
        Media::ScanResult scan;
        std::string scanProblem;
        if (medium.mounted()) {
            try {
                scan = Media::scanMedium(medium, paths);
            } catch (const Error &e) {
                scanProblem = e.message();
            }
        }
        QJsonArray vaults;
        if (!json)
            std::printf("%s\n", mediumText(medium).c_str());
        for (const Media::FoundVault &found : scan.vaults) {
            const std::optional<Config::VaultEntry> entry = registry.vault(found.luksUuid);
            QJsonObject v = foundVaultJson(found);
            v.insert(QStringLiteral("registered"), entry.has_value());
            if (entry)
                v.insert(QStringLiteral("registry"), entryJson(*entry, registry.staleness(*entry)));
            vaults.append(v);
            if (json)
                continue;
            if (entry)
                std::printf("  vault %s \"%s\": registered, %s\n", shown(found.path).c_str(), shown(entry->name).c_str(),
                            stalenessText(registry.staleness(*entry)).c_str());
            else
                std::printf("  vault %s \"%s\" (LUKS%d%s): not registered (cofferctl register)\n", shown(found.path).c_str(),
                            shown(found.name).c_str(), found.luksVersion, found.coffer ? ", Coffer's" : "");
        }
        // Registered on this drive but not found where the registry says.
        QJsonArray missing;
        for (const Config::VaultEntry &entry : registered) {
            const bool seen = std::any_of(scan.vaults.begin(), scan.vaults.end(),
                                          [&](const Media::FoundVault &f) { return f.luksUuid == entry.luksUuid; });
            if (seen || !medium.mounted())
                continue;
            missing.append(entryJson(entry, registry.staleness(entry)));
            if (!json)
                std::printf("  vault \"%s\": registered at %s, not found there\n", shown(entry.name).c_str(),
                            shown(entry.path).c_str());
        }
        if (!json) {
            if (!medium.mounted() && !registered.empty())
                std::printf("  %zu registered vault(s) on it; mount the drive to reach them\n", registered.size());
            if (!scanProblem.empty())
                std::printf("  not searched: %s\n", shown(scanProblem).c_str());
            if (scan.truncated)
                std::printf("  (searched the first %zu entries only)\n", scan.entriesRead);
            continue;
        }
        QJsonObject o = mediumJson(medium);
        o.insert(QStringLiteral("vaults"), vaults);
        o.insert(QStringLiteral("registered-missing"), missing);
        o.insert(QStringLiteral("registered-count"), int(registered.size()));
        o.insert(QStringLiteral("scan-truncated"), scan.truncated);
        if (!scanProblem.empty())
            o.insert(QStringLiteral("scan-problem"), QString::fromStdString(scanProblem));
        printJsonLine(o);
    }
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(media, "media", "[--json]", "List the USB drives plugged in and the vaults on them", runMedia);

} // namespace Coffer::Ctl
