#include "desktop/logind.h"

#include "desktop/dbuscall.h"
#include "error.h"

#include <QDBusArgument>
#include <QDBusObjectPath>
#include <QDBusUnixFileDescriptor>
#include <QDBusVariant>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace Coffer {

namespace {

const QString Service = QStringLiteral("org.freedesktop.login1");
const QString ManagerPath = QStringLiteral("/org/freedesktop/login1");
const QString ManagerInterface = QStringLiteral("org.freedesktop.login1.Manager");
const QString SessionInterface = QStringLiteral("org.freedesktop.login1.Session");
const QString UserInterface = QStringLiteral("org.freedesktop.login1.User");
const QString PropertiesInterface = QStringLiteral("org.freedesktop.DBus.Properties");

// Our own copy of the inhibitor fd in the reply: the message's copy closes with the message.
UniqueFd inhibitorFdFromReply(const QDBusMessage &reply)
{
    if (reply.type() != QDBusMessage::ReplyMessage)
        throw DesktopDBus::errorFromReply(reply, "logind refused the inhibitor lock");
    const auto fd = reply.arguments().value(0).value<QDBusUnixFileDescriptor>();
    if (!fd.isValid())
        throw Error(ErrorCode::Failed, "logind's answer to Inhibit carried no file descriptor");
    UniqueFd own(fcntl(fd.fileDescriptor(), F_DUPFD_CLOEXEC, 3));
    if (!own)
        throw Error::fromErrno(errno, "Cannot keep the inhibitor lock's file descriptor");
    return own;
}

// The session path in the User object's Display property, "(so)"; empty if it is not that.
QString sessionPathOfDisplay(const QVariant &value)
{
    const auto arg = value.value<QDBusVariant>().variant().value<QDBusArgument>();
    if (arg.currentSignature() != QLatin1String("(so)"))
        return QString();
    QString id;
    QDBusObjectPath path;
    arg.beginStructure();
    arg >> id >> path;
    arg.endStructure();
    return path.path();
}

} // namespace

// ---- LogindManager ---------------------------------------------------------------------------

LogindManager::LogindManager(const QDBusConnection &systemBus, QObject *parent)
    : QObject(parent)
    , m_bus(systemBus)
{
    m_bus.connect(Service, ManagerPath, ManagerInterface, QStringLiteral("PrepareForSleep"), this,
                  SIGNAL(prepareForSleep(bool)));
    m_bus.connect(Service, ManagerPath, ManagerInterface, QStringLiteral("PrepareForShutdown"),
                  this, SIGNAL(prepareForShutdown(bool)));
}

QDBusMessage LogindManager::inhibitMessage(const QString &what, const QString &who,
                                           const QString &why, const QString &mode) const
{
    QDBusMessage message = QDBusMessage::createMethodCall(Service, ManagerPath, ManagerInterface,
                                                          QStringLiteral("Inhibit"));
    message << what << who << why << mode;
    return message;
}

UniqueFd LogindManager::inhibit(const QString &what, const QString &who, const QString &why,
                                const QString &mode) const
{
    return inhibitorFdFromReply(m_bus.call(inhibitMessage(what, who, why, mode)));
}

void LogindManager::inhibitAsync(const QString &what, const QString &who, const QString &why,
                                 const QString &mode, QObject *context, InhibitCallback done) const
{
    DesktopDBus::callAsync(m_bus, inhibitMessage(what, who, why, mode), context,
                           [done = std::move(done)](const QDBusMessage &reply) {
                               try {
                                   done(inhibitorFdFromReply(reply), nullptr);
                               } catch (const Error &e) {
                                   done(UniqueFd(), &e);
                               }
                           });
}

// ---- DelayInhibitor --------------------------------------------------------------------------

DelayInhibitor::DelayInhibitor(LogindManager *manager, const QString &what, const QString &who,
                               const QString &why, QObject *parent)
    : QObject(parent)
    , m_manager(manager)
    , m_what(what)
    , m_who(who)
    , m_why(why)
{
    const QStringList kinds = what.split(QLatin1Char(':'));
    if (kinds.contains(QLatin1String("sleep"))) {
        connect(manager, &LogindManager::prepareForSleep, this, [this](bool start) {
            if (start) {
                Q_EMIT aboutToSleep();
            } else {
                // The lock we held was for the sleep that is over; logind wants a new one.
                release();
                take();
                Q_EMIT resumed();
            }
        });
    }
    if (kinds.contains(QLatin1String("shutdown"))) {
        connect(manager, &LogindManager::prepareForShutdown, this, [this](bool start) {
            if (start) {
                Q_EMIT aboutToShutdown();
            } else {
                release();
                take();
            }
        });
    }
    take();
}

void DelayInhibitor::release()
{
    m_fd.reset();
}

