#pragma once

// Whether the screen is locked, from every source a Linux desktop has: the logind session's
// Lock/Unlock signals and LockedHint (GNOME, KDE, loginctl lock-session, light-locker, ...) and the
// session bus screensavers' ActiveChanged (freedesktop/KDE, GNOME, Cinnamon, MATE, Xfce). Several
// of them report the same lock: locked() and unlocked() come once per transition.

#include <QDBusConnection>
#include <QObject>

namespace Coffer {

class LogindSession;

class ScreenLockMonitor : public QObject
{
    Q_OBJECT
public:
    // systemBus for logind, sessionBus for the screensavers. Starts locked if the session's
    // LockedHint says so (without a signal).
    ScreenLockMonitor(const QDBusConnection &systemBus, const QDBusConnection &sessionBus,
                      QObject *parent = nullptr);

    bool isLocked() const { return m_locked; }
    // The logind session watched (found asynchronously; LogindSession::notFound says why not).
    LogindSession *session() const { return m_session; }

Q_SIGNALS:
    void locked();
    void unlocked();

private Q_SLOTS:
    void onScreenSaverActiveChanged(bool active);

private:
    void setLocked(bool nowLocked);

    LogindSession *m_session;
    bool m_locked = false;
};

} // namespace Coffer
