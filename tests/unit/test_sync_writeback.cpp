// EarlyWriteback (core/sync/earlywriteback.h): the background syncfs thread of durable runs.

#include "sync/earlywriteback.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Sync;

class TestSyncWriteback : public QObject
{
    Q_OBJECT

private slots:
    // Many kicks while files are written, then destruction: the thread syncs, stops and joins
    // (a hang or a race on its state would show here under the sanitizers).
    void kicksWhileWritingThenStops()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        UniqueFd dirFd(::open(QFile::encodeName(dir.path()).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QVERIFY(dirFd);
        {
            EarlyWriteback writeback(dirFd.get());
            const std::string block(1 << 16, 'x');
            for (int i = 0; i < 6000; ++i) { // past the file threshold
                const std::string name = "f" + std::to_string(i);
                UniqueFd f(::openat(dirFd.get(), name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
                QVERIFY(f);
                QCOMPARE(::write(f.get(), block.data(), i % 50 == 0 ? block.size() : 10),
                         ssize_t(i % 50 == 0 ? block.size() : 10));
                writeback.wrote(i % 50 == 0 ? block.size() : 10);
            }
            writeback.wrote(1ull << 30); // past the byte threshold, right before stopping
        }
        QCOMPARE(::faccessat(dirFd.get(), "f5999", F_OK, 0), 0);
    }

    // Without a directory it cannot sync through, it does nothing (starts no thread) and never
    // fails; with one it has its thread. Seen from outside: the process's thread count.
    void withoutDirectoryDoesNothing()
    {
        const int before = threads();
        {
            EarlyWriteback writeback(-1);
            QCOMPARE(threads(), before);
            for (int i = 0; i < 10000; ++i)
                writeback.wrote(1 << 20);
            QCOMPARE(threads(), before);
        }
        QTemporaryDir dir;
        UniqueFd dirFd(::open(QFile::encodeName(dir.path()).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QVERIFY(dirFd);
        {
            EarlyWriteback writeback(dirFd.get());
            QCOMPARE(threads(), before + 1);
        }
        QCOMPARE(threads(), before);
    }

private:
    static int threads()
    {
        return int(QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size());
    }
};

QTEST_GUILESS_MAIN(TestSyncWriteback)
#include "test_sync_writeback.moc"
