#include "progress.h"

#include "bytes.h"
#include "dbus/errornames.h"
#include "error.h"
#include "terminal.h"

#include <QEventLoop>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QVariantMap>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Coffer::Ctl {

namespace {

int terminalWidth()
{
    struct winsize ws {};
    return ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
}

void printJson(const QVariantMap &object)
{
    std::printf("%s\n", QJsonDocument::fromVariant(object).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
}

// "Syncing [##########--------------] 42% 3/10 files 1.0 MiB/2.0 MiB"
std::string bar(const char *what, const Client::JobProgress &p)
{
    constexpr int width = 24;
    const int filled = int(std::lround(p.fraction * width));
    std::string line = std::string(what) + " [" + std::string(size_t(filled), '#')
                       + std::string(size_t(width - filled), '-') + "] "
                       + std::to_string(int(p.fraction * 100)) + "%";
    if (p.filesTotal)
        line += " " + std::to_string(p.filesDone) + "/" + std::to_string(p.filesTotal) + " files";
    if (p.bytesTotal)
        line += " " + formatBytes(p.bytesDone) + "/" + formatBytes(p.bytesTotal);
    return line;
}

// SIGINT/SIGTERM while a job runs: the handler only writes a byte; the event loop reads it and
// asks the helper to cancel (the job's end still comes from the helper).
int g_interruptPipe[2] = {-1, -1};

void onInterrupt(int)
{
    const char c = 1;
    (void)!::write(g_interruptPipe[1], &c, 1);
}

class CancelOnInterrupt
{
public:
    explicit CancelOnInterrupt(Client::JobHandle *job)
    {
        if (g_interruptPipe[0] < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_interruptPipe) != 0)
            throw Error::fromErrno(errno, "Cannot set up the interrupt handler");
        m_notifier = std::make_unique<QSocketNotifier>(g_interruptPipe[0], QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, job, [job] {
            char c;
            (void)!::read(g_interruptPipe[0], &c, 1);
            job->cancel();
        });
        struct sigaction sa {};
        sa.sa_handler = onInterrupt;
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
    }
    ~CancelOnInterrupt()
    {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace

ProgressLine::ProgressLine(bool wanted)
    : m_enabled(wanted && ::isatty(STDERR_FILENO))
{
}

ProgressLine::~ProgressLine()
{
    clear();
}

void ProgressLine::show(std::string text, std::string_view item)
{
    if (!m_enabled)
        return;
    const int width = terminalWidth();
    if (!item.empty() && int(text.size()) + 10 < width)
        text += "  " + printable(item, size_t(width) - text.size() - 3);
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    m_shown = true;
}

void ProgressLine::clear()
{
    if (!m_shown)
        return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    m_shown = false;
}

int watchJob(Client::JobHandle *job, const char *what, bool json, Client::JobResult *result)
{
    ProgressLine line(!json);
    QEventLoop loop;
    Helper1::JobOutcome outcome = Helper1::JobOutcome::Failed;
    std::optional<Error> error;
    Client::JobResult end;
    bool started = false;
    QObject::connect(job, &Client::JobHandle::started, &loop, [&] { started = true; });
    QObject::connect(job, &Client::JobHandle::progressChanged, &loop, [&](const Client::JobProgress &p) {
        if (json)
            printJson({{QStringLiteral("type"), QStringLiteral("progress")},
                       {QStringLiteral("Progress"), p.fraction},
                       {QStringLiteral("BytesDone"), p.bytesDone},
                       {QStringLiteral("BytesTotal"), p.bytesTotal},
                       {QStringLiteral("FilesDone"), p.filesDone},
                       {QStringLiteral("FilesTotal"), p.filesTotal},
                       {QStringLiteral("CurrentItem"), p.currentItem}});
        else
            line.show(bar(what, p), p.currentItem.toStdString());
    });
    QObject::connect(job, &Client::JobHandle::finished, &loop,
                     [&](Helper1::JobOutcome o, const std::optional<Error> &e, const Client::JobResult &r) {
        outcome = o;
        error = e;
        end = r;
        loop.quit();
    });
    {
        const CancelOnInterrupt interrupt(job);
        loop.exec();
    }
    line.clear();
    if (error && !started)
        throw *error; // refused: like any other call that failed
    if (result)
        *result = end;

    if (json && end.sync) {
        Sync::Result report = *end.sync;
        report.outcome = outcome == Helper1::JobOutcome::Partial ? Sync::Outcome::Partial : Sync::Outcome::Complete;
        const std::string text = Sync::toJsonLine(report);
        std::fwrite(text.data(), 1, text.size(), stdout);
    }
    if (json)
        printJson({{QStringLiteral("type"), QStringLiteral("completed")},
                   {QStringLiteral("ok"), !error},
                   {QStringLiteral("error"), error ? DBusErrors::errorName(error->code()) : QString()},
                   {QStringLiteral("message"), error ? QString::fromStdString(error->message()) : end.message}});
    if (error) {
        if (!json)
            std::fprintf(stderr, "cofferctl: %s failed: %s\n", what, error->what());
        return exitCodeFor(error->code());
    }
    if (outcome == Helper1::JobOutcome::Partial) {
        if (!json)
            std::fprintf(stderr, "cofferctl: %s\n", end.message.toUtf8().constData());
        return ExitCode::Partial;
    }
    return ExitCode::Ok;
}

} // namespace Coffer::Ctl
