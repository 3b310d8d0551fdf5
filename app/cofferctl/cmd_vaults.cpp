// cofferctl vaults, register, unregister: the user's registry of vaults (core/config), which
// drive holds each one, what goes into it, and how stale it is.

#include "args.h"
#include "command.h"
#include "mediaview.h"
#include "terminal.h"

#include "block/uniquefd.h"
#include "block/vault.h"
#include "config/registry.h"
#include "config/registrydocument.h"
#include "desktop/passphrasestore.h"
#include "error.h"
#include "media/mediamonitor.h"
#include "media/vaultscan.h"

#include <QDir>
#include <QEventLoop>
#include <QFileInfo>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Coffer::Ctl {

namespace {

// ---- vaults ---------------------------------------------------------------------------------

int runVaults(int argc, char **argv)
{
    const Args args(argc, argv, {{"--json", {}}});
    if (!args.positional().empty())
        throw UsageError{"takes no arguments"};
    Config::Registry registry;
    registry.load(); // a broken file is the answer here: its error says where it was put
    for (const std::string &problem : registry.problems())
        std::fprintf(stderr, "cofferctl vaults: %s\n", problem.c_str());
    // Which drives are plugged in now, to say where each vault is.
    std::vector<Media::Medium> media;
    Media::MediaMonitor monitor;
    try {
        monitor.start();
        media = monitor.media();
    } catch (const Error &) {
        // No udev: the registry still lists, without saying what is plugged in.
    }
    if (registry.vaults().empty() && !args.has("--json"))
        std::printf("No vault is registered (cofferctl register FILE --source DIR).\n");
    for (const Config::VaultEntry &v : registry.vaults()) {
        const Config::Staleness staleness = registry.staleness(v);
        const auto on = std::find_if(media.begin(), media.end(), [&](const Media::Medium &m) { return v.medium.matches(m); });
        if (args.has("--json")) {
            QJsonObject o = entryJson(v, staleness);
            o.insert(QStringLiteral("present"), on != media.end());
            if (on != media.end())
                o.insert(QStringLiteral("device"), Config::bytesToJson(on->devNode));
            printJsonLine(o);
            continue;
        }
        std::printf("%s \"%s\": %s\n  on %s \"%s\" at %s%s\n  trigger %s, %s, %zu folder(s)\n", v.luksUuid.c_str(),
                    shown(v.name).c_str(), stalenessText(staleness).c_str(),
                    v.medium.fsUuid.empty() ? "drive" : ("drive " + shown(v.medium.fsUuid)).c_str(),
                    shown(v.medium.label).c_str(), shown(v.path).c_str(),
                    on != media.end() ? (" (plugged in: " + shown(on->devNode) + ")").c_str() : "",
                    Config::triggerName(v.trigger), Config::modeName(v.mode), v.sources.size());
    }
    return ExitCode::Ok;
}

// ---- register -------------------------------------------------------------------------------

// FILE's path below the medium's mount point.
std::string pathOnMedium(const std::string &file, const Media::Medium &medium)
{
    char resolved[PATH_MAX];
    if (!::realpath(file.c_str(), resolved))
        throw Error::fromErrno(errno, "Cannot resolve " + file);
    const std::string path = resolved;
    for (std::string root : medium.mountPoints) {
        if (root.empty() || root.back() != '/')
            root += '/';
        if (path.size() > root.size() && path.compare(0, root.size(), root) == 0)
            return path.substr(root.size());
    }
    throw Error(ErrorCode::NotFound, file + " is not below the drive's mount point.");
}

std::string absoluteDirectory(const std::string &dir)
{
    const QFileInfo info(QString::fromLocal8Bit(dir.c_str()));
    if (!info.isDir())
        throw Error(ErrorCode::NotFound, "--source " + dir + " is not a directory.");
    return QDir::cleanPath(info.absoluteFilePath()).toLocal8Bit().toStdString();
}

void storeInKeyring(const std::string &luksUuid, const SecretBuffer &passphrase)
{
    PassphraseStore store;
    QEventLoop loop;
    std::optional<Error> failed;
    store.store(QString::fromStdString(luksUuid), passphrase, [&](const Error *error) {
        if (error)
            failed = *error;
        loop.quit();
    });
    loop.exec();
    if (failed)
        throw *failed;
}

const char RegisterUsage[] =
    "FILE --source DIR [--source DIR ...] [--exclude PATTERN ...] [--mode mirror|snapshot]\n"
    "           [--keep-last N] [--keep-daily N] [--keep-weekly N] [--trigger ask|backup|manual]\n"
    "           [--keyfile F | --keyring [--passphrase-file F|--passphrase-fd N]] [--name NAME]\n"
    "           [--stay-open-on-suspend] [--stay-unlocked-after-sync]";

int runRegister(int argc, char **argv)
{
    const Args args(argc, argv,
                    passphraseOptions
                        + std::vector<Option>{{"--source", "a directory"}, {"--exclude", "a pattern"},
                                              {"--mode", "mirror or snapshot"}, {"--trigger", "ask, backup or manual"},
                                              {"--keyfile", "a file"}, {"--keyring", {}}, {"--name", "a name"},
                                              {"--keep-last", "a count"}, {"--keep-daily", "a count"},
                                              {"--keep-weekly", "a count"}, {"--stay-open-on-suspend", {}},
                                              {"--stay-unlocked-after-sync", {}}});
    if (args.positional().size() != 1)
        throw UsageError{std::string("usage: cofferctl register ") + RegisterUsage};
    const std::string file = args.positional()[0];
    if (args.has("--keyring") && !args.value("--keyfile").empty())
        throw UsageError{"give --keyfile or --keyring, not both"};

    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open " + file);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode))
        throw Error(ErrorCode::InvalidArgument, file + " is not a regular file.");
    const Media::LuksHeader header = readLuksHeader(fd.get(), file);

    Media::MediaMonitor monitor;
    monitor.start();
    const std::vector<Media::Medium> media = monitor.media();
    const Media::Medium *medium = mediumWithDevice(media, st.st_dev);
    if (!medium)
        throw Error(ErrorCode::NotFound, file + " is not on a USB drive Coffer sees (a mounted drive "
                                                "that udev tags coffer-media); register vaults on USB drives.");

    Config::Registry registry;
    registry.load();
    Config::VaultEntry entry = registry.vault(header.uuid).value_or(Config::VaultEntry{});
    entry.luksUuid = header.uuid;
    entry.name = args.value("--name", entry.name.empty() ? (header.name.empty() ? "vault" : header.name) : entry.name);
    entry.medium = Config::mediumRefOf(*medium);
    entry.path = pathOnMedium(file, *medium);
    entry.sources.clear();
    entry.excludes.clear();
    for (const auto &[key, value] : args.values()) {
        if (key == "--source")
            entry.sources.push_back(absoluteDirectory(value));
        else if (key == "--exclude")
            entry.excludes.push_back(value);
    }
    if (entry.sources.empty())
        throw UsageError{"at least one --source DIR is required"};
    if (const std::string mode = args.value("--mode"); !mode.empty()) {
        const std::optional<Sync::Mode> m = Config::modeFromName(QString::fromStdString(mode));
        if (!m)
            throw UsageError{"--mode is mirror or snapshot"};
        entry.mode = *m;
    }
    if (const std::string trigger = args.value("--trigger"); !trigger.empty()) {
        const std::optional<Config::Trigger> t = Config::triggerFromName(QString::fromStdString(trigger));
        if (!t)
            throw UsageError{"--trigger is ask, backup or manual"};
        entry.trigger = *t;
    }
    entry.retention.keepLast = int(args.number("--keep-last", uint64_t(entry.retention.keepLast), Helper1::maxKeepCount));
    entry.retention.keepDaily = int(args.number("--keep-daily", uint64_t(entry.retention.keepDaily), Helper1::maxKeepCount));
    entry.retention.keepWeekly = int(args.number("--keep-weekly", uint64_t(entry.retention.keepWeekly), Helper1::maxKeepCount));
    entry.lock.onSuspend = !args.has("--stay-open-on-suspend");
    entry.lock.afterSync = !args.has("--stay-unlocked-after-sync");

    // The secret the agent will use, checked against the vault's key slots now (as the user,
    // on the user's own file), so a plug never finds a wrong one.
    if (const std::string keyFile = args.value("--keyfile"); !keyFile.empty()) {
        entry.secretSource = Config::SecretSource::KeyFile;
        entry.keyFile = QFileInfo(QString::fromLocal8Bit(keyFile.c_str())).absoluteFilePath().toLocal8Bit().toStdString();
        UniqueFd key(::open(entry.keyFile.c_str(), O_RDONLY | O_CLOEXEC));
        if (!key)
            throw Error::fromErrno(errno, "Cannot open the key file " + keyFile);
        Vault::checkPassphrase(fd.get(), SecretBuffer::readFromFd(key.get(), 8 << 20));
    } else if (args.has("--keyring")) {
        const std::string prompt = "Passphrase for " + file + " (kept in your keyring): ";
        const SecretBuffer passphrase = readPassphrase(secretSource(args), prompt.c_str());
        Vault::checkPassphrase(fd.get(), passphrase);
        storeInKeyring(entry.luksUuid, passphrase);
        entry.secretSource = Config::SecretSource::Keyring;
        entry.keyFile.clear();
    } else {
        entry.secretSource = Config::SecretSource::Prompt;
        entry.keyFile.clear();
    }
    registry.putVault(entry);
    std::printf("Registered \"%s\" (%s) on %s at %s: trigger %s.\n", shown(entry.name).c_str(), entry.luksUuid.c_str(),
                mediumText(*medium).c_str(), shown(entry.path).c_str(), Config::triggerName(entry.trigger));
    return ExitCode::Ok;
}

int runUnregister(int argc, char **argv)
{
    const Args args(argc, argv, {});
    if (args.positional().size() != 1)
        throw UsageError{"give the vault's LUKS UUID (cofferctl vaults lists them)"};
    Config::Registry registry;
    registry.load();
    if (!registry.removeVault(args.positional()[0]))
        throw Error(ErrorCode::NotFound, "No vault with the UUID " + printable(args.positional()[0]) + " is registered.");
    std::printf("Unregistered %s.\n", args.positional()[0].c_str());
    return ExitCode::Ok;
}

} // namespace

COFFERCTL_COMMAND(vaults, "vaults", "[--json]", "List the registered vaults, where they are and how stale", runVaults);
COFFERCTL_COMMAND(register_, "register", RegisterUsage,
                  "Remember a vault on a USB drive: what to back up into it and what a plug does", runRegister);
COFFERCTL_COMMAND(unregister, "unregister", "LUKS-UUID", "Forget a registered vault (its file stays)", runUnregister);

} // namespace Coffer::Ctl
