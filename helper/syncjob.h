#pragma once

#include "job.h"
#include "syncchild.h"

#include <QByteArray>
#include <QObject>
#include <QSocketNotifier>

#include <functional>
#include <string_view>

namespace Coffer::Helper {

// One sync as the helper's event loop sees it: the coffer-sync child (syncchild.h), its pipe
// of JSON lines turned into job progress and an outcome, and its end, noticed through a pidfd
// (nothing ever waits for it on the event loop). The child's output is the user's to forge: a
// line it cannot parse is ignored, and more than maxPendingBytes without a newline ends it.
class SyncJob : public QObject
{
    Q_OBJECT
public:
    // Starts the child; throws Failed if it cannot.
    SyncJob(const std::string &program, const Credentials &credentials, const Sync::Options &options,
            QObject *parent = nullptr);
    // A child still running is killed and reaped.
    ~SyncJob() override;

    pid_t pid() const { return m_child.pid; }
    // Asks the child to stop (SIGTERM): it leaves the destination consistent and reports
    // "cancelled".
    void cancel();
    // Ends the child at once (SIGKILL): for a child that no longer answers.
    void kill();

    std::function<void(const Job::Update &)> onProgress;
    // Once, after the child has exited and its output was read.
    std::function<void(const Job::Completion &)> onFinished;

    // The job's Progress (0..1) for a progress line: scan 10 %, copy 80 % (by bytes, else files),
    // delete 5 %, flush 5 %.
    static double progressOf(const Sync::Progress &progress);

    static constexpr qsizetype maxPendingBytes = qsizetype(64) << 20;

private:
    void readOutput();
    void handleLine(std::string_view line);
    void reap();
    void signalChild(int signal);

    SyncChild m_child;
    QSocketNotifier *m_output = nullptr;
    QSocketNotifier *m_exit = nullptr;
    QByteArray m_pending;
    Job::Completion m_completion;
    bool m_gotResult = false;
    bool m_reaped = false;
};

} // namespace Coffer::Helper
