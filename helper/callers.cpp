#include "callers.h"

#include <QDBusConnectionInterface>
#include <QDBusMessage>

namespace Coffer::Helper {

Callers::Callers(const QDBusConnection &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
{
    m_watcher.setConnection(bus);
    m_watcher.setWatchMode(QDBusServiceWatcher::WatchForUnregistration);
    connect(&m_watcher, &QDBusServiceWatcher::serviceUnregistered, this, &Callers::forget);
}

std::optional<uid_t> Callers::uidOf(const QString &name)
{
    if (const auto known = m_uids.constFind(name); known != m_uids.constEnd())
        return *known;
    if (!name.startsWith(QLatin1Char(':')))
        return std::nullopt; // senders are always unique names
    const QDBusReply<uint> uid = m_bus.interface()->serviceUid(name);
    if (!uid.isValid())
        return std::nullopt;
    // Watch first, then look again: a connection gone in between is not remembered forever.
    m_watcher.addWatchedService(name);
    if (!isConnected(name)) {
        m_watcher.removeWatchedService(name);
        return std::nullopt;
    }
    m_uids.insert(name, uid.value());
    return uid.value();
}

bool Callers::isConnected(const QString &name) const
{
    return m_bus.interface()->isServiceRegistered(name).value();
}

void Callers::forget(const QString &name)
{
    m_uids.remove(name);
    m_watcher.removeWatchedService(name);
}

void Callers::sendSignal(const std::set<uid_t> &users, const QString &path, const QString &interface,
                         const QString &member, const QVariantList &args) const
{
    for (auto it = m_uids.cbegin(); it != m_uids.cend(); ++it) {
        if (!users.count(it.value()))
            continue;
        QDBusMessage signal = QDBusMessage::createTargetedSignal(it.key(), path, interface, member);
        signal.setArguments(args);
        m_bus.send(signal);
    }
}

} // namespace Coffer::Helper
