#pragma once

// A one-shot timer whose deadline survives suspend, unlike QTimer (CLOCK_MONOTONIC stops while
// the machine sleeps). "Lock at 14:30" (startAt: CLOCK_REALTIME, fires at once on resume if
// 14:30 passed during sleep, and follows the clock when it is set) or "lock 2 h after unlocking"
// (startAfter: CLOCK_BOOTTIME, which counts the time asleep). A timerfd under a socket notifier:
// nothing wakes the process before the deadline, and nothing after it.

#include "block/uniquefd.h"

#include <QDateTime>
#include <QObject>

#include <chrono>

class QSocketNotifier;

namespace Coffer {

class WallClockTimer : public QObject
{
    Q_OBJECT
public:
    explicit WallClockTimer(QObject *parent = nullptr);
    ~WallClockTimer() override;

    // Fires at `deadline` by the wall clock; at once if it has passed. Throws Error if the
    // kernel refuses a timer (out of fds).
    void startAt(const QDateTime &deadline);
    // Fires after `duration`, counting time spent in suspend.
    void startAfter(std::chrono::milliseconds duration);
    void stop();

    bool isActive() const;
    // What the kernel has left on the timer (zero when not armed), and whether it would fire
    // again after that (never: a periodic timer is a bug here).
    std::chrono::nanoseconds remaining() const;
    bool repeats() const;

Q_SIGNALS:
    void timeout();

private:
    void arm(int clock, int flags, std::chrono::nanoseconds value);
    void onReadable();

    UniqueFd m_fd;
    int m_clock = -1;
    QSocketNotifier *m_notifier = nullptr;
    QDateTime m_deadline; // startAt's, to re-arm when the clock is set
};

} // namespace Coffer
