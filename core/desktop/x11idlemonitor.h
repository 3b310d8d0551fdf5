#pragma once

#include "desktop/idlemonitor.h"

#include <cstdint>

struct xcb_connection_t;
class QSocketNotifier;

namespace Coffer {

// The X server's IDLETIME counter (SYNC extension), over an X connection of its own: one alarm
// that fires when the idle time reaches the timeout, then is turned around to fire when it
// drops below it again (input), as KIdleTime's xsync backend does. No polling.
class X11IdleMonitor : public IdleMonitor
{
    Q_OBJECT
public:
    // Connects to `displayName` (nullptr: DISPLAY). Throws Error(NotSupported) without an X
    // server, SYNC, or an IDLETIME counter.
    static std::unique_ptr<X11IdleMonitor> create(std::chrono::milliseconds timeout,
                                                  QObject *parent = nullptr,
                                                  const char *displayName = nullptr);
    ~X11IdleMonitor() override;

    QString backendName() const override { return QStringLiteral("xsync"); }

private:
    X11IdleMonitor(xcb_connection_t *connection, std::chrono::milliseconds timeout, QObject *parent);
    void initialize();
    // Points the alarm at the next transition: idle time >= timeout, or (when idle) below it.
    void armAlarm(bool waitForActivity);
    void processEvents();
    void onAlarm(uint32_t alarm, int64_t counterValue, uint8_t state);

    xcb_connection_t *m_connection;
    uint32_t m_idleCounter = 0;
    uint32_t m_alarm = 0;
    uint8_t m_firstEvent = 0;
    bool m_armedForActivity = false;
    QSocketNotifier *m_socket = nullptr;
};

} // namespace Coffer
