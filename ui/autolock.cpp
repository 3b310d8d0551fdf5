#include "autolock.h"

#include "desktop/idlemonitor.h"
#include "desktop/screenlockmonitor.h"
#include "desktop/wallclocktimer.h"
#include "vaultcontroller.h"
#include "vaultmodel.h"

#include <QSet>

namespace Coffer::Ui {

AutoLock::AutoLock(VaultModel *model, VaultController *controller, ScreenLockMonitor *screenLock,
                   IdleMonitorFactory idleMonitors, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_controller(controller)
    , m_idleMonitors(std::move(idleMonitors))
{
    if (screenLock)
        connect(screenLock, &ScreenLockMonitor::locked, this, &AutoLock::onScreenLocked);
    connect(model, &VaultModel::vaultUnlocked, this, &AutoLock::onUnlocked);
    connect(model, &VaultModel::vaultLocked, this, &AutoLock::onLocked);
    connect(model->registry(), &Config::Registry::changed, this, &AutoLock::updateIdleMonitors);
    for (const VaultRow &row : model->rows()) {
        if (row.isOpen())
            onUnlocked(row.id);
    }
}

AutoLock::~AutoLock() = default;

AutoLock::IdleMonitorFactory AutoLock::sessionIdleMonitors(const QDBusConnection &sessionBus)
{
    return [sessionBus](std::chrono::milliseconds timeout) { return IdleMonitor::create(sessionBus, timeout); };
}

bool AutoLock::hasDeadline(const QString &id) const
{
    const WallClockTimer *timer = m_deadlines.value(id.toLower());
    return timer && timer->isActive();
}

int AutoLock::idleMinutesOf(const QString &id) const
{
    const std::optional<VaultRow> row = m_model->row(id);
    const Config::Settings &settings = m_model->registry()->settings();
    return row && row->entry ? row->entry->lock.idleMinutes.value_or(settings.idleLockMinutes) : settings.idleLockMinutes;
}

int AutoLock::maxOpenMinutesOf(const QString &id) const
{
    const std::optional<VaultRow> row = m_model->row(id);
    const Config::Settings &settings = m_model->registry()->settings();
    return row && row->entry ? row->entry->lock.maxOpenMinutes.value_or(settings.maxOpenMinutes) : settings.maxOpenMinutes;
}

bool AutoLock::locksOnScreenLock(const QString &id) const
{
    const std::optional<VaultRow> row = m_model->row(id);
    const Config::Settings &settings = m_model->registry()->settings();
    return row && row->entry ? row->entry->lock.onScreenLock.value_or(settings.lockOnScreenLock) : settings.lockOnScreenLock;
}

void AutoLock::onScreenLocked()
{
    const std::vector<VaultRow> rows = m_model->rows(); // a copy: locking may change the model
    for (const VaultRow &row : rows) {
        if (row.isOpen() && locksOnScreenLock(row.id))
            m_controller->autoLock(row.id, tr("the screen was locked"));
    }
}

void AutoLock::onIdle(int minutes)
{
    const std::vector<VaultRow> rows = m_model->rows(); // a copy: locking may change the model
    for (const VaultRow &row : rows) {
        if (row.isOpen() && idleMinutesOf(row.id) == minutes)
            m_controller->autoLock(row.id, tr("idle for %n minute(s)", nullptr, minutes));
    }
}

void AutoLock::onUnlocked(const QString &id)
{
    updateIdleMonitors();
    delete m_deadlines.take(id);
    const int minutes = maxOpenMinutesOf(id);
    if (minutes <= 0)
        return;
    auto *timer = new WallClockTimer(this);
    connect(timer, &WallClockTimer::timeout, this, [this, id, minutes] {
        delete m_deadlines.take(id);
        m_controller->autoLock(id, tr("open for %n minute(s)", nullptr, minutes));
    });
    timer->startAfter(std::chrono::minutes(minutes));
    m_deadlines.insert(id, timer);
}

void AutoLock::onLocked(const QString &id)
{
    delete m_deadlines.take(id);
    updateIdleMonitors();
}

void AutoLock::updateIdleMonitors()
{
    QSet<int> needed;
    for (const VaultRow &row : m_model->rows()) {
        if (row.isOpen() && idleMinutesOf(row.id) > 0)
            needed.insert(idleMinutesOf(row.id));
    }
    for (auto it = m_idle.begin(); it != m_idle.end();) {
        if (!needed.contains(it.key())) {
            delete it.value();
            it = m_idle.erase(it);
        } else {
            ++it;
        }
    }
    const QString before = m_idleUnavailable;
    for (int minutes : std::as_const(needed)) {
        if (m_idle.contains(minutes))
            continue;
        std::unique_ptr<IdleMonitor> monitor;
        try {
            monitor = m_idleMonitors(std::chrono::minutes(minutes));
        } catch (const Error &e) {
            m_idleUnavailable = QString::fromStdString(e.message());
            break;
        }
        m_idleUnavailable.clear();
        IdleMonitor *watching = monitor.release();
        watching->setParent(this);
        connect(watching, &IdleMonitor::idle, this, [this, minutes] { onIdle(minutes); });
        connect(watching, &IdleMonitor::lost, this, [this, minutes](const QString &why) {
            m_idleUnavailable = why;
            if (IdleMonitor *gone = m_idle.take(minutes))
                gone->deleteLater();
            Q_EMIT idleAvailabilityChanged();
        });
        m_idle.insert(minutes, watching);
    }
    if (m_idleUnavailable != before)
        Q_EMIT idleAvailabilityChanged();
}

} // namespace Coffer::Ui
