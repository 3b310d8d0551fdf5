// coffer-helper: Coffer's privileged D-Bus service org.coffer.Helper1 (design.md 3 and 4).
// Started by D-Bus activation as root; exits by itself when idle.

#include "dbus/helper1.h"
#include "log.h"
#include "manager.h"
#include "polkitauthority.h"
#include "runtimestate.h"
#include "settings.h"

#include <QCoreApplication>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QSocketNotifier>

#include <csignal>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer::Helper;

namespace {

int g_signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    (void)!write(g_signalPipe[1], &c, 1);
}

} // namespace

int main(int argc, char **argv)
{
    umask(022);
    // Secrets pass through this process: no core dumps, no ptrace by non-root.
    prctl(PR_SET_DUMPABLE, 0);
    signal(SIGPIPE, SIG_IGN);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("coffer-helper"));
    const Settings settings = Settings::load();
    Log::setFile(settings.logFile);

    if (geteuid() != 0)
        Log::write(QStringLiteral("warning: not running as root; vault operations will fail"));

    QDBusConnection bus = settings.sessionBus ? QDBusConnection::sessionBus() : QDBusConnection::systemBus();
    if (!bus.isConnected()) {
        Log::write(QStringLiteral("cannot connect to the bus: %1").arg(bus.lastError().message()));
        return 1;
    }

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalPipe) == 0) {
        auto *notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, &app);
        QObject::connect(notifier, &QSocketNotifier::activated, &app, [] {
            Log::write(QStringLiteral("terminating; open vaults stay open and are adopted on restart"));
            QCoreApplication::quit();
        });
        signal(SIGTERM, onSignal);
        signal(SIGINT, onSignal);
    }

    PolkitAuthority authority(bus);
    RuntimeState state(settings.runtimeDir);
    Manager manager(bus, &authority, &state, settings);
    manager.reconcile();
    manager.startMediaMonitor();
    // logind is on the system bus, also for a helper that serves another bus (tests).
    if (!settings.sessionBus)
        manager.watchSleep(bus);
    if (!manager.registerOnBus()) {
        Log::write(QStringLiteral("cannot register objects: %1").arg(bus.lastError().message()));
        return 1;
    }
    if (!bus.registerService(QString::fromLatin1(Coffer::Helper1::Service))) {
        Log::write(QStringLiteral("cannot own %1: %2")
                       .arg(QString::fromLatin1(Coffer::Helper1::Service), bus.lastError().message()));
        return 1;
    }
    manager.setIdleExit(settings.idleSeconds);
    Log::write(QStringLiteral("started (pid %1)").arg(getpid()));
    const int rc = app.exec();
    bus.unregisterService(QString::fromLatin1(Coffer::Helper1::Service));
    return rc;
}
