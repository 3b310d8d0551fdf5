#pragma once

#include "error.h"

#include <QDBusError>
#include <QDBusMessage>
#include <QString>

// The ONE place that maps Coffer::ErrorCode <-> D-Bus error names
// "org.coffer.Helper1.Error.<Name>" (design.md 3). The helper uses it to reply, clients to turn
// a reply back into a Coffer::Error.
namespace Coffer::DBusErrors {

inline constexpr char Prefix[] = "org.coffer.Helper1.Error.";

// "org.coffer.Helper1.Error.NoSpace" for ErrorCode::NoSpace.
QString errorName(ErrorCode code);

// The code behind a D-Bus error name. Our own names map back exactly; the bus's own errors map
// to the nearest kind (AccessDenied -> NotAuthorized, ServiceUnknown -> NotFound,
// NoReply/Timeout -> Failed); anything else is Failed.
ErrorCode errorCodeFromName(const QString &name);

// An error reply to `call` carrying `error`'s name and message.
QDBusMessage errorReply(const QDBusMessage &call, const Error &error);

// The Coffer::Error a client should raise for a D-Bus error.
Error toError(const QDBusError &error);
Error toError(const QString &name, const QString &message);

} // namespace Coffer::DBusErrors
