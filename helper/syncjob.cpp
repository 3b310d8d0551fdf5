#include "syncjob.h"

// glibc 2.36 declares these without extern "C".
extern "C" {
#include <sys/pidfd.h>
}
#include <cerrno>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace Coffer::Helper {

SyncJob::SyncJob(const std::string &program, const Credentials &credentials, const Sync::Options &options,
                 QObject *parent)
    : QObject(parent)
    , m_child(startSyncChild(program, credentials, options))
{
    m_output = new QSocketNotifier(m_child.output.get(), QSocketNotifier::Read, this);
    connect(m_output, &QSocketNotifier::activated, this, &SyncJob::readOutput);
    m_exit = new QSocketNotifier(m_child.pidfd.get(), QSocketNotifier::Read, this);
    connect(m_exit, &QSocketNotifier::activated, this, &SyncJob::reap);
}

SyncJob::~SyncJob()
{
    if (m_reaped)
        return;
    signalChild(SIGKILL);
    siginfo_t info {};
    while (waitid(P_PIDFD, id_t(m_child.pidfd.get()), &info, WEXITED) < 0 && errno == EINTR) {
    }
}

void SyncJob::signalChild(int signal)
{
    if (!m_reaped)
        pidfd_send_signal(m_child.pidfd.get(), signal, nullptr, 0);
}

void SyncJob::kill()
{
    signalChild(SIGKILL);
}

void SyncJob::cancel()
{
    signalChild(SIGTERM);
}

double SyncJob::progressOf(const Sync::Progress &p)
{
    switch (p.phase) {
    case Sync::Phase::Scan:
        return 0.0;
    case Sync::Phase::Copy:
        if (p.bytesTotal > 0)
            return 0.1 + 0.8 * double(p.bytesDone) / double(p.bytesTotal);
        if (p.filesTotal > 0)
            return 0.1 + 0.8 * double(p.filesDone) / double(p.filesTotal);
        return 0.1;
    case Sync::Phase::Delete:
        return 0.9;
    case Sync::Phase::Flush:
        return 0.95;
    case Sync::Phase::Done:
        return 1.0;
    }
    return 0.0;
}

void SyncJob::handleLine(std::string_view line)
{
    Sync::Message message;
    try {
        message = Sync::parseJsonLine(line);
    } catch (const Error &) {
        return; // not a line we understand: the exit status still counts
    }
    if (const auto *p = std::get_if<Sync::Progress>(&message)) {
        Job::Update u;
        u.bytesDone = p->bytesDone;
        u.bytesTotal = p->bytesTotal;
        u.filesDone = p->filesDone;
        u.filesTotal = p->filesTotal;
        u.currentItem = QString::fromUtf8(p->currentItem.data(), qsizetype(p->currentItem.size()));
        u.phase = QString::fromLatin1(Sync::phaseName(p->phase));
        u.progress = progressOf(*p);
        if (onProgress)
            onProgress(u);
    } else if (const auto *r = std::get_if<Sync::Result>(&message)) {
        m_gotResult = true;
        m_completion.result = Helper1::encodeSyncResult(*r);
        if (r->outcome == Sync::Outcome::Cancelled) {
            m_completion.error = Error(ErrorCode::Cancelled, "The sync was cancelled; the vault holds a consistent copy.");
        } else if (r->outcome == Sync::Outcome::Partial) {
            m_completion.success = Helper1::JobOutcome::Partial;
            m_completion.note = QStringLiteral("partial: the sync finished, but %1 items could not be read")
                                    .arg(qulonglong(r->warnings.size() + r->warningsDropped));
        }
    } else if (const auto *e = std::get_if<Sync::ErrorReport>(&message)) {
        m_gotResult = true;
        m_completion.error = Error(e->code, e->message, e->sysErrno);
    }
}

void SyncJob::readOutput()
{
    if (!m_child.output)
        return;
    for (;;) {
        char buf[65536];
        const ssize_t n = ::read(m_child.output.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return; // more later
        if (n <= 0) {
            // End of output (the child may still be running; reap() follows its exit).
            m_output->setEnabled(false);
            m_child.output.reset();
            return;
        }
        m_pending.append(buf, n);
        qsizetype start = 0, nl;
        while ((nl = m_pending.indexOf('\n', start)) >= 0) {
            handleLine(std::string_view(m_pending.constData() + start, size_t(nl - start + 1)));
            start = nl + 1;
        }
        m_pending.remove(0, start);
        if (m_pending.size() > maxPendingBytes) {
            m_completion.error = Error(ErrorCode::Failed, "The sync process sent output that is not a sync's.");
            m_gotResult = true;
            signalChild(SIGKILL);
            m_output->setEnabled(false);
            m_child.output.reset();
            return;
        }
    }
}

void SyncJob::reap()
{
    siginfo_t info {};
    if (waitid(P_PIDFD, id_t(m_child.pidfd.get()), &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
        return;
    m_reaped = true;
    m_exit->setEnabled(false);
    // What the child wrote before it exited is in the pipe; a descendant that still holds the
    // write end gets no more say.
    readOutput();
    if (m_output)
        m_output->setEnabled(false);
    m_child.output.reset();
    if (!m_gotResult && !m_completion.error)
        m_completion.error = Error(ErrorCode::Failed,
                                   std::string("The sync process ended without a result")
                                       + (info.si_code == CLD_EXITED ? "." : " (killed by a signal)."));
    if (onFinished)
        onFinished(m_completion);
}

} // namespace Coffer::Helper
