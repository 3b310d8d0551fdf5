// cofferctl's vault commands: create, unlock, lock, status, sync FILE (through the helper),
// passwd, add-key, header-backup, resize. Each talks to coffer-helper on the system bus
// (org.coffer.Helper1); secrets go over pipes, files as descriptors opened with the user's rights.

#include "block/vault.h"
#include "command.h"
#include "dbus/helper1.h"
#include "exitcodes.h"
#include "vaultclient.h"
#include "vaultcommands.h"

#include <QCoreApplication>
#include <QDBusObjectPath>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace Coffer::Ctl {

namespace {

// --name value / --name=value / flags / positionals, with per-command allowed sets.
struct Args
{
    std::vector<std::string> positional;
    std::multimap<std::string, std::string> values;
    std::set<std::string> flags;

    bool has(const std::string &flag) const { return flags.count(flag) > 0; }
    std::string value(const std::string &key, const std::string &def = {}) const
    {
        auto it = values.find(key);
        return it == values.end() ? def : it->second;
    }
    std::vector<std::string> all(const std::string &key) const
    {
        std::vector<std::string> out;
        for (auto [it, end] = values.equal_range(key); it != end; ++it)
            out.push_back(it->second);
        return out;
    }
};

struct UsageError
{
    std::string message;
};

Args parse(int argc, char **argv, const std::set<std::string> &withValue, const std::set<std::string> &flags)
{
    Args args;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0 || arg == "--") {
            args.positional.push_back(arg);
            continue;
        }
        std::string value;
        const size_t eq = arg.find('=');
        const bool inline_ = eq != std::string::npos;
        if (inline_) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
        }
        if (withValue.count(arg)) {
            if (!inline_) {
                if (i + 1 >= argc)
                    throw UsageError{arg + " needs a value"};
                value = argv[++i];
            }
            args.values.emplace(arg, value);
        } else if (flags.count(arg) && !inline_) {
            args.flags.insert(arg);
        } else {
            throw UsageError{"unknown option " + arg};
        }
    }
    return args;
}

const std::set<std::string> SecretOptions{"--passphrase-file", "--passphrase-fd"};

std::set<std::string> plus(std::set<std::string> a, const std::set<std::string> &b)
{
    a.insert(b.begin(), b.end());
    return a;
}

SecretSource secretSource(const Args &args, const char *fileKey = "--passphrase-file",
                          const char *fdKey = "--passphrase-fd")
{
    SecretSource s;
    s.file = args.value(fileKey);
    const std::string fd = args.value(fdKey);
    if (!fd.empty()) {
        char *end = nullptr;
        const long n = std::strtol(fd.c_str(), &end, 10);
        if (!end || *end || n < 0 || n > 65535)
            throw UsageError{std::string(fdKey) + " needs a file descriptor number"};
        s.fd = int(n);
    }
    return s;
}

