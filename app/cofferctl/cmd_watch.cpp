// cofferctl watch: events as they come, one per line: drives (udev, watched here as the user),
// the registry's changes, and what the helper says while it runs (the user's vaults unlocked and
// locked, a lock that could not be done before a suspend, the drives it tells this user of).

#include "args.h"
#include "command.h"
#include "mediaview.h"

#include "client/helperclient.h"
#include "config/registry.h"
#include "dbus/helper1.h"
#include "dbus/options.h"
#include "error.h"
#include "media/mediamonitor.h"

#include <QCoreApplication>
#include <QDBusConnection>
#include <QDBusObjectPath>

#include <cstdio>
#include <map>
#include <ctime>
#include <functional>

namespace Coffer::Ctl {

namespace {

qint64 monotonicMs()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

class Watch
{
public:
    explicit Watch(bool json)
        : m_json(json)
    {
    }

    void emitEvent(const char *event, const char *source, QJsonObject fields, const std::string &text)
    {
        if (m_json) {
            fields.insert(QStringLiteral("event"), QLatin1String(event));
            fields.insert(QStringLiteral("source"), QLatin1String(source));
            // For measuring (tests/bench): the kernel's clock, comparable to its log's times.
            fields.insert(QStringLiteral("monotonic-ms"), double(monotonicMs()));
            printJsonLine(fields);
        } else {
            std::printf("%s %s: %s\n", source, event, text.c_str());
            std::fflush(stdout);
        }
    }

    void medium(const char *event, const char *source, const Media::Medium &m)
    {
        emitEvent(event, source, mediumJson(m), mediumText(m));
    }

    void vaultAdded(const Client::VaultInfo &info)
    {
        m_known[info.path] = info;
        vault("vault-added", info.path);
    }

    // By the helper's own signal: a vault unlocked and locked again before this client had read
    // its properties is still reported (by name when it was read).
    void vault(const char *event, const QString &path, const QString &reason = {}, const QString &message = {})
    {
        const Client::VaultInfo info = m_known.count(path) ? m_known[path] : Client::VaultInfo{};
        QJsonObject o{{"vault", path}, {"name", info.name}, {"mount-point", info.mountPoint}};
        std::string text = path.toStdString() + (info.name.isEmpty() ? "" : " \"" + shown(info.name.toStdString()) + "\"");
        if (!reason.isEmpty()) {
            o.insert(QStringLiteral("reason"), reason);
            text += " (" + reason.toStdString() + ")";
        }
        if (!message.isEmpty()) {
            o.insert(QStringLiteral("message"), message);
            text += ": " + shown(message.toStdString());
        }
        emitEvent(event, "helper", o, text);
    }

private:
    bool m_json;
    std::map<QString, Client::VaultInfo> m_known; // by object path
};

// The helper's VaultRemoved and LockFailed as they come (HelperClient reports them only for the
// vaults whose properties it has read).
class HelperSignals : public QObject
{
    Q_OBJECT
public:
    explicit HelperSignals(QDBusConnection bus)
    {
        const QString service = QString::fromLatin1(Helper1::Service), path = QString::fromLatin1(Helper1::ManagerPath),
                      interface = QString::fromLatin1(Helper1::ManagerInterface);
        bus.connect(service, path, interface, QStringLiteral("VaultRemoved"), this,
                    SLOT(onVaultRemoved(QDBusObjectPath, QString)));
        bus.connect(service, path, interface, QStringLiteral("LockFailed"), this,
                    SLOT(onLockFailed(QDBusObjectPath, QString, QString)));
    }

