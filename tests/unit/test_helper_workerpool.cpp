// The helper's worker pool: slow work off the event loop, a share of the threads per user so
// that one user's stuck calls never keep another user waiting, errors carried back to the event
// loop, and every thread joined when it stops.
#include "workerpool.h"

#include <QTest>
#include <QThread>

#include <atomic>
#include <condition_variable>
#include <mutex>

using namespace Coffer;
using namespace Coffer::Helper;

namespace {

// Work that blocks until released, like a secret pipe nobody closes.
struct Gate
{
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> waiting{0};
    void wait()
    {
        ++waiting;
        std::unique_lock lock(mutex);
        cv.wait(lock, [this] { return open; });
    }
    void release()
    {
        {
            const std::lock_guard lock(mutex);
            open = true;
        }
        cv.notify_all();
    }
};

} // namespace

class TestHelperWorkerPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void oneUserCannotTakeEveryThread()
    {
        Gate gate;
        WorkerPool pool(this, 4, 2);
        int aliceDone = 0;
        for (int i = 0; i < 10; ++i)
            pool.run(1000, [&] { gate.wait(); }, [&](std::optional<Error>) { ++aliceDone; });
        bool bobDone = false;
        pool.run(1001, [] {}, [&](std::optional<Error> error) { bobDone = !error; });
        // Bob's work ran while all of alice's is stuck: she holds two threads, no more.
        QTRY_VERIFY_WITH_TIMEOUT(bobDone, 30000);
        QCOMPARE(gate.waiting.load(), 2);
        QCOMPARE(aliceDone, 0);
        gate.release();
        QTRY_COMPARE_WITH_TIMEOUT(aliceDone, 10, 30000);
    }

    void doneRunsOnTheContextsThreadWithTheError()
    {
        WorkerPool pool(this, 2, 1);
        std::optional<Error> seen;
        Qt::HANDLE doneThread = nullptr, workThread = nullptr;
        pool.run(1000, [&] {
            workThread = QThread::currentThreadId();
            throw Error(ErrorCode::BadPassphrase, "no");
        }, [&](std::optional<Error> error) {
            doneThread = QThread::currentThreadId();
            seen = error;
        });
        QTRY_VERIFY_WITH_TIMEOUT(seen.has_value(), 30000);
        QCOMPARE(seen->code(), ErrorCode::BadPassphrase);
        QCOMPARE(doneThread, QThread::currentThreadId());
        QVERIFY(workThread != doneThread);

        bool failed = false;
        pool.run(1000, [] { throw std::runtime_error("boom"); },
                 [&](std::optional<Error> error) { failed = error && error->code() == ErrorCode::Failed; });
        QTRY_VERIFY_WITH_TIMEOUT(failed, 30000);
    }

    // stop() waits for what runs and drops what waits: no thread outlives the pool, and no
    // done() of dropped work runs.
    void stopJoinsAndDrops()
    {
        Gate gate;
        std::atomic<int> ran{0};
        std::atomic<bool> dropped{false};
        bool droppedDone = false;
        auto pool = std::make_unique<WorkerPool>(this, 1, 1);
        pool->run(1000, [&] {
            gate.wait();
            ++ran;
        }, [](std::optional<Error>) {});
        {
            // Destroyed with the queued work: tells when stop() has dropped it.
            std::shared_ptr<void> sentinel(nullptr, [&](void *) { dropped = true; });
            pool->run(1000, [&, sentinel] { ++ran; }, [&](std::optional<Error>) { droppedDone = true; });
        }
        QTRY_COMPARE_WITH_TIMEOUT(gate.waiting.load(), 1, 30000);
        std::thread stopper([&] { pool.reset(); });
        QTRY_VERIFY_WITH_TIMEOUT(dropped.load(), 30000);
        gate.release();
        stopper.join();
        QCOMPARE(ran.load(), 1);
        QCoreApplication::processEvents();
        QVERIFY(!droppedDone);
    }
};

QTEST_GUILESS_MAIN(TestHelperWorkerPool)
#include "test_helper_workerpool.moc"
