// cofferctl agent: the plug flow without a tray (issue 12). It watches the drives as the user;
// when a drive holding a registered vault is plugged in and mounted, it does what the vault's
// trigger says (core/config/plugdecision.h): back up at once with the key file or the keyring's
// passphrase, or after asking on this terminal; unlock, sync, lock as the vault's policy says,
// and record the sync in the registry. It never mounts a drive unless asked to (--mount), and
// then only through udisks, as the user.

#include "args.h"
#include "command.h"
#include "mediaview.h"
#include "progress.h"
#include "terminal.h"
#include "wait.h"

#include "block/uniquefd.h"
#include "bytes.h"
#include "client/helperclient.h"
#include "config/plugdecision.h"
#include "config/registry.h"
#include "desktop/passphrasestore.h"
#include "error.h"
#include "media/mediamonitor.h"
#include "media/vaultscan.h"

#include <QCoreApplication>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QEventLoop>
#include <QTimer>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <set>
#include <unistd.h>

namespace Coffer::Ctl {

namespace {

void say(const std::string &line)
{
    std::printf("agent: %s\n", line.c_str());
    std::fflush(stdout);
}

Helper1::JobOutcome outcomeOfExit(int rc)
{
    switch (rc) {
    case ExitCode::Ok: return Helper1::JobOutcome::Ok;
    case ExitCode::Partial: return Helper1::JobOutcome::Partial;
    case ExitCode::Cancelled: return Helper1::JobOutcome::Cancelled;
    default: return Helper1::JobOutcome::Failed;
    }
}

// udisks' object path for a block device: its kernel name, with anything but [A-Za-z0-9_]
// written as _xx (udisks_safe_append_to_object_path).
QString udisksBlockPath(const std::string &devNode)
{
    QString path = QStringLiteral("/org/freedesktop/UDisks2/block_devices/");
    for (unsigned char c : devNode.substr(devNode.rfind('/') + 1)) {
        if (std::isalnum(c) || c == '_')
            path += QLatin1Char(char(c));
        else
            path += QStringLiteral("_%1").arg(uint(c), 2, 16, QLatin1Char('0'));
    }
    return path;
}

class Agent : public QObject
{
public:
    explicit Agent(const Args &args)
        : m_interactive(!args.has("--no-prompt") && ::isatty(STDIN_FILENO))
        , m_mount(args.has("--mount"))
        , m_once(args.has("--once"))
    {
    }

    void start()
    {
        loadRegistry(m_registry);
        m_registry.watch();
        connect(&m_monitor, &Media::MediaMonitor::mediumAdded, this, [this](const Media::Medium &m) {
            say("drive " + mediumText(m) + " came");
            enqueue(m);
        });
        connect(&m_monitor, &Media::MediaMonitor::mediumChanged, this, [this](const Media::Medium &m) {
            if (m.mounted() && m_waitingForMount.erase(m.devnum))
                enqueue(m);
        });
        connect(&m_monitor, &Media::MediaMonitor::mediumRemoved, this, [this](const Media::Medium &m) {
            m_waitingForMount.erase(m.devnum);
            say("drive " + shown(m.devNode) + " went");
        });
        m_monitor.start();
        say(std::string("watching for drives") + (m_interactive ? "" : " (no terminal: nothing is asked)"));
    }

    int exitCode() const { return m_exitCode; }

private:
    void enqueue(const Media::Medium &medium)
    {
        m_queue.push_back(medium);
        if (m_busy)
            return; // the drive in hand is done first (a backup runs a nested event loop)
        m_busy = true;
        while (!m_queue.empty()) {
            const Media::Medium next = m_queue.front();
            m_queue.pop_front();
            process(next);
        }
        m_busy = false;
    }

