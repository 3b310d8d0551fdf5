#include "polkitauthority.h"

#include <QDBusArgument>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>

namespace Coffer::Helper {

QDBusArgument &operator<<(QDBusArgument &arg, const PolkitSubject &subject)
{
    arg.beginStructure();
    arg << subject.kind << subject.details;
    arg.endStructure();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, PolkitSubject &subject)
{
    arg.beginStructure();
    arg >> subject.kind >> subject.details;
    arg.endStructure();
    return arg;
}

void registerPolkitTypes()
{
    static const bool done = [] {
        qDBusRegisterMetaType<PolkitSubject>();
        qDBusRegisterMetaType<QMap<QString, QString>>(); // the details, a{ss}
        return true;
    }();
    (void)done;
}

PolkitAuthority::PolkitAuthority(const QDBusConnection &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
{
    registerPolkitTypes();
}

void PolkitAuthority::check(const QString &actionId, const QString &sender, Done done)
{
    if (sender.isEmpty() || actionId.isEmpty()) {
        done(false, QStringLiteral("no caller to check"));
        return;
    }
    QDBusMessage call = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.PolicyKit1"),
        QStringLiteral("/org/freedesktop/PolicyKit1/Authority"),
        QStringLiteral("org.freedesktop.PolicyKit1.Authority"),
        QStringLiteral("CheckAuthorization"));
    const PolkitSubject subject{QStringLiteral("system-bus-name"),
                                {{QStringLiteral("name"), sender}}};
    constexpr uint AllowUserInteraction = 0x1;
    call << QVariant::fromValue(subject) << actionId
         << QVariant::fromValue(QMap<QString, QString>()) << AllowUserInteraction << QString();

    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(call, timeoutMs), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this,
            [watcher, done = std::move(done), actionId](QDBusPendingCallWatcher *) {
                watcher->deleteLater();
                const QDBusMessage reply = watcher->reply();
                if (reply.type() != QDBusMessage::ReplyMessage) {
                    done(false, QStringLiteral("polkit did not answer (%1: %2)")
                                    .arg(reply.errorName(), reply.errorMessage()));
                    return;
                }
                if (reply.signature() != QLatin1String("(bba{ss})") || reply.arguments().size() != 1) {
                    done(false, QStringLiteral("polkit sent an unexpected reply"));
                    return;
                }
                const auto arg = reply.arguments().first().value<QDBusArgument>();
                bool authorized = false;
                bool challenge = false;
                QMap<QString, QString> details;
                arg.beginStructure();
                arg >> authorized >> challenge >> details;
                arg.endStructure();
                if (!authorized) {
                    done(false, challenge ? QStringLiteral("authentication was not given")
                                          : QStringLiteral("not allowed by polkit"));
                    return;
                }
                done(true, QString());
            });
}

} // namespace Coffer::Helper
