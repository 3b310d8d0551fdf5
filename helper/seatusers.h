#pragma once

#include <QDBusConnection>
#include <QObject>

#include <sys/types.h>

#include <functional>
#include <set>

namespace Coffer::Helper {

// The users sitting at the machine now: the owner of each seat's active session, as logind
// says (its ListSessions, then each seated session's Active property). A drive plugged into
// the machine concerns them, and no one else (the helper's MediaAdded goes to them). Asked
// afresh every time, asynchronously: a session switch between two plugs is not missed.
class SeatUsers : public QObject
{
    Q_OBJECT
public:
    // `systemBus`: where logind is. Not connected (tests on a private bus): nobody is seated.
    explicit SeatUsers(const QDBusConnection &systemBus, QObject *parent = nullptr);

    // done(users) later, from the event loop; without logind (or when it does not answer
    // within a second or two) the set is empty. Not called once this object is gone.
    void query(std::function<void(std::set<uid_t>)> done);

private:
    QDBusConnection m_bus;
};

} // namespace Coffer::Helper
