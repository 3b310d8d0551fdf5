// WorkQueue (core/sync/workqueue.h): the copy threads of a sync. Each item is worked on exactly
// once, by a helper thread or by the owner, and comes back to the owner; a helper's exception
// reaches the owner; destruction never hangs. Run under the sanitizers in make check.

#include "sync/workqueue.h"

#include <QTest>

#include <set>
#include <stdexcept>

using namespace Coffer::Sync;

namespace {

struct Item
{
    int value = 0;
    int result = 0;
    std::thread::id worker;
};

} // namespace

class TestSyncWorkQueue : public QObject
{
    Q_OBJECT

private slots:
    void everyItemOnceAndBack_data()
    {
        QTest::addColumn<unsigned>("threads");
        QTest::addColumn<int>("capacity");
        QTest::newRow("no helper: the owner does it all") << 0u << 1;
        QTest::newRow("one helper, short queue") << 1u << 2;
        QTest::newRow("three helpers") << 3u << 64;
    }
    void everyItemOnceAndBack()
    {
        QFETCH(unsigned, threads);
        QFETCH(int, capacity);
        constexpr int count = 5000;
        std::set<int> seen;
        std::set<std::thread::id> workers;
        const auto take = [&](std::vector<Item> items) {
            for (const Item &i : items) {
                QVERIFY2(seen.insert(i.value).second, "an item came back twice");
                QCOMPARE(i.result, i.value * 2);
                workers.insert(i.worker);
            }
        };
        WorkQueue<Item> queue(threads, size_t(capacity), [](Item &i) {
            i.result = i.value * 2;
            i.worker = std::this_thread::get_id();
        });
        for (int v = 0; v < count; ++v) {
            queue.push(Item{v, 0, {}});
            take(queue.collect());
        }
        take(queue.drain());
        QCOMPARE(int(seen.size()), count);
        QVERIFY(queue.collect().empty());
        if (threads == 0)
            QCOMPARE(workers, std::set<std::thread::id>{std::this_thread::get_id()});
    }

    // An exception stops the queue and reaches the owner (whether a helper or the owner, while
    // draining, worked on the failing item).
    void helperErrorReachesOwner()
    {
        WorkQueue<Item> queue(1, 1000, [](Item &i) {
            if (i.value == 7)
                throw std::runtime_error("item 7 failed");
            i.result = i.value;
        });
        for (int v = 0; v < 20; ++v)
            queue.push(Item{v, 0, {}});
        bool thrown = false;
        try {
            queue.drain();
        } catch (const std::runtime_error &e) {
            thrown = QByteArray(e.what()) == "item 7 failed";
        }
        QVERIFY(thrown);
        QVERIFY(queue.stopping());
    }

    // An error in the owner's own share of the work propagates from push() right away.
    void ownerErrorPropagatesFromPush()
    {
        WorkQueue<Item> queue(0, 1, [](Item &i) {
            if (i.value == 1)
                throw std::runtime_error("owner");
        });
        queue.push(Item{1, 0, {}});
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, queue.push(Item{2, 0, {}}));
        QVERIFY(queue.stopping());
    }

    // Destroyed with items queued: it waits for the one being worked on (which sees stopping()
    // and gives up) and drops the rest.
    void destructionWithQueuedItems()
    {
        std::atomic<int> worked{0};
        {
            WorkQueue<Item> *self = nullptr;
            WorkQueue<Item> queue(1, 1000, [&](Item &) {
                ++worked;
                while (!self->stopping())
                    std::this_thread::yield();
            });
            self = &queue;
            for (int v = 0; v < 500; ++v)
                queue.push(Item{v, 0, {}});
        }
        QVERIFY(worked.load() <= 1); // 0 if the helper had not started before the stop
    }
};

QTEST_GUILESS_MAIN(TestSyncWorkQueue)
#include "test_sync_workqueue.moc"
