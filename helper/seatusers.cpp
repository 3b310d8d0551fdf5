#include "seatusers.h"

#include "log.h"

#include <QDBusArgument>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusVariant>

#include <memory>
#include <utility>
#include <vector>

namespace Coffer::Helper {

namespace {

const QString Login1 = QStringLiteral("org.freedesktop.login1");
constexpr int logindTimeoutMs = 2000;

struct SeatedSession
{
    uid_t uid = 0;
    QString path;
};

// ListSessions' a(susso): id, uid, user name, seat ("" for a session without one), path.
std::vector<SeatedSession> seatedSessions(const QDBusMessage &reply)
{
    std::vector<SeatedSession> out;
    const QDBusArgument arg = reply.arguments().value(0).value<QDBusArgument>();
    if (arg.currentSignature() != QLatin1String("a(susso)"))
        return out;
    arg.beginArray();
    while (!arg.atEnd()) {
        QString id, user, seat;
        uint uid = 0;
        QDBusObjectPath path;
        arg.beginStructure();
        arg >> id >> uid >> user >> seat >> path;
        arg.endStructure();
        if (!seat.isEmpty())
            out.push_back({uid_t(uid), path.path()});
    }
    arg.endArray();
    return out;
}

} // namespace

SeatUsers::SeatUsers(const QDBusConnection &systemBus, QObject *parent)
    : QObject(parent)
    , m_bus(systemBus)
{
}

void SeatUsers::query(std::function<void(std::set<uid_t>)> done)
{
    if (!m_bus.isConnected()) {
        QMetaObject::invokeMethod(this, [done] { done({}); }, Qt::QueuedConnection);
        return;
    }
    const QDBusMessage list = QDBusMessage::createMethodCall(Login1, QStringLiteral("/org/freedesktop/login1"),
                                                             QStringLiteral("org.freedesktop.login1.Manager"),
                                                             QStringLiteral("ListSessions"));
    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(list, logindTimeoutMs), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this, watcher, done] {
        watcher->deleteLater();
        const QDBusMessage reply = watcher->reply();
        if (reply.type() != QDBusMessage::ReplyMessage) {
            done({});
            return;
        }
        const std::vector<SeatedSession> sessions = seatedSessions(reply);
        if (sessions.empty()) {
            done({});
            return;
        }
        // Each seated session's Active property; done() once every answer is in.
        struct Pending
        {
            size_t left = 0;
            std::set<uid_t> users;
        };
        auto pending = std::make_shared<Pending>();
        pending->left = sessions.size();
        for (const SeatedSession &session : sessions) {
            QDBusMessage get = QDBusMessage::createMethodCall(Login1, session.path,
                                                              QStringLiteral("org.freedesktop.DBus.Properties"),
                                                              QStringLiteral("Get"));
            get.setArguments({QStringLiteral("org.freedesktop.login1.Session"), QStringLiteral("Active")});
            auto *active = new QDBusPendingCallWatcher(m_bus.asyncCall(get, logindTimeoutMs), this);
            connect(active, &QDBusPendingCallWatcher::finished, this, [active, pending, done, uid = session.uid] {
                active->deleteLater();
                const QDBusPendingReply<QDBusVariant> answer = *active;
                if (answer.isValid() && answer.value().variant().toBool())
                    pending->users.insert(uid);
                if (--pending->left == 0)
                    done(pending->users);
            });
        }
    });
}

} // namespace Coffer::Helper
