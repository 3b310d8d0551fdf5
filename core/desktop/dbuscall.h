#pragma once

// Small pieces shared by core/desktop's D-Bus clients (not installed, not part of the API).

#include "error.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QObject>

#include <string_view>

namespace Coffer::DesktopDBus {

// Sends `message` and calls onReply(reply) (a reply or an error message) when it comes, unless
// `context` is gone by then. Never blocks.
template<typename F>
void callAsync(const QDBusConnection &bus, const QDBusMessage &message, QObject *context, F onReply)
{
    auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(message), context);
    QObject::connect(watcher, &QDBusPendingCallWatcher::finished, context,
                     [watcher, onReply = std::move(onReply)]() mutable {
                         watcher->deleteLater();
                         onReply(watcher->reply());
                     });
}

// The Coffer::Error for a D-Bus error reply: "<what>: <the service's message>", NotAuthorized
// for access denied, NotSupported when nobody provides the service.
Error errorFromReply(const QDBusMessage &reply, std::string_view what);

// Properties.Get(interface, name) as a message to send.
QDBusMessage propertyGet(const QString &service, const QString &path, const QString &interface,
                         const QString &name);

} // namespace Coffer::DesktopDBus
