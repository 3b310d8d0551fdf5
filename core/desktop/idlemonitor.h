#pragma once

// "Tell me when the user has been idle for N ms, and when they come back", from whatever this
// session has: Mutter's IdleMonitor (GNOME, X11 or Wayland), ext-idle-notify-v1 (KDE, wlroots
// compositors), or the X server's IDLETIME counter. All of them are event-driven: nothing here
// wakes up periodically.

#include <QDBusConnection>
#include <QObject>
#include <QString>

#include <chrono>
#include <memory>

namespace Coffer {

class IdleMonitor : public QObject
{
    Q_OBJECT
public:
    // The backend for this session, chosen at run time: Mutter's if the session bus has
    // org.gnome.Mutter.IdleMonitor; else ext-idle-notify-v1 if WAYLAND_DISPLAY's compositor
    // offers it; else XSync IDLETIME alarms if DISPLAY names an X server (under Wayland,
    // Xwayland's idle time would count X clients' input only, so it comes last). Throws
    // Error(NotSupported) saying what each one lacked.
    static std::unique_ptr<IdleMonitor> create(const QDBusConnection &sessionBus,
                                               std::chrono::milliseconds timeout,
                                               QObject *parent = nullptr);

    std::chrono::milliseconds timeout() const { return m_timeout; }
    bool isIdle() const { return m_idle; }
    // "mutter", "ext-idle-notify-v1" or "xsync".
    virtual QString backendName() const = 0;

Q_SIGNALS:
    // The user has been idle for timeout().
    void idle();
    // The user came back after idle().
    void active();
    // The backend stopped working (its compositor, X server or Mutter is gone for good): no
    // more idle()/active() from this monitor.
    void lost(const QString &message);

protected:
    IdleMonitor(std::chrono::milliseconds timeout, QObject *parent);
    // Emits idle() or active() once per transition.
    void setIdle(bool nowIdle);

private:
    std::chrono::milliseconds m_timeout;
    bool m_idle = false;
};

} // namespace Coffer
