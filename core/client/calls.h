#pragma once

// core/client's plumbing for D-Bus calls: waiting for an answer without blocking, and reading
// org.freedesktop.DBus.Properties. The properties are raw messages, because the generated proxies
// read one property at a time and block; GetAll and PropertiesChanged are neither in the helper's
// XML nor generated.

#include "error.h"

#include <QDBusConnection>
#include <QDBusPendingCall>
#include <QString>
#include <QVariantMap>

#include <functional>
#include <optional>

class QObject;

namespace Coffer::Client {

// Calls done(error, reply) on context's thread when `call` is answered; error is the D-Bus error
// reply as a Coffer::Error (core/dbus/errornames.h). Nothing happens if context is gone by then.
void whenAnswered(QObject *context, const QDBusPendingCall &call,
                  std::function<void(const std::optional<Error> &error, const QDBusMessage &reply)> done);

inline constexpr char PropertiesInterface[] = "org.freedesktop.DBus.Properties";

// GetAll(interface) on the helper's object at `path`. Without autoStart a helper that is not
// running is not started for it (a job of a helper that died is gone; a new one would not know it).
QDBusPendingCall getAllProperties(const QDBusConnection &bus, const QString &path, const char *interface,
                                  bool autoStart);

// The dictionary of a GetAll reply.
QVariantMap propertiesOf(const QDBusMessage &reply);

// A value that is itself an a{sv}: QtDBus hands a dictionary nested in a variant over undecoded.
QVariantMap dictionaryValue(const QVariant &value);

} // namespace Coffer::Client
