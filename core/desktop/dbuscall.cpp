#include "desktop/dbuscall.h"

#include <QDBusError>

namespace Coffer::DesktopDBus {

Error errorFromReply(const QDBusMessage &reply, std::string_view what)
{
    const QDBusError error(reply);
    ErrorCode code = ErrorCode::Failed;
    switch (error.type()) {
    case QDBusError::AccessDenied:
        code = ErrorCode::NotAuthorized;
        break;
    case QDBusError::ServiceUnknown:
    case QDBusError::UnknownObject:
    case QDBusError::UnknownInterface:
    case QDBusError::UnknownMethod:
        code = ErrorCode::NotSupported;
        break;
    default:
        if (error.name() == QLatin1String("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
            code = ErrorCode::NotAuthorized;
        break;
    }
    std::string message(what);
    const QString detail = error.message().isEmpty() ? error.name() : error.message();
    if (!detail.isEmpty())
        message += ": " + detail.toStdString();
    return Error(code, message);
}

QDBusMessage propertyGet(const QString &service, const QString &path, const QString &interface,
                         const QString &name)
{
    QDBusMessage message = QDBusMessage::createMethodCall(
        service, path, QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"));
    message << interface << name;
    return message;
}

} // namespace Coffer::DesktopDBus
