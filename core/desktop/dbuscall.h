#pragma once

// Small pieces shared by core/desktop's D-Bus clients (not installed, not part of the API).

#include "error.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusError>
#include <QObject>

#include <functional>
#include <string_view>
#include <utility>

namespace Coffer::DesktopDBus {

// Hands one reply to a callback. QDBusConnection::callWithCallback posts the reply to its
// receiver in one step, as it posts signals, so a reply is never overtaken by a signal that the
// service sent after it (a QDBusPendingCallWatcher's finished() takes two steps, and can be).
class ReplyReceiver : public QObject
{
    Q_OBJECT
public:
    ReplyReceiver(QObject *context, std::function<void(const QDBusMessage &)> onReply)
        : QObject(context)
        , m_onReply(std::move(onReply))
    {
    }

public Q_SLOTS:
    void reply(const QDBusMessage &message) { deliver(message); }
    // (The message Qt hands the error slot is the call, not the error.)
    void error(const QDBusError &error) { deliver(QDBusMessage::createError(error)); }

private:
    void deliver(const QDBusMessage &message)
    {
        deleteLater();
        std::exchange(m_onReply, nullptr)(message);
    }

    std::function<void(const QDBusMessage &)> m_onReply;
};

// Sends `message` and calls onReply(reply) (a reply or an error message) when it comes, unless
// `context` is gone by then. Never blocks.
template<typename F>
void callAsync(const QDBusConnection &bus, const QDBusMessage &message, QObject *context, F onReply)
{
    auto *receiver = new ReplyReceiver(context, std::move(onReply));
    if (!bus.callWithCallback(message, receiver, SLOT(reply(QDBusMessage)),
                              SLOT(error(QDBusError)))) {
        // Not even sent (no connection): answer with the error, later, as a reply would come.
        const QDBusError failed = bus.lastError();
        QMetaObject::invokeMethod(receiver, [receiver, failed] { receiver->error(failed); }, Qt::QueuedConnection);
    }
}

// The Coffer::Error for a D-Bus error reply: "<what>: <the service's message>", NotAuthorized
// for access denied, NotSupported when nobody provides the service.
Error errorFromReply(const QDBusMessage &reply, std::string_view what);

// Properties.Get(interface, name) as a message to send.
QDBusMessage propertyGet(const QString &service, const QString &path, const QString &interface,
                         const QString &name);

} // namespace Coffer::DesktopDBus
