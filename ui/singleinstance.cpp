#include "singleinstance.h"

#include <QDBusConnectionInterface>
#include <QDBusMessage>

namespace Coffer::Ui {

namespace {
const QString Interface = QStringLiteral("org.freedesktop.Application");
}

SingleInstance::SingleInstance(const QDBusConnection &sessionBus, QObject *parent)
    : QObject(parent)
    , m_bus(sessionBus)
{
}

SingleInstance::Claim SingleInstance::claim()
{
    if (!m_bus.isConnected() || !m_bus.interface())
        return Claim::NoBus;
    // The object before the name: whoever sees the name may call it at once.
    m_bus.registerObject(QLatin1String(ObjectPath), this, QDBusConnection::ExportAllSlots);
    const auto reply = m_bus.interface()->registerService(QLatin1String(ServiceName),
                                                          QDBusConnectionInterface::DontQueueService,
                                                          QDBusConnectionInterface::DontAllowReplacement);
    if (reply.isValid() && reply.value() == QDBusConnectionInterface::ServiceRegistered)
        return Claim::First;
    m_bus.unregisterObject(QLatin1String(ObjectPath));
    return reply.isValid() ? Claim::AlreadyRunning : Claim::NoBus;
}

bool SingleInstance::activateRunning() const
{
    QDBusMessage call = QDBusMessage::createMethodCall(QLatin1String(ServiceName), QLatin1String(ObjectPath),
                                                       Interface, QStringLiteral("Activate"));
    call << QVariantMap();
    return m_bus.call(call, QDBus::Block, 10000).type() == QDBusMessage::ReplyMessage;
}

void SingleInstance::Activate(const QVariantMap &)
{
    Q_EMIT activated();
}

void SingleInstance::Open(const QStringList &, const QVariantMap &)
{
    Q_EMIT activated();
}

void SingleInstance::ActivateAction(const QString &actionName, const QVariantList &, const QVariantMap &)
{
    if (actionName == QLatin1String("quit"))
        Q_EMIT quitRequested();
    else
        Q_EMIT activated();
}

} // namespace Coffer::Ui
