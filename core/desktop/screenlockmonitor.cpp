#include "desktop/screenlockmonitor.h"

#include "desktop/logind.h"

namespace Coffer {

namespace {

struct ScreenSaver {
    const char *service;
    const char *path;
    const char *interface;
};

// KDE's screen locker serves org.freedesktop.ScreenSaver at both paths; the second one's signal
// is a duplicate that setLocked() drops.
constexpr ScreenSaver ScreenSavers[] = {
    {"org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"},
    {"org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"},
    {"org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"},
    {"org.cinnamon.ScreenSaver", "/org/cinnamon/ScreenSaver", "org.cinnamon.ScreenSaver"},
    {"org.mate.ScreenSaver", "/org/mate/ScreenSaver", "org.mate.ScreenSaver"},
    {"org.xfce.ScreenSaver", "/org/xfce/ScreenSaver", "org.xfce.ScreenSaver"},
};

} // namespace

ScreenLockMonitor::ScreenLockMonitor(const QDBusConnection &systemBus,
                                     const QDBusConnection &sessionBus, QObject *parent)
    : QObject(parent)
    , m_session(new LogindSession(systemBus, this))
{
    connect(m_session, &LogindSession::found, this, [this] { m_locked = m_session->lockedHint(); });
    connect(m_session, &LogindSession::lockRequested, this, [this] { setLocked(true); });
    connect(m_session, &LogindSession::unlockRequested, this, [this] { setLocked(false); });
    connect(m_session, &LogindSession::lockedHintChanged, this, &ScreenLockMonitor::setLocked);

    QDBusConnection bus(sessionBus);
    for (const ScreenSaver &saver : ScreenSavers) {
        bus.connect(QLatin1String(saver.service), QLatin1String(saver.path),
                    QLatin1String(saver.interface), QStringLiteral("ActiveChanged"), this,
                    SLOT(onScreenSaverActiveChanged(bool)));
    }
}

void ScreenLockMonitor::onScreenSaverActiveChanged(bool active)
{
    setLocked(active);
}

void ScreenLockMonitor::setLocked(bool nowLocked)
{
    if (nowLocked == m_locked)
        return;
    m_locked = nowLocked;
    if (nowLocked)
        Q_EMIT locked();
    else
        Q_EMIT unlocked();
}

} // namespace Coffer
