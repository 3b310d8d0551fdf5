#pragma once

#include <QDBusConnection>
#include <QDBusServiceWatcher>
#include <QHash>
#include <QObject>
#include <QVariantList>

#include <sys/types.h>

#include <optional>
#include <set>

namespace Coffer::Helper {

// Who is on the other end of a bus connection (design.md 4.2: identity from the bus, never from
// an argument), and the connections each user has called the helper from, so that what
// concerns one user's vaults reaches only that user: the helper's signals go to those
// connections one by one (with a destination), never to the whole bus.
class Callers : public QObject
{
    Q_OBJECT
public:
    explicit Callers(const QDBusConnection &bus, QObject *parent = nullptr);

    // The uid behind a unique bus name: asked of the bus once (unique names are never reused)
    // and remembered while the connection lasts. nullopt if the bus cannot tell (gone already).
    std::optional<uid_t> uidOf(const QString &name);
    // Whether the connection is still there (asked of the bus now).
    bool isConnected(const QString &name) const;

    // Sends the signal path/interface.member(args) to every connection of these users.
    void sendSignal(const std::set<uid_t> &users, const QString &path, const QString &interface,
                    const QString &member, const QVariantList &args) const;

private:
    void forget(const QString &name);

    QDBusConnection m_bus;
    QDBusServiceWatcher m_watcher;
    QHash<QString, uid_t> m_uids; // unique name -> uid
};

} // namespace Coffer::Helper