    std::function<void(const QString &, const QString &)> removed;
    std::function<void(const QString &, const QString &, const QString &)> lockFailed;

private Q_SLOTS:
    void onVaultRemoved(const QDBusObjectPath &vault, const QString &reason) { removed(vault.path(), reason); }
    void onLockFailed(const QDBusObjectPath &vault, const QString &reason, const QString &message)
    {
        lockFailed(vault.path(), reason, message);
    }
};

int runWatch(int argc, char **argv)
{
    const Args args(argc, argv, {{"--json", {}}});
    if (!args.positional().empty())
        throw UsageError{"takes no arguments"};
    Watch watch(args.has("--json"));

    Media::MediaMonitor monitor;
    QObject::connect(&monitor, &Media::MediaMonitor::mediumAdded, [&](const Media::Medium &m) { watch.medium("medium-added", "udev", m); });
    QObject::connect(&monitor, &Media::MediaMonitor::mediumChanged, [&](const Media::Medium &m) { watch.medium("medium-changed", "udev", m); });
    QObject::connect(&monitor, &Media::MediaMonitor::mediumRemoved, [&](const Media::Medium &m) { watch.medium("medium-removed", "udev", m); });
    monitor.start();

    Config::Registry registry;
    loadRegistry(registry);
    registry.watch();
    QObject::connect(&registry, &Config::Registry::changed, [&] {
        watch.emitEvent("registry-changed", "registry", QJsonObject{{"vaults", int(registry.vaults().size())}},
                        std::to_string(registry.vaults().size()) + " vault(s) registered");
    });
    QObject::connect(&registry, &Config::Registry::loadFailed, [&](const QString &message) {
        watch.emitEvent("registry-unreadable", "registry", QJsonObject{{"message", message}}, message.toStdString());
    });

    // The helper tells only the connections a user called it from: call it whenever it is
    // there (never starting it: a helper that is not running has nothing to say).
    Client::HelperClient client;
    auto subscribe = [&] {
        Client::MediaRequest *request = client.listMedia();
        QObject::connect(request, &Client::Request::finished, [&watch, request](const std::optional<Error> &error) {
            QJsonObject o{{"media", int(request->media().size())}};
            if (error)
                o.insert(QStringLiteral("error"), QString::fromStdString(error->message()));
            watch.emitEvent(error ? "helper-unreachable" : "helper-subscribed", "helper", o,
                            error ? error->message() : std::to_string(request->media().size()) + " drive(s) it tells you of");
        });
    };
    // Its vaults first (they are announced as vault-added), so that a vault removed later is
    // known by name; the helper's first appearance is the answer to whether it runs now.
    QObject::connect(&client, &Client::HelperClient::helperAppeared, [&] {
        QObject::connect(client.refreshVaults(), &Client::Request::finished, subscribe);
    });
    QObject::connect(&client, &Client::HelperClient::helperVanished,
                     [&] { watch.emitEvent("helper-gone", "helper", {}, "the helper exited"); });
    QObject::connect(&client, &Client::HelperClient::mediaAdded,
                     [&](const QVariantMap &m) { watch.medium("medium-added", "helper", Helper1::decodeMedium(m)); });
    QObject::connect(&client, &Client::HelperClient::mediaRemoved,
                     [&](const QVariantMap &m) { watch.medium("medium-removed", "helper", Helper1::decodeMedium(m)); });
    QObject::connect(&client, &Client::HelperClient::vaultAdded, [&](Client::VaultHandle *v) { watch.vaultAdded(v->info()); });
    HelperSignals signals_(client.bus());
    signals_.removed = [&](const QString &path, const QString &reason) { watch.vault("vault-removed", path, reason); };
    signals_.lockFailed = [&](const QString &path, const QString &reason, const QString &message) {
        watch.vault("lock-failed", path, reason, message);
    };
    for (const Media::Medium &m : monitor.media())
        watch.medium("medium-present", "udev", m);
    watch.emitEvent("watching", "watch", {}, "watching (Ctrl-C ends)");
    return QCoreApplication::exec();
}

} // namespace

COFFERCTL_COMMAND(watch, "watch", "[--json]", "Print drive, registry and vault events as they come", runWatch);

} // namespace Coffer::Ctl

#include "cmd_watch.moc"
