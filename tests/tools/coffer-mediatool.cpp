// coffer-mediatool: core/media's monitor and scanner on a command line, for VM scenarios (real
// udevd, real USB hot-plug, real FAT). Not installed; not a user interface (cofferctl media and
// watch will be).
//
//   watch      one line per medium present at start ("present"), then per event
//              ("added", "changed", "removed"), until SIGTERM or SIGINT
//   scan DEV   the vaults on the mounted medium whose device node is DEV, as this user
//
// Lines are "<what> key=value ...", bytes percent-encoded (a label or a name may be anything).

#include "error.h"
#include "media/mediamonitor.h"
#include "media/vaultscan.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Media;

namespace {

int g_signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    (void)!::write(g_signalPipe[1], &c, 1);
}

std::string encoded(const std::string &bytes)
{
    return QByteArray::fromStdString(bytes).toPercentEncoding("/").toStdString();
}

void printMedium(const char *what, const Medium &m)
{
    std::string mounts;
    for (const std::string &p : m.mountPoints)
        mounts += (mounts.empty() ? "" : ",") + encoded(p);
    std::printf("%s device=%s label=%s fs-type=%s fs-uuid=%s serial=%s size=%llu removable=%d mounts=%s free=%s\n",
                what, encoded(m.devNode).c_str(), encoded(m.label).c_str(), encoded(m.fsType).c_str(),
                encoded(m.fsUuid).c_str(), encoded(m.serial).c_str(), (unsigned long long)m.size, int(m.removable),
                mounts.empty() ? "-" : mounts.c_str(), m.freeBytes ? std::to_string(*m.freeBytes).c_str() : "-");
    std::fflush(stdout);
}

int watch(QCoreApplication &app)
{
    MediaMonitor monitor;
    monitor.start();
    for (const Medium &m : monitor.media())
        printMedium("present", m);
    std::printf("watching\n");
    std::fflush(stdout);
    QObject::connect(&monitor, &MediaMonitor::mediumAdded, [](const Medium &m) { printMedium("added", m); });
    QObject::connect(&monitor, &MediaMonitor::mediumChanged, [](const Medium &m) { printMedium("changed", m); });
    QObject::connect(&monitor, &MediaMonitor::mediumRemoved, [](const Medium &m) { printMedium("removed", m); });
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalPipe) != 0)
        throw Error::fromErrno(errno, "socketpair");
    QSocketNotifier quit(g_signalPipe[0], QSocketNotifier::Read);
    QObject::connect(&quit, &QSocketNotifier::activated, &app, &QCoreApplication::quit);
    std::signal(SIGTERM, onSignal);
    std::signal(SIGINT, onSignal);
    return app.exec();
}

int scan(const std::string &device)
{
    MediaMonitor monitor;
    monitor.start();
    for (const Medium &m : monitor.media()) {
        if (m.devNode != device)
            continue;
        printMedium("medium", m);
        const ScanResult r = scanMedium(m);
        for (const FoundVault &v : r.vaults)
            std::printf("vault path=%s uuid=%s name=%s size=%llu luks=%d coffer=%d\n", encoded(v.path).c_str(),
                        v.luksUuid.c_str(), encoded(v.name).c_str(), (unsigned long long)v.size, v.luksVersion,
                        int(v.coffer));
        std::printf("entries=%zu truncated=%d\n", r.entriesRead, int(r.truncated));
        return 0;
    }
    std::fprintf(stderr, "coffer-mediatool: no medium %s\n", device.c_str());
    return 9;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const std::string command = argc > 1 ? argv[1] : "";
    try {
        if (command == "watch" && argc == 2)
            return watch(app);
        if (command == "scan" && argc == 3)
            return scan(argv[2]);
    } catch (const Error &e) {
        std::fprintf(stderr, "coffer-mediatool: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: coffer-mediatool watch | scan DEVICE\n");
    return 2;
}
