#include "dbus/errornames.h"

namespace Coffer::DBusErrors {

QString errorName(ErrorCode code)
{
    const std::string_view name = errorCodeName(code);
    return QLatin1String(Prefix) + QString::fromLatin1(name.data(), qsizetype(name.size()));
}

ErrorCode errorCodeFromName(const QString &name)
{
    if (name.startsWith(QLatin1String(Prefix)))
        return Coffer::errorCodeFromName(name.mid(qsizetype(sizeof Prefix - 1)).toStdString())
            .value_or(ErrorCode::Failed);
    // The bus's own errors: the daemon refused (policy), the service is not installed, or the
    // peer sent something that does not match the interface.
    if (name == QLatin1String("org.freedesktop.DBus.Error.AccessDenied")
        || name == QLatin1String("org.freedesktop.DBus.Error.AuthFailed"))
        return ErrorCode::NotAuthorized;
    if (name == QLatin1String("org.freedesktop.DBus.Error.ServiceUnknown")
        || name == QLatin1String("org.freedesktop.DBus.Error.UnknownObject")
        || name == QLatin1String("org.freedesktop.DBus.Error.UnknownMethod"))
        return ErrorCode::NotFound;
    if (name == QLatin1String("org.freedesktop.DBus.Error.InvalidArgs"))
        return ErrorCode::InvalidArgument;
    if (name == QLatin1String("org.freedesktop.DBus.Error.NotSupported"))
        return ErrorCode::NotSupported;
    return ErrorCode::Failed;
}

QDBusMessage errorReply(const QDBusMessage &call, const Error &error)
{
    return call.createErrorReply(errorName(error.code()), QString::fromStdString(error.message()));
}

Error toError(const QString &name, const QString &message)
{
    QString text = message;
    if (text.isEmpty())
        text = name;
    return Error(errorCodeFromName(name), text.toStdString());
}

Error toError(const QDBusError &error)
{
    return toError(error.name(), error.message());
}

} // namespace Coffer::DBusErrors
