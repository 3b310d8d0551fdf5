#include "desktop/idlemonitor.h"

#include "desktop/mutteridlemonitor.h"
#include "desktop/waylandidlemonitor.h"
#include "desktop/x11idlemonitor.h"
#include "error.h"

namespace Coffer {

IdleMonitor::IdleMonitor(std::chrono::milliseconds timeout, QObject *parent)
    : QObject(parent)
    , m_timeout(timeout)
{
}

void IdleMonitor::setIdle(bool nowIdle)
{
    if (nowIdle == m_idle)
        return;
    m_idle = nowIdle;
    if (nowIdle)
        Q_EMIT idle();
    else
        Q_EMIT active();
}

std::unique_ptr<IdleMonitor> IdleMonitor::create(const QDBusConnection &sessionBus,
                                                 std::chrono::milliseconds timeout, QObject *parent)
{
    std::string tried;
    try {
        return MutterIdleMonitor::create(sessionBus, timeout, parent);
    } catch (const Error &e) {
        tried += e.message();
    }
    try {
        return WaylandIdleMonitor::create(timeout, parent);
    } catch (const Error &e) {
        tried += "; " + e.message();
    }
    try {
        return X11IdleMonitor::create(timeout, parent);
    } catch (const Error &e) {
        tried += "; " + e.message();
    }
    throw Error(ErrorCode::NotSupported,
                "This session cannot tell when the user is idle (" + tried
                    + "): locking on idle is off");
}

} // namespace Coffer
