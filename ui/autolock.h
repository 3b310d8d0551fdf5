#pragma once

// Locks open vaults by their LockPolicy (else the application's settings): when the screen
// locks (ScreenLockMonitor), when the person has been idle for the vault's minutes
// (IdleMonitor: one per distinct timeout, made only while a vault needs it), and a maximum
// time after unlocking (WallClockTimer on CLOCK_BOOTTIME: time asleep counts). Suspend is the
// helper's own business. Nothing here polls.

#include <QDBusConnection>
#include <QHash>
#include <QMap>
#include <QObject>

#include <chrono>
#include <functional>
#include <memory>

namespace Coffer {
class IdleMonitor;
class ScreenLockMonitor;
class WallClockTimer;
}

namespace Coffer::Ui {

class VaultController;
class VaultModel;

class AutoLock : public QObject
{
    Q_OBJECT

public:
    // How idle monitors are made (IdleMonitor::create on the session bus; tests put in their
    // own). It may throw Error(NotSupported): idle locking is then unavailable, and said so.
    using IdleMonitorFactory = std::function<std::unique_ptr<IdleMonitor>(std::chrono::milliseconds)>;

    AutoLock(VaultModel *model, VaultController *controller, ScreenLockMonitor *screenLock,
             IdleMonitorFactory idleMonitors, QObject *parent = nullptr);
    ~AutoLock() override;

    static IdleMonitorFactory sessionIdleMonitors(const QDBusConnection &sessionBus);

    // Why idle locking does not work in this session ("" when it does, or was not needed yet).
    QString idleUnavailable() const { return m_idleUnavailable; }
    // The idle timeouts watched now, in minutes.
    QList<int> idleMinutesWatched() const { return m_idle.keys(); }
    // When the vault will be locked for having been open too long (invalid: no deadline).
    bool hasDeadline(const QString &id) const;

Q_SIGNALS:
    void idleAvailabilityChanged();

private:
    int idleMinutesOf(const QString &id) const;
    int maxOpenMinutesOf(const QString &id) const;
    bool locksOnScreenLock(const QString &id) const;
    void onScreenLocked();
    void onIdle(int minutes);
    void onUnlocked(const QString &id);
    void onLocked(const QString &id);
    // Idle monitors for the timeouts the open vaults need, no more.
    void updateIdleMonitors();

    VaultModel *m_model;
    VaultController *m_controller;
    IdleMonitorFactory m_idleMonitors;
    QMap<int, IdleMonitor *> m_idle; // by minutes
    QHash<QString, WallClockTimer *> m_deadlines; // by vault id
    QString m_idleUnavailable;
};

} // namespace Coffer::Ui