    void process(const Media::Medium &medium)
    {
        const std::vector<Config::VaultEntry> vaults = m_registry.vaultsOn(medium);
        if (vaults.empty()) {
            reportUnknown(medium);
            return;
        }
        bool needsMount = false;
        for (const Config::VaultEntry &entry : vaults) {
            const Config::PlugDecision d = Config::decidePlug(entry, medium, m_interactive);
            const std::string name = "\"" + shown(entry.name) + "\"";
            switch (d.action) {
            case Config::PlugAction::Nothing:
                say(name + ": nothing to do: " + d.reason);
                break;
            case Config::PlugAction::CannotAsk:
                say(name + ": not backed up: " + d.reason);
                break;
            case Config::PlugAction::NeedsMount:
                needsMount = true;
                break;
            case Config::PlugAction::Ask:
                if (confirm(entry))
                    backUp(entry, d);
                else
                    say(name + ": not now");
                break;
            case Config::PlugAction::BackUp:
                backUp(entry, d);
                break;
            }
        }
        if (needsMount) {
            m_waitingForMount.insert(medium.devnum);
            if (m_mount)
                mountThroughUdisks(medium);
            else
                say("drive " + shown(medium.devNode) + " holds registered vaults and is not mounted: mount it "
                    "(or run cofferctl agent --mount, with udisks running)");
            return;
        }
        if (m_once)
            QTimer::singleShot(0, qApp, &QCoreApplication::quit);
    }

    // Vaults on a drive the registry does not name: say how to add them.
    void reportUnknown(const Media::Medium &medium)
    {
        if (!medium.mounted())
            return;
        Media::ScanResult scan;
        try {
            scan = Media::scanMedium(medium);
        } catch (const Error &e) {
            say("drive " + shown(medium.devNode) + " not searched for vaults: " + e.message());
            return;
        }
        for (const Media::FoundVault &found : scan.vaults) {
            if (m_registry.vault(found.luksUuid))
                continue;
            const std::optional<std::string> file = Config::vaultFileOn(medium, found.path);
            say("drive " + shown(medium.devNode) + " holds a vault Coffer does not know: " + shown(found.path) + " \""
                + shown(found.name) + "\"; to back up into it: cofferctl register " + shown(file.value_or(found.path))
                + " --source DIR");
        }
    }

    bool confirm(const Config::VaultEntry &entry)
    {
        std::printf("Back up \"%s\" now (%zu folder(s))? [Y/n] ", shown(entry.name).c_str(), entry.sources.size());
        std::fflush(stdout);
        char line[64] = {};
        if (!std::fgets(line, sizeof line, stdin))
            return false;
        return line[0] == '\n' || line[0] == 'y' || line[0] == 'Y';
    }

    Client::Secret secretFor(const Config::VaultEntry &entry, Config::SecretSource source)
    {
        if (source == Config::SecretSource::KeyFile)
            return Client::Secret::keyFile(entry.keyFile);
        if (source == Config::SecretSource::Keyring) {
            PassphraseStore store;
            QEventLoop loop;
            SecretBuffer secret;
            std::optional<Error> failed;
            store.load(QString::fromStdString(entry.luksUuid), [&](SecretBuffer s, const Error *error) {
                if (error)
                    failed = *error;
                else
                    secret = std::move(s);
                loop.quit();
            });
            loop.exec();
            if (!failed)
                return Client::Secret::passphrase(std::move(secret));
            if (!m_interactive)
                throw *failed;
            say("\"" + shown(entry.name) + "\": the keyring has no passphrase for it (" + failed->message() + "); asking");
        }
        const std::string prompt = "Passphrase for \"" + shown(entry.name) + "\": ";
        return Client::Secret::passphrase(readPassphrase(SecretSource{}, prompt.c_str()));
    }

