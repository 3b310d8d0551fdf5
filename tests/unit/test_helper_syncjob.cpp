// A sync as the helper's event loop sees it (SyncJob): the coffer-sync child's progress and
// outcome arrive through the event loop, its end is noticed through a pidfd (nothing waits for
// it), and a child killed, cancelled or left behind is reaped, never a zombie.
#include "syncjob.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Helper;

namespace {

constexpr uid_t Nobody = 65534;
const std::string Program = COFFER_BINARY_DIR "/helper/coffer-sync";

} // namespace

class TestHelperSyncJob : public QObject
{
    Q_OBJECT

    QTemporaryDir m_base;
    Sync::Options m_options;

    bool reaped(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD; }

private Q_SLOTS:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("the sync child drops from root to another user");
        QCOMPARE(chmod(m_base.path().toLocal8Bit().constData(), 0755), 0);
        QDir dir(m_base.path());
        QVERIFY(dir.mkpath(QStringLiteral("src/tree")) && dir.mkdir(QStringLiteral("dest")));
        for (int i = 0; i < 3000; ++i) {
            QFile f(dir.filePath(QStringLiteral("src/tree/f%1").arg(i)));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray::number(i));
        }
        QCOMPARE(chown(dir.filePath(QStringLiteral("dest")).toLocal8Bit().constData(), Nobody, Nobody), 0);
        m_options.sources.push_back({dir.filePath(QStringLiteral("src")).toStdString(), "src"});
        m_options.destination = dir.filePath(QStringLiteral("dest")).toStdString();
        m_options.progressIntervalMs = 0;
    }

    void progressWeights()
    {
        Sync::Progress p;
        p.phase = Sync::Phase::Scan;
        QCOMPARE(SyncJob::progressOf(p), 0.0);
        p.phase = Sync::Phase::Copy;
        p.bytesTotal = 100;
        p.bytesDone = 50;
        QCOMPARE(SyncJob::progressOf(p), 0.5);
        p.bytesTotal = 0;
        p.filesTotal = 4;
        p.filesDone = 4;
        QCOMPARE(SyncJob::progressOf(p), 0.9);
        p.phase = Sync::Phase::Delete;
        QCOMPARE(SyncJob::progressOf(p), 0.9);
        p.phase = Sync::Phase::Flush;
        QCOMPARE(SyncJob::progressOf(p), 0.95);
        p.phase = Sync::Phase::Done;
        QCOMPARE(SyncJob::progressOf(p), 1.0);
    }

    void runsAndReports()
    {
        SyncJob job(Program, {Nobody, Nobody, {}}, m_options);
        int updates = 0;
        std::optional<Job::Completion> done;
        job.onProgress = [&](const Job::Update &) { ++updates; };
        job.onFinished = [&](const Job::Completion &c) { done = c; };
        QTRY_VERIFY_WITH_TIMEOUT(done.has_value(), 60000);
        QVERIFY2(!done->error, done->error ? done->error->message().c_str() : "");
        QCOMPARE(done->success, Helper1::JobOutcome::Ok);
        QCOMPARE(done->result.value(QString::fromLatin1(Helper1::Key::FilesCopied)).toULongLong(), 3000ull);
        QVERIFY(updates > 0);
        QVERIFY(reaped(job.pid()));
        QVERIFY(QFile::exists(m_base.filePath(QStringLiteral("dest/current/src/tree/f2999"))));
    }

    // Once it reports progress its SIGTERM handler is in place: a cancel is a clean stop. (In the
    // copy phase: the engine does not yet turn a cancel during its scan into a "cancelled"
    // result; it aborts.)
    void cancelStopsIt()
    {
        QVERIFY(QDir(m_base.filePath(QStringLiteral("dest"))).removeRecursively());
        QVERIFY(QDir(m_base.path()).mkdir(QStringLiteral("dest")));
        QCOMPARE(chown(m_base.filePath(QStringLiteral("dest")).toLocal8Bit().constData(), Nobody, Nobody), 0);
        SyncJob job(Program, {Nobody, Nobody, {}}, m_options);
        std::optional<Job::Completion> done;
        job.onProgress = [&](const Job::Update &u) {
            if (u.progress >= 0.1)
                job.cancel();
        };
        job.onFinished = [&](const Job::Completion &c) { done = c; };
        QTRY_VERIFY_WITH_TIMEOUT(done.has_value(), 60000);
        QVERIFY(done->error);
        QVERIFY2(done->error->code() == ErrorCode::Cancelled, done->error->message().c_str());
        QVERIFY(reaped(job.pid()));
    }

    void killedIsAFailure()
    {
        SyncJob job(Program, {Nobody, Nobody, {}}, m_options);
        std::optional<Job::Completion> done;
        job.onFinished = [&](const Job::Completion &c) { done = c; };
        QCOMPARE(kill(job.pid(), SIGKILL), 0);
        QTRY_VERIFY_WITH_TIMEOUT(done.has_value(), 60000);
        QVERIFY(done->error);
        QCOMPARE(done->error->code(), ErrorCode::Failed);
        QVERIFY(done->error->message().find("killed by a signal") != std::string::npos);
        QVERIFY(reaped(job.pid()));
    }

    void destroyedWhileRunningLeavesNoChild()
    {
        pid_t pid;
        {
            SyncJob job(Program, {Nobody, Nobody, {}}, m_options);
            pid = job.pid();
        }
        QVERIFY(reaped(pid));
    }

    void aProgramThatCannotStartIsAnError()
    {
        try {
            SyncJob job("/nonexistent/coffer-sync", {Nobody, Nobody, {}}, m_options);
            QFAIL("started a program that does not exist");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::Failed);
        }
    }
};

QTEST_GUILESS_MAIN(TestHelperSyncJob)
#include "test_helper_syncjob.moc"
