#include "client/calls.h"

#include "dbus/errornames.h"
#include "dbus/helper1.h"

#include <QDBusArgument>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>

namespace Coffer::Client {

void whenAnswered(QObject *context, const QDBusPendingCall &call,
                  std::function<void(const std::optional<Error> &error, const QDBusMessage &reply)> done)
{
    auto *watcher = new QDBusPendingCallWatcher(call, context);
    QObject::connect(watcher, &QDBusPendingCallWatcher::finished, context, [watcher, done = std::move(done)] {
        watcher->deleteLater();
        if (watcher->isError())
            done(DBusErrors::toError(watcher->error()), QDBusMessage());
        else
            done(std::nullopt, watcher->reply());
    });
}

QDBusPendingCall getAllProperties(const QDBusConnection &bus, const QString &path, const char *interface,
                                  bool autoStart)
{
    QDBusMessage call = QDBusMessage::createMethodCall(QString::fromLatin1(Helper1::Service), path,
                                                       QString::fromLatin1(PropertiesInterface),
                                                       QStringLiteral("GetAll"));
    call << QString::fromLatin1(interface);
    call.setAutoStartService(autoStart);
    return bus.asyncCall(call);
}

QVariantMap propertiesOf(const QDBusMessage &reply)
{
    return reply.arguments().isEmpty() ? QVariantMap() : dictionaryValue(reply.arguments().first());
}

QVariantMap dictionaryValue(const QVariant &value)
{
    if (value.metaType() == QMetaType::fromType<QDBusArgument>()) {
        const auto argument = value.value<QDBusArgument>();
        return argument.currentSignature() == QLatin1String("a{sv}") ? qdbus_cast<QVariantMap>(argument)
                                                                     : QVariantMap();
    }
    return value.toMap();
}

} // namespace Coffer::Client
