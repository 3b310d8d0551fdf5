#pragma once

#include "desktop/idlemonitor.h"

namespace Coffer {

// org.gnome.Mutter.IdleMonitor on the session bus: AddIdleWatch(timeout) fires each time the
// user has been idle that long, AddUserActiveWatch fires once at the next input. If Mutter
// restarts (gnome-shell on X11 does), the watches are added again.
class MutterIdleMonitor : public IdleMonitor
{
    Q_OBJECT
public:
    // Throws Error(NotSupported) if nobody owns org.gnome.Mutter.IdleMonitor on sessionBus.
    static std::unique_ptr<MutterIdleMonitor> create(const QDBusConnection &sessionBus,
                                                     std::chrono::milliseconds timeout,
                                                     QObject *parent = nullptr);
    ~MutterIdleMonitor() override;

    QString backendName() const override { return QStringLiteral("mutter"); }

private Q_SLOTS:
    void onWatchFired(uint id);

private:
    MutterIdleMonitor(const QDBusConnection &sessionBus, std::chrono::milliseconds timeout, QObject *parent);
    enum class Watch { Idle, UserActive };
    // AddIdleWatch(timeout) or AddUserActiveWatch(), keeping the id it returns.
    void addWatch(Watch watch);
    void removeWatch(uint id);
    void mutterChanged(bool present);

    QDBusConnection m_bus;
    uint m_idleWatch = 0;
    uint m_activeWatch = 0;
    // Counts Mutter's restarts: an id from an earlier Mutter means nothing to the new one.
    uint m_generation = 0;
};

} // namespace Coffer