UniqueFd openBacking(const std::string &file)
{
    // O_NOFOLLOW: a symlink is refused here already (the helper would refuse its target if it
    // were someone else's file anyway).
    UniqueFd fd(::open(file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        throw Error::fromErrno(errno == ENOENT ? ErrorCode::NotFound : errorCodeForErrno(errno), errno,
                               "Cannot open " + file);
    return fd;
}

std::string absolute(const std::string &path)
{
    return QFileInfo(QString::fromLocal8Bit(path.c_str())).absoluteFilePath().toLocal8Bit().toStdString();
}

const QString Manager = QString::fromLatin1(Helper1::ManagerPath);
const QString ManagerIface = QString::fromLatin1(Helper1::ManagerInterface);
const QString VaultIface = QString::fromLatin1(Helper1::VaultInterface);

// Unlocks FILE with the secret behind `secret`; returns (vault path, mount point).
std::pair<QString, QString> unlockWith(const std::string &file, const QDBusUnixFileDescriptor &secret)
{
    UniqueFd backing = openBacking(file);
    const QDBusMessage reply = callHelper(Manager, ManagerIface, QStringLiteral("Unlock"),
                                          {QVariant::fromValue(QDBusUnixFileDescriptor(backing.get())),
                                           QVariant::fromValue(secret), QVariantMap()});
    const auto a = reply.arguments();
    return {a.value(0).value<QDBusObjectPath>().path(), a.value(1).toString()};
}

std::pair<QString, QString> unlockFile(const std::string &file, const SecretSource &source,
                                       const std::string &keyfile)
{
    if (!keyfile.empty())
        return unlockWith(file, keyFileFd(keyfile));
    const std::string prompt = "Passphrase for " + file + ": ";
    SecretBuffer pass = readPassphrase(source, prompt.c_str());
    return unlockWith(file, secretPipe(pass));
}

VaultInfo requireOpen(const std::string &file)
{
    auto v = findVault(file);
    if (!v)
        throw Error(ErrorCode::NotFound, file + " is not unlocked; run: cofferctl unlock " + file);
    return *v;
}

int withUsage(const char *command, const std::function<int()> &body)
{
    try {
        return body();
    } catch (const UsageError &e) {
        return usageError(command, e.message);
    }
}

// ---- create --------------------------------------------------------------------------------

int runCreate(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("create", [&] {
        const Args args = parse(argc, argv,
                                plus(SecretOptions, {"--size", "--name", "--keyfile", "--pbkdf-memory-kib",
                                                     "--pbkdf-iter-ms", "--pbkdf-iterations"}),
                                {"--json"});
        if (args.positional.size() != 1)
            throw UsageError{"give one FILE"};
        const std::string file = args.positional[0];
        if (args.value("--size").empty())
            throw UsageError{"--size SIZE is required (e.g. --size 1G)"};
        const uint64_t size = parseSize(args.value("--size"));
        std::string name = args.value("--name");
        if (name.empty())
            name = QFileInfo(QString::fromLocal8Bit(file.c_str())).completeBaseName().toStdString();
        QVariantMap options{{QStringLiteral("label"), QString::fromStdString(name)}};
        for (const char *key : {"pbkdf-memory-kib", "pbkdf-iter-ms", "pbkdf-iterations"}) {
            const std::string v = args.value(std::string("--") + key);
            if (!v.empty())
                options.insert(QString::fromLatin1(key), uint(std::stoul(v)));
        }
        if (!args.value("--keyfile").empty())
            options.insert(QStringLiteral("keyfile"), QVariant::fromValue(keyFileFd(args.value("--keyfile"))));
        SecretBuffer pass = readPassphrase(secretSource(args), "New passphrase: ", true);

        // A new, empty file of our own (not a symlink).
        UniqueFd backing(::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!backing)
            throw Error::fromErrno(errno == EEXIST ? ErrorCode::InvalidArgument : errorCodeForErrno(errno),
                                   errno, "Cannot create " + file + " (it must not exist yet)");
        bool ok = false;
        struct Cleanup
        {
            const std::string &file;
            bool &ok;
            ~Cleanup()
            {
                if (!ok)
                    ::unlink(file.c_str());
            }
        } cleanup{file, ok};
        const QDBusMessage reply = callHelper(Manager, ManagerIface, QStringLiteral("CreateVault"),
                                              {QVariant::fromValue(QDBusUnixFileDescriptor(backing.get())),
                                               QVariant::fromValue(qulonglong(size)),
                                               QVariant::fromValue(secretPipe(pass)), options});
        pass.wipe();
        const QString job = reply.arguments().value(0).value<QDBusObjectPath>().path();
        const int rc = waitForJob(job, "Creating", args.has("--json"));
        ok = rc == ExitCode::Ok;
        if (ok && !args.has("--json"))
            std::printf("Created %s (%s).\n", file.c_str(), name.c_str());
        return rc;
    });
}

// ---- unlock / lock / status -----------------------------------------------------------------

int runUnlock(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("unlock", [&] {
        const Args args = parse(argc, argv, plus(SecretOptions, {"--keyfile"}), {"--json"});
        if (args.positional.size() != 1)
            throw UsageError{"give one FILE"};
        const auto [path, mountPoint] = unlockFile(args.positional[0], secretSource(args), args.value("--keyfile"));
        if (args.has("--json"))
            std::printf("{\"vault\":%s,\"mountPoint\":%s}\n", jsonString(path).c_str(),
                        jsonString(mountPoint).c_str());
        else
            std::printf("%s\n", mountPoint.toUtf8().constData());
        return ExitCode::Ok;
    });
}

int runLock(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("lock", [&] {
        const Args args = parse(argc, argv, {}, {"--all", "--force"});
        const bool all = args.has("--all");
        if (all != args.positional.empty())
            throw UsageError{"give one FILE, or --all"};
        const QVariantMap options{{QStringLiteral("force"), args.has("--force")}};
        if (all && !args.has("--force")) {
            callHelper(Manager, ManagerIface, QStringLiteral("LockAll"), {});
            return ExitCode::Ok;
        }
        std::vector<VaultInfo> targets;
        if (all)
            targets = listVaults();
        else
            targets.push_back(requireOpen(args.positional[0]));
        for (const VaultInfo &v : targets) {
            callHelper(v.path, VaultIface, QStringLiteral("Lock"), {options});
            std::printf("Locked %s; it is safe to unplug the drive.\n", v.name.toUtf8().constData());
        }
        return ExitCode::Ok;
    });
}

int runStatus(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("status", [&] {
        const Args args = parse(argc, argv, {}, {"--json"});
        if (!args.positional.empty())
            throw UsageError{"status takes no FILE"};
        const std::vector<VaultInfo> vaults = listVaults();
        if (args.has("--json")) {
            QJsonArray list;
            for (const VaultInfo &v : vaults) {
                list.append(QJsonObject{{"id", v.id}, {"name", v.name}, {"backingFile", v.backingFile},
                                        {"mountPoint", v.mountPoint}, {"loopDevice", v.loopDevice},
                                        {"mapperDevice", v.mapperDevice}, {"ownerUid", qint64(v.ownerUid)},
                                        {"size", qint64(v.size)}, {"used", qint64(v.used)}});
            }
            std::printf("%s\n", QJsonDocument(QJsonObject{{"vaults", list}}).toJson(QJsonDocument::Compact).constData());
            return ExitCode::Ok;
        }
        if (vaults.empty()) {
            std::printf("No vaults are unlocked.\n");
            return ExitCode::Ok;
        }
        for (const VaultInfo &v : vaults)
            std::printf("%s\tunlocked at %s\t(%s, %llu MiB used of %llu MiB)\n", v.name.toUtf8().constData(),
                        v.mountPoint.toUtf8().constData(), v.backingFile.toUtf8().constData(),
                        v.used >> 20, v.size >> 20);
        return ExitCode::Ok;
    });
}

// ---- key management ---------------------------------------------------------------------------

int runPasswd(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("passwd", [&] {
        const Args args = parse(argc, argv,
                                plus(SecretOptions, {"--new-passphrase-file", "--new-passphrase-fd"}), {});
        if (args.positional.size() != 1)
            throw UsageError{"give one FILE"};
        const std::string file = args.positional[0];
        SecretBuffer oldPass = readPassphrase(secretSource(args), "Current passphrase: ");
        SecretBuffer newPass = readPassphrase(secretSource(args, "--new-passphrase-file", "--new-passphrase-fd"),
                                              "New passphrase: ", true);
        if (auto v = findVault(file)) {
            callHelper(v->path, VaultIface, QStringLiteral("ChangePassphrase"),
                       {QVariant::fromValue(secretPipe(oldPass)), QVariant::fromValue(secretPipe(newPass))});
        } else {
            // Locked: the header is in the user's own file; no privileges needed.
            UniqueFd backing = openBacking(file);
            Vault::changePassphrase(backing.get(), oldPass, newPass);
        }
        std::printf("Changed the passphrase of %s.\n", file.c_str());
        return ExitCode::Ok;
    });
}

int runAddKey(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("add-key", [&] {
        const Args args = parse(argc, argv, plus(SecretOptions, {"--keyfile"}), {});
        if (args.positional.size() != 1 || args.value("--keyfile").empty())
            throw UsageError{"give FILE and --keyfile KEYFILE"};
        const std::string file = args.positional[0];
        SecretBuffer pass = readPassphrase(secretSource(args), "Current passphrase: ");
        if (auto v = findVault(file)) {
            callHelper(v->path, VaultIface, QStringLiteral("AddKey"),
                       {QVariant::fromValue(secretPipe(pass)), QVariant::fromValue(keyFileFd(args.value("--keyfile")))});
        } else {
            UniqueFd backing = openBacking(file);
            UniqueFd key(::open(args.value("--keyfile").c_str(), O_RDONLY | O_CLOEXEC));
            if (!key)
                throw Error::fromErrno(errno, "Cannot open the key file");
            SecretBuffer keyData = SecretBuffer::readFromFd(key.get());
            Vault::addKey(backing.get(), pass, keyData);
        }
        std::printf("Added the key file to %s.\n", file.c_str());
        return ExitCode::Ok;
    });
}

int runHeaderBackup(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("header-backup", [&] {
        const Args args = parse(argc, argv, {}, {});
        if (args.positional.size() != 2)
            throw UsageError{"give FILE and OUT"};
        const std::string file = args.positional[0];
        const std::string out = args.positional[1];
        UniqueFd outFd(::open(out.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!outFd)
            throw Error::fromErrno(errno == EEXIST ? ErrorCode::InvalidArgument : errorCodeForErrno(errno), errno,
                                   "Cannot create " + out + " (it must not exist yet)");
        try {
            if (auto v = findVault(file)) {
                callHelper(v->path, VaultIface, QStringLiteral("BackupHeader"),
                           {QVariant::fromValue(QDBusUnixFileDescriptor(outFd.get()))});
            } else {
                UniqueFd backing(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
                if (!backing)
                    throw Error::fromErrno(errno, "Cannot open " + file);
                Vault::backupHeader(backing.get(), outFd.get());
            }
        } catch (...) {
            ::unlink(out.c_str());
            throw;
        }
        std::printf("Saved the header of %s to %s. Keep it off the drive.\n", file.c_str(), out.c_str());
        return ExitCode::Ok;
    });
}

int runResize(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("resize", [&] {
        const Args args = parse(argc, argv, plus(SecretOptions, {"--size"}), {});
        if (args.positional.size() != 1 || args.value("--size").empty())
            throw UsageError{"give FILE and --size SIZE"};
        const std::string file = args.positional[0];
        const uint64_t size = parseSize(args.value("--size"));
        SecretBuffer pass = readPassphrase(secretSource(args), "Passphrase: ");
        // Growing needs the vault attached: unlock it for the resize if it is locked, and lock
        // it again afterwards.
        std::optional<VaultInfo> v = findVault(file);
        const bool unlockedHere = !v;
        QString path = v ? v->path : unlockWith(file, secretPipe(pass)).first;
        try {
            callHelper(path, VaultIface, QStringLiteral("Resize"),
                       {QVariant::fromValue(qulonglong(size)), QVariant::fromValue(secretPipe(pass))});
        } catch (...) {
            if (unlockedHere)
                callHelper(path, VaultIface, QStringLiteral("Lock"), {QVariantMap()});
            throw;
        }
        if (unlockedHere)
            callHelper(path, VaultIface, QStringLiteral("Lock"), {QVariantMap()});
        std::printf("Resized %s.\n", file.c_str());
        return ExitCode::Ok;
    });
}

// ---- sync through the helper -------------------------------------------------------------------

const char VaultSyncUsage[] = "FILE --source DIR [--source DIR ...] [--mode mirror|snapshot] "
                              "[--exclude PATTERN ...] [--lock-after] [--json] [--passphrase-file F]";

} // namespace

int runVaultSync(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    return withUsage("sync", [&] {
        const Args args = parse(argc, argv,
                                plus(SecretOptions, {"--source", "--mode", "--exclude", "--keyfile",
                                                     "--keep-last", "--keep-daily", "--keep-weekly"}),
                                {"--lock-after", "--json", "--checksum", "--dry-run"});
        if (args.positional.size() != 1)
            throw UsageError{std::string("usage: cofferctl sync ") + VaultSyncUsage};
        const std::string file = args.positional[0];
        QStringList sources;
        for (const std::string &s : args.all("--source"))
            sources << QString::fromLocal8Bit(absolute(s).c_str());
        if (sources.isEmpty())
            throw UsageError{"at least one --source DIR is required"};
        QVariantMap options{{QStringLiteral("mode"), QString::fromStdString(args.value("--mode", "mirror"))}};
        QStringList excludes;
        for (const std::string &e : args.all("--exclude"))
            excludes << QString::fromStdString(e);
        if (!excludes.isEmpty())
            options.insert(QStringLiteral("exclude"), excludes);
        if (args.has("--lock-after"))
            options.insert(QStringLiteral("lock-after"), true);
        if (args.has("--checksum"))
            options.insert(QStringLiteral("checksum"), true);
        if (args.has("--dry-run"))
            options.insert(QStringLiteral("dry-run"), true);
        for (const char *key : {"keep-last", "keep-daily", "keep-weekly"}) {
            const std::string v = args.value(std::string("--") + key);
            if (!v.empty())
                options.insert(QString::fromLatin1(key), uint(std::stoul(v)));
        }
        std::optional<VaultInfo> v = findVault(file);
        QString vaultPath = v ? v->path : QString();
        if (!v)
            vaultPath = unlockFile(file, secretSource(args), args.value("--keyfile")).first;
        const QDBusMessage reply = callHelper(vaultPath, VaultIface, QStringLiteral("Sync"),
                                              {sources, options});
        const QString job = reply.arguments().value(0).value<QDBusObjectPath>().path();
        const int rc = waitForJob(job, "Syncing", args.has("--json"));
        if ((rc == ExitCode::Ok || rc == ExitCode::Partial) && !args.has("--json"))
            std::printf("Synced %lld folder(s) into %s%s.\n", qint64(sources.size()), file.c_str(),
                        args.has("--lock-after") ? "; locked, safe to unplug" : "");
        return rc;
    });
}

COFFERCTL_COMMAND(create, "create",
                  "FILE --size SIZE [--name NAME] [--keyfile F] [--passphrase-file F|--passphrase-fd N] [--json]",
                  "Create a new encrypted vault file", runCreate);
COFFERCTL_COMMAND(unlock, "unlock", "FILE [--keyfile F] [--passphrase-file F|--passphrase-fd N] [--json]",
                  "Unlock a vault and print its mount point", runUnlock);
COFFERCTL_COMMAND(lock, "lock", "FILE | --all [--force]", "Lock a vault (or all of yours)", runLock);
COFFERCTL_COMMAND(status, "status", "[--json]", "List your unlocked vaults", runStatus);
COFFERCTL_COMMAND(passwd, "passwd", "FILE [--passphrase-file F] [--new-passphrase-file F]",
                  "Change a vault's passphrase", runPasswd);
COFFERCTL_COMMAND(addkey, "add-key", "FILE --keyfile F [--passphrase-file F]",
                  "Let a key file unlock the vault too", runAddKey);
COFFERCTL_COMMAND(headerbackup, "header-backup", "FILE OUT", "Save the vault's LUKS header to OUT",
                  runHeaderBackup);
COFFERCTL_COMMAND(resize, "resize", "FILE --size SIZE [--passphrase-file F]", "Grow an unlocked vault",
                  runResize);

} // namespace Coffer::Ctl
