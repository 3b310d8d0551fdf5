#include "desktop/wallclocktimer.h"

#include "error.h"

#include <QSocketNotifier>

#include <cerrno>
#include <cstdint>
#include <sys/timerfd.h>
#include <unistd.h>

namespace Coffer {

namespace {

timespec toTimespec(std::chrono::nanoseconds value)
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(value);
    return timespec{time_t(seconds.count()), long((value - seconds).count())};
}

itimerspec currentSetting(int fd)
{
    itimerspec setting{};
    if (fd >= 0)
        timerfd_gettime(fd, &setting);
    return setting;
}

} // namespace

WallClockTimer::WallClockTimer(QObject *parent)
    : QObject(parent)
{
}

WallClockTimer::~WallClockTimer()
{
    delete m_notifier; // before its fd closes
}

void WallClockTimer::startAt(const QDateTime &deadline)
{
    m_deadline = deadline;
    // A zero it_value would disarm: a deadline at or before 1970 is "now".
    const auto value = std::max(std::chrono::nanoseconds(1),
                                std::chrono::nanoseconds(std::chrono::milliseconds(deadline.toMSecsSinceEpoch())));
    // CANCEL_ON_SET: if the clock is set (by hand, NTP), read() fails with ECANCELED and we
    // re-arm against the new time.
    arm(CLOCK_REALTIME, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, value);
}

void WallClockTimer::startAfter(std::chrono::milliseconds duration)
{
    m_deadline = QDateTime();
    arm(CLOCK_BOOTTIME, 0, std::max(std::chrono::nanoseconds(1), std::chrono::nanoseconds(duration)));
}

void WallClockTimer::arm(int clock, int flags, std::chrono::nanoseconds value)
{
    if (!m_fd || clock != m_clock) {
        delete m_notifier;
        m_notifier = nullptr;
        m_fd.reset(timerfd_create(clock, TFD_NONBLOCK | TFD_CLOEXEC));
        if (!m_fd)
            throw Error::fromErrno(errno, "Cannot create a timer");
        m_clock = clock;
        m_notifier = new QSocketNotifier(m_fd.get(), QSocketNotifier::Read, this);
        connect(m_notifier, &QSocketNotifier::activated, this, &WallClockTimer::onReadable);
    }
    const itimerspec setting{timespec{0, 0}, toTimespec(value)};
    if (timerfd_settime(m_fd.get(), flags, &setting, nullptr) != 0)
        throw Error::fromErrno(errno, "Cannot set a timer");
    m_notifier->setEnabled(true);
}

void WallClockTimer::stop()
{
    m_deadline = QDateTime();
    if (!m_fd)
        return;
    const itimerspec disarm{};
    timerfd_settime(m_fd.get(), 0, &disarm, nullptr);
    m_notifier->setEnabled(false);
}

bool WallClockTimer::isActive() const
{
    return remaining() > std::chrono::nanoseconds::zero();
}

std::chrono::nanoseconds WallClockTimer::remaining() const
{
    const itimerspec setting = currentSetting(m_fd.get());
    return std::chrono::seconds(setting.it_value.tv_sec) + std::chrono::nanoseconds(setting.it_value.tv_nsec);
}

bool WallClockTimer::repeats() const
{
    const itimerspec setting = currentSetting(m_fd.get());
    return setting.it_interval.tv_sec != 0 || setting.it_interval.tv_nsec != 0;
}

void WallClockTimer::onReadable()
{
    uint64_t expirations = 0;
    if (::read(m_fd.get(), &expirations, sizeof expirations) == sizeof expirations) {
        m_notifier->setEnabled(false);
        m_deadline = QDateTime();
        Q_EMIT timeout();
        return;
    }
    if (errno == ECANCELED && m_deadline.isValid())
        startAt(m_deadline); // the clock was set: the deadline may have passed, or moved away
}

} // namespace Coffer