void DelayInhibitor::take()
{
    if (m_taking || m_fd)
        return;
    m_taking = true;
    m_manager->inhibitAsync(m_what, m_who, m_why, QStringLiteral("delay"), this,
                            [this](UniqueFd fd, const Error *error) {
                                m_taking = false;
                                if (error) {
                                    Q_EMIT failed(QString::fromStdString(error->message()));
                                    return;
                                }
                                m_fd = std::move(fd);
                                Q_EMIT held();
                            });
}

// ---- LogindSession ---------------------------------------------------------------------------

LogindSession::LogindSession(const QDBusConnection &systemBus, QObject *parent)
    : QObject(parent)
    , m_bus(systemBus)
{
    QDBusMessage byPid = QDBusMessage::createMethodCall(Service, ManagerPath, ManagerInterface,
                                                        QStringLiteral("GetSessionByPID"));
    byPid << uint(getpid());
    DesktopDBus::callAsync(m_bus, byPid, this, [this](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage)
            attach(reply.arguments().value(0).value<QDBusObjectPath>().path());
        else
            findDisplaySession(QDBusError(reply).message());
    });
}

void LogindSession::findDisplaySession(const QString &whyNotOwn)
{
    QDBusMessage getUser = QDBusMessage::createMethodCall(Service, ManagerPath, ManagerInterface,
                                                          QStringLiteral("GetUser"));
    getUser << uint(getuid());
    DesktopDBus::callAsync(m_bus, getUser, this, [this, whyNotOwn](const QDBusMessage &reply) {
        if (reply.type() != QDBusMessage::ReplyMessage) {
            Q_EMIT notFound(QStringLiteral("This process is in no logind session (%1) and logind "
                                           "knows no user %2: %3")
                                .arg(whyNotOwn)
                                .arg(getuid())
                                .arg(QDBusError(reply).message()));
            return;
        }
        const QString userPath = reply.arguments().value(0).value<QDBusObjectPath>().path();
        DesktopDBus::callAsync(
            m_bus, DesktopDBus::propertyGet(Service, userPath, UserInterface, QStringLiteral("Display")),
            this, [this, whyNotOwn](const QDBusMessage &displayReply) {
                const QString path = displayReply.type() == QDBusMessage::ReplyMessage
                                         ? sessionPathOfDisplay(displayReply.arguments().value(0))
                                         : QString();
                if (path.isEmpty() || path == QLatin1String("/")) {
                    Q_EMIT notFound(QStringLiteral("This process is in no logind session (%1) and "
                                                   "its user has no graphical session")
                                        .arg(whyNotOwn));
                    return;
                }
                attach(path);
            });
    });
}

void LogindSession::attach(const QString &path)
{
    m_path = path;
    m_bus.connect(Service, path, SessionInterface, QStringLiteral("Lock"), this, SLOT(onLock()));
    m_bus.connect(Service, path, SessionInterface, QStringLiteral("Unlock"), this, SLOT(onUnlock()));
    m_bus.connect(Service, path, PropertiesInterface, QStringLiteral("PropertiesChanged"), this,
                  SLOT(onPropertiesChanged(QString, QVariantMap, QStringList)));
    // Subscribed first, read second: a change in between is not lost.
    readProperties(true);
}

void LogindSession::onLock()
{
    Q_EMIT lockRequested();
}

void LogindSession::onUnlock()
{
    Q_EMIT unlockRequested();
}

void LogindSession::onPropertiesChanged(const QString &interface, const QVariantMap &changed,
                                        const QStringList &invalidated)
{
    if (interface != SessionInterface)
        return;
    applyProperties(changed, true);
    if (invalidated.contains(QLatin1String("LockedHint")) || invalidated.contains(QLatin1String("Active")))
        readProperties(false);
}

void LogindSession::readProperties(bool initial)
{
    QDBusMessage getAll = QDBusMessage::createMethodCall(Service, m_path, PropertiesInterface,
                                                         QStringLiteral("GetAll"));
    getAll << SessionInterface;
    DesktopDBus::callAsync(m_bus, getAll, this, [this, initial](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage)
            applyProperties(qdbus_cast<QVariantMap>(reply.arguments().value(0)), !initial);
        if (initial)
            Q_EMIT found();
    });
}

void LogindSession::applyProperties(const QVariantMap &properties, bool announce)
{
    const auto locked = properties.constFind(QStringLiteral("LockedHint"));
    if (locked != properties.constEnd() && locked->toBool() != m_lockedHint) {
        m_lockedHint = locked->toBool();
        if (announce)
            Q_EMIT lockedHintChanged(m_lockedHint);
    }
    const auto active = properties.constFind(QStringLiteral("Active"));
    if (active != properties.constEnd() && active->toBool() != m_active) {
        m_active = active->toBool();
        if (announce)
            Q_EMIT activeChanged(m_active);
    }
}

} // namespace Coffer
