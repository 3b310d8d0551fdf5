// WallClockTimer: a deadline already past fires at once (as on resume after it passed during
// sleep), once; a far deadline is one armed one-shot timerfd and wakes nothing before it; the
// suspend-counting clock fires too; stop and re-arm. Suspend itself cannot be entered on the
// host: the kernel's promise (CLOCK_REALTIME and CLOCK_BOOTTIME timers expire on resume) is
// what startAt/startAfter rely on.

#include "desktop/wallclocktimer.h"

#include <QEventLoop>
#include <QSignalSpy>
#include <QTimer>
#include <QTest>

#include <sys/resource.h>

using namespace Coffer;
using namespace std::chrono_literals;

namespace {

// This thread's voluntary context switches: each time it slept and was woken.
long wakeups()
{
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_nvcsw;
}

} // namespace

class TestDesktopTimer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pastDeadlineFiresAtOnceAndOnce()
    {
        WallClockTimer timer;
        QSignalSpy fired(&timer, &WallClockTimer::timeout);
        timer.startAt(QDateTime::currentDateTimeUtc().addSecs(-3600));
        QVERIFY(fired.wait());
        QVERIFY(!timer.isActive());
        QVERIFY(!timer.repeats());
        QVERIFY(!fired.wait(300));
        QCOMPARE(fired.count(), 1);
    }

    void deadlineBefore1970IsNow()
    {
        WallClockTimer timer;
        QSignalSpy fired(&timer, &WallClockTimer::timeout);
        timer.startAt(QDateTime::fromSecsSinceEpoch(0, Qt::UTC));
        QVERIFY(fired.wait());
    }

    void farDeadlineWakesNothing()
    {
        WallClockTimer timer;
        QSignalSpy fired(&timer, &WallClockTimer::timeout);
        timer.startAt(QDateTime::currentDateTimeUtc().addSecs(3600));
        // One one-shot expiry, about an hour away, as the kernel holds it.
        QVERIFY(timer.isActive());
        QVERIFY(!timer.repeats());
        QVERIFY(timer.remaining() > 3500s && timer.remaining() <= 3600s);
        // Two seconds of event loop: the QTimer that ends it wakes us, the timerfd does not.
        // (A plain event loop: QTest::qWait itself wakes every 10 ms.)
        QEventLoop loop;
        QTimer::singleShot(2000, &loop, &QEventLoop::quit);
        const long before = wakeups();
        loop.exec();
        const long woken = wakeups() - before;
        QVERIFY2(woken <= 5, qPrintable(QStringLiteral("%1 wake-ups").arg(woken)));
        QCOMPARE(fired.count(), 0);
    }

    void suspendCountingDurationFires()
    {
        WallClockTimer timer;
        QSignalSpy fired(&timer, &WallClockTimer::timeout);
        timer.startAfter(20ms);
        QVERIFY(timer.isActive());
        QVERIFY(fired.wait());
        QVERIFY(!fired.wait(300));
        QCOMPARE(fired.count(), 1);
        QVERIFY(!timer.isActive());
    }

    void stopDisarms()
    {
        WallClockTimer timer;
        QSignalSpy fired(&timer, &WallClockTimer::timeout);
        timer.startAt(QDateTime::currentDateTimeUtc().addMSecs(100));
        timer.stop();
        QVERIFY(!timer.isActive());
        QCOMPARE(timer.remaining(), 0ns);
        QVERIFY(!fired.wait(400));
    }

    void restartReplacesTheDeadline()
    {
        WallClockTimer timer;
        QSignalSpy fired(&timer, &WallClockTimer::timeout);
        timer.startAt(QDateTime::currentDateTimeUtc().addSecs(3600));
        timer.startAfter(10ms); // the other clock
        QVERIFY(fired.wait());
        timer.startAfter(1h);
        timer.startAt(QDateTime::currentDateTimeUtc().addSecs(-1));
        QVERIFY(fired.wait());
        QCOMPARE(fired.count(), 2);
        QVERIFY(!timer.isActive());
    }
};

QTEST_GUILESS_MAIN(TestDesktopTimer)
#include "test_desktop_timer.moc"
