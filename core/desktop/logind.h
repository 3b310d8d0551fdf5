#pragma once

// systemd-logind over the system bus: the Manager's sleep/shutdown signals and inhibitor locks
// (usable by a root service that has no session, such as the helper), and the session this
// process belongs to, with its Lock/Unlock signals and LockedHint/Active properties.

#include "block/uniquefd.h"

#include <QDBusConnection>
#include <QObject>
#include <QString>
#include <QVariantMap>

#include <functional>

class QDBusMessage;

namespace Coffer {

class Error;

// org.freedesktop.login1.Manager.
class LogindManager : public QObject
{
    Q_OBJECT
public:
    explicit LogindManager(const QDBusConnection &systemBus, QObject *parent = nullptr);

    QDBusConnection bus() const { return m_bus; }

    // Inhibit(what, who, why, mode): the lock lasts while the returned fd is open. `what` is
    // logind's colon-separated list ("sleep", "shutdown", "sleep:shutdown", ...), mode "delay"
    // or "block". Waits for logind's answer; throws Error (NotAuthorized if logind refuses,
    // NotSupported if there is no logind, Failed otherwise).
    UniqueFd inhibit(const QString &what, const QString &who, const QString &why,
                     const QString &mode = QStringLiteral("delay")) const;

    // The same without waiting: `done` gets the fd, or an invalid fd and the error. Not called
    // once `context` is gone.
    using InhibitCallback = std::function<void(UniqueFd fd, const Error *error)>;
    void inhibitAsync(const QString &what, const QString &who, const QString &why,
                      const QString &mode, QObject *context, InhibitCallback done) const;

Q_SIGNALS:
    // PrepareForSleep(true) just before the system sleeps, (false) after it resumed.
    void prepareForSleep(bool start);
    // PrepareForShutdown(true) before shutdown or reboot, (false) if it was cancelled.
    void prepareForShutdown(bool start);

private:
    QDBusMessage inhibitMessage(const QString &what, const QString &who, const QString &why,
                                const QString &mode) const;

    QDBusConnection m_bus;
};

// A delay lock held at all times, so that logind waits for our work (up to its
// InhibitDelayMaxSec, 5 s by default) before the system sleeps or shuts down. On
// PrepareForSleep(true) it emits aboutToSleep(); the receiver does its work (locks the vaults)
// and calls release(), at once or later, and the system goes on. After resume (or a cancelled
// shutdown) the lock is taken again, and held() says so.
class DelayInhibitor : public QObject
{
    Q_OBJECT
public:
    // `what`: "sleep", "shutdown" or "sleep:shutdown". Takes the first lock at once (async).
    DelayInhibitor(LogindManager *manager, const QString &what, const QString &who,
                   const QString &why, QObject *parent = nullptr);

    bool isHeld() const { return m_fd.valid(); }
    // The work before sleep or shutdown is done: close the lock so the system goes on.
    void release();

Q_SIGNALS:
    void held();
    void aboutToSleep();
    void aboutToShutdown();
    void resumed();
    // logind refused the lock (or is not there): nothing will wait for us.
    void failed(const QString &message);

private:
    void take();

    LogindManager *m_manager;
    QString m_what, m_who, m_why;
    UniqueFd m_fd;
    bool m_taking = false;
};

// The logind session of this process: GetSessionByPID(getpid()), or, for a process outside any
// session (a systemd user service, an app GNOME starts in its own scope), the user's display
// session (the User object's Display property). Found asynchronously: found() or notFound().
class LogindSession : public QObject
{
    Q_OBJECT
public:
    explicit LogindSession(const QDBusConnection &systemBus, QObject *parent = nullptr);

    bool isFound() const { return !m_path.isEmpty(); }
    // The session's object path, empty until found().
    QString path() const { return m_path; }
    bool lockedHint() const { return m_lockedHint; }
    bool isActive() const { return m_active; }

Q_SIGNALS:
    // The session was found and its LockedHint and Active read.
    void found();
    void notFound(const QString &message);
    // Session.Lock(): something (loginctl lock-session, the screen locker) asks to lock.
    void lockRequested();
    // Session.Unlock().
    void unlockRequested();
    void lockedHintChanged(bool locked);
    void activeChanged(bool active);

private Q_SLOTS:
    void onLock();
    void onUnlock();
    void onPropertiesChanged(const QString &interface, const QVariantMap &changed,
                             const QStringList &invalidated);

private:
    void findDisplaySession(const QString &whyNotOwn);
    void attach(const QString &path);
    // GetAll of the session; the first time (initial) silently, then found().
    void readProperties(bool initial);
    void applyProperties(const QVariantMap &properties, bool announce);

    QDBusConnection m_bus;
    QString m_path;
    bool m_lockedHint = false;
    bool m_active = false;
};

} // namespace Coffer