    void backUp(const Config::VaultEntry &entry, const Config::PlugDecision &d)
    {
        const std::string name = "\"" + shown(entry.name) + "\"";
        say(name + ": backing up " + std::to_string(entry.sources.size()) + " folder(s) into " + shown(d.file));
        try {
            // The file at the registered path must be this very vault (a drive with the same
            // label, or a file put there since, is not).
            UniqueFd fd(::open(d.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW));
            if (!fd)
                throw Error::fromErrno(errno, "Cannot open " + shown(d.file));
            if (readLuksHeader(fd.get(), d.file).uuid != entry.luksUuid)
                throw Error(ErrorCode::NotFound, "The file at the registered path is another vault.");
            fd.reset();
            Client::VaultHandle *vault = waitForVault(m_client.vault(d.file));
            if (!vault->isUnlocked()) {
                Helper1::UnlockOptions unlock;
                unlock.lockOnSuspend = entry.lock.onSuspend;
                wait(vault->unlock(secretFor(entry, d.secret), unlock));
            }
            Helper1::SyncOptions options;
            options.mode = entry.mode;
            options.excludes = entry.excludes;
            options.retention = entry.retention;
            options.lockAfter = entry.lock.afterSync;
            QStringList sources;
            for (const std::string &s : entry.sources)
                sources << QString::fromLocal8Bit(s.c_str());
            Client::JobResult result;
            const int rc = watchJob(vault->sync(sources, options), "Backing up", false, &result);
            Config::SyncRecord record;
            record.time = QDateTime::currentDateTimeUtc();
            record.outcome = outcomeOfExit(rc);
            if (result.sync) {
                record.bytes = result.sync->bytesCopied;
                record.files = result.sync->filesCopied;
            }
            m_registry.recordSync(entry.luksUuid, record);
            m_exitCode = rc;
            if (rc == ExitCode::MediumGone)
                say(name + ": the drive was removed during the backup; plug it back in and it starts again");
            else if (rc != ExitCode::Ok && rc != ExitCode::Partial)
                say(name + ": backup failed");
            else
                say(name + ": backed up (" + std::to_string(record.files) + " file(s), " + formatBytes(record.bytes)
                    + " copied" + (rc == ExitCode::Partial ? ", some items skipped" : "") + ")"
                    + (entry.lock.afterSync ? "; locked, safe to unplug" : "; left unlocked"));
        } catch (const Error &e) {
            m_exitCode = exitCodeFor(e.code());
            say(name + ": not backed up: " + e.message());
        }
    }

    void mountThroughUdisks(const Media::Medium &medium)
    {
        const QString service = QStringLiteral("org.freedesktop.UDisks2");
        QDBusConnection bus = QDBusConnection::systemBus();
        if (!bus.isConnected() || !bus.interface()->isServiceRegistered(service).value()) {
            say("drive " + shown(medium.devNode) + " is not mounted, and udisks is not running to mount it; mount it yourself");
            return;
        }
        say("asking udisks to mount " + shown(medium.devNode));
        QDBusMessage call = QDBusMessage::createMethodCall(service, udisksBlockPath(medium.devNode),
                                                           QStringLiteral("org.freedesktop.UDisks2.Filesystem"),
                                                           QStringLiteral("Mount"));
        call.setArguments({QVariantMap()});
        // udisks asks polkit, which may ask the person: wait as long as a person might.
        const QDBusMessage reply = bus.call(call, QDBus::Block, Client::callTimeoutMs);
        if (reply.type() == QDBusMessage::ErrorMessage)
            say("udisks did not mount " + shown(medium.devNode) + ": " + shown(reply.errorMessage().toStdString()));
        // Mounted: the mount table's change brings the drive back to process().
    }

    Config::Registry m_registry;
    Media::MediaMonitor m_monitor;
    Client::HelperClient m_client;
    const bool m_interactive;
    const bool m_mount;
    const bool m_once;
    std::set<dev_t> m_waitingForMount;
    std::deque<Media::Medium> m_queue;
    bool m_busy = false;
    int m_exitCode = ExitCode::Ok;
};

int runAgent(int argc, char **argv)
{
    const Args args(argc, argv, {{"--mount", {}}, {"--once", {}}, {"--no-prompt", {}}});
    if (!args.positional().empty())
        throw UsageError{"takes no arguments"};
    Agent agent(args);
    agent.start();
    QCoreApplication::exec();
    return agent.exitCode();
}

} // namespace

COFFERCTL_COMMAND(agent, "agent", "[--mount] [--no-prompt] [--once]",
                  "Back up registered vaults when their drive is plugged in (the tray's plug flow, headless)",
                  runAgent);

} // namespace Coffer::Ctl
