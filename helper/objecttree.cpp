#include "objecttree.h"

#include "actions.h"
#include "callers.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "interfacexml.h"
#include "log.h"
#include "manager.h"
#include "polkitauthority.h"

#include <QDBusVariant>
#include <QPointer>

namespace Coffer::Helper {

namespace {

const QString PropertiesInterface = QStringLiteral("org.freedesktop.DBus.Properties");
const QString IntrospectableInterface = QStringLiteral("org.freedesktop.DBus.Introspectable");

QString managerPath()
{
    return QString::fromLatin1(Helper1::ManagerPath);
}

// "/org/coffer/Helper1/vault" of "/org/coffer/Helper1/vault/".
QString containerOf(const char *prefix)
{
    QString path = QString::fromLatin1(prefix);
    path.chop(1);
    return path;
}

const char StandardInterfaces[] = R"(  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect">
      <arg name="xml_data" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId">
      <arg name="machine_uuid" type="s" direction="out"/>
    </method>
  </interface>
)";

const char PropertiesXml[] = R"(  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="out"/>
    </method>
    <method name="Set">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="in"/>
    </method>
    <method name="GetAll">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="values" type="a{sv}" direction="out"/>
    </method>
    <signal name="PropertiesChanged">
      <arg name="interface_name" type="s"/>
      <arg name="changed_properties" type="a{sv}"/>
      <arg name="invalidated_properties" type="as"/>
    </signal>
  </interface>
)";

QString node(const QString &body)
{
    return QStringLiteral("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
                          " \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n")
           + body + QStringLiteral("</node>\n");
}

QString childNode(const QString &name)
{
    return QStringLiteral("  <node name=\"%1\"/>\n").arg(name);
}

} // namespace

QString interfaceXml(const QString &interface)
{
    static const QString xml = QString::fromUtf8(InterfaceXml);
    const QString start = QStringLiteral("<interface name=\"%1\">").arg(interface);
    const qsizetype from = xml.indexOf(start);
    const qsizetype to = from < 0 ? -1 : xml.indexOf(QLatin1String("</interface>"), from);
    if (to < 0)
        return {};
    return QStringLiteral("  ") + xml.mid(from, to - from) + QStringLiteral("</interface>\n");
}

ObjectTree::ObjectTree(Manager *manager, Callers *callers, Authority *authority)
    : QDBusVirtualObject(manager)
    , m_manager(manager)
    , m_callers(callers)
    , m_authority(authority)
{
}

void ObjectTree::add(ExportedObject *object)
{
    m_objects.insert(object->path(), object);
}

void ObjectTree::remove(ExportedObject *object)
{
    m_objects.remove(object->path());
}

QString ObjectTree::introspect(const QString &) const
{
    // handleMessage answers Introspect with the caller in mind; QtDBus never needs this.
    return {};
}

QString ObjectTree::introspectionFor(const QString &path, std::optional<uid_t> caller) const
{
    const QString vaults = containerOf(Helper1::VaultPathPrefix);
    const QString jobs = containerOf(Helper1::JobPathPrefix);
    if (path == managerPath()) {
        return node(QLatin1String(StandardInterfaces) + QLatin1String(PropertiesXml)
                    + interfaceXml(QString::fromLatin1(Helper1::ManagerInterface))
                    + childNode(vaults.mid(path.size() + 1)) + childNode(jobs.mid(path.size() + 1)));
    }
    if (!caller)
        return node({});
    // Root sees every vault's and job's path (a removal of the package locks them all, and root
    // reads the mount table anyway); reading or acting on one is still polkit's decision.
    const auto listed = [caller](const ExportedObject *object) { return *caller == 0 || object->owners().count(*caller); };
    if (path == vaults || path == jobs) {
        QStringList children;
        for (const ExportedObject *object : m_objects) {
            const QString objectPath = object->path();
            if (objectPath.startsWith(path + QLatin1Char('/')) && listed(object))
                children << objectPath.mid(path.size() + 1);
        }
        children.sort();
        QString body = QLatin1String(StandardInterfaces);
        for (const QString &child : children)
            body += childNode(child);
        return node(body);
    }
    const ExportedObject *object = m_objects.value(path);
    if (!object || !listed(object))
        return node({});
    return node(QLatin1String(StandardInterfaces) + QLatin1String(PropertiesXml)
                + interfaceXml(object->interfaceName()));
}

bool ObjectTree::handleMessage(const QDBusMessage &message, const QDBusConnection &connection)
{
    if (message.type() != QDBusMessage::MethodCallMessage)
        return false;
    const QString interface = message.interface();
    if ((interface == IntrospectableInterface || interface.isEmpty())
        && message.member() == QLatin1String("Introspect") && message.signature().isEmpty()) {
        const std::optional<uid_t> caller = m_callers->uidOf(message.service());
        connection.send(message.createReply(introspectionFor(message.path(), caller)));
        return true;
    }
    if (interface == PropertiesInterface) {
        properties(message, connection);
        return true;
    }
    if (message.path() == managerPath()) {
        if (interface.isEmpty() || interface == QLatin1String(Helper1::ManagerInterface))
            m_manager->call(message);
        else
            connection.send(message.createErrorReply(QDBusError::UnknownInterface,
                                                     QStringLiteral("No interface %1 here").arg(interface)));
        return true;
    }
    ExportedObject *object = m_objects.value(message.path());
    if (!object) {
        connection.send(message.createErrorReply(QDBusError::UnknownObject,
                                                 QStringLiteral("No object at %1").arg(message.path())));
        return true;
    }
    if (!interface.isEmpty() && interface != object->interfaceName()) {
        connection.send(message.createErrorReply(QDBusError::UnknownInterface,
                                                 QStringLiteral("No interface %1 here").arg(interface)));
        return true;
    }
    object->call(message);
    return true;
}

void ObjectTree::properties(const QDBusMessage &message, const QDBusConnection &connection)
{
    const QString member = message.member();
    const QVariantList args = message.arguments();
    const bool get = member == QLatin1String("Get") && message.signature() == QLatin1String("ss");
    const bool getAll = member == QLatin1String("GetAll") && message.signature() == QLatin1String("s");
    if (member == QLatin1String("Set")) {
        connection.send(message.createErrorReply(QStringLiteral("org.freedesktop.DBus.Error.PropertyReadOnly"),
                                                 QStringLiteral("Every property here is read-only")));
        return;
    }
    if (!get && !getAll) {
        connection.send(message.createErrorReply(QDBusError::UnknownMethod,
                                                 QStringLiteral("No method %1 in %2").arg(member, PropertiesInterface)));
        return;
    }
    const QString interface = args.value(0).toString();
    if (message.path() == managerPath()) {
        // The manager has no properties.
        if (getAll && (interface.isEmpty() || interface == QLatin1String(Helper1::ManagerInterface)))
            connection.send(message.createReply(QVariant::fromValue(QVariantMap())));
        else
            connection.send(message.createErrorReply(QDBusError::UnknownProperty, QStringLiteral("No such property")));
        return;
    }
    const std::optional<uid_t> caller = m_callers->uidOf(message.service());
    if (!caller) {
        connection.send(message.createErrorReply(QDBusError::AccessDenied, QStringLiteral("Cannot tell who is calling.")));
        return;
    }
    ExportedObject *object = m_objects.value(message.path());
    if (!object) {
        connection.send(message.createErrorReply(QDBusError::UnknownObject,
                                                 QStringLiteral("No object at %1").arg(message.path())));
        return;
    }
    if (!interface.isEmpty() && interface != object->interfaceName()) {
        connection.send(message.createErrorReply(QDBusError::UnknownInterface,
                                                 QStringLiteral("No interface %1 here").arg(interface)));
        return;
    }
    const QString name = args.value(1).toString();
    auto answer = [message, connection, get, name](const ExportedObject *readable) {
        const QVariantMap values = readable->properties();
        if (!get)
            connection.send(message.createReply(QVariant::fromValue(values)));
        else if (values.contains(name))
            connection.send(message.createReply(QVariant::fromValue(QDBusVariant(values.value(name)))));
        else
            connection.send(message.createErrorReply(QDBusError::UnknownProperty,
                                                     QStringLiteral("No property %1").arg(name)));
    };
    if (object->owners().count(*caller)) {
        answer(object);
        return;
    }
    // Someone else's vault or job: only for an administrator.
    QPointer<ExportedObject> guard(object);
    m_authority->check(Action::ManageOtherUsers, message.service(),
                       [guard, message, connection, answer, caller](bool allowed, const QString &why) {
        if (!allowed) {
            Log::write(QStringLiteral("uid %1: reading %2 denied (%3)").arg(*caller).arg(message.path(), why));
            connection.send(DBusErrors::errorReply(
                message, Error(ErrorCode::NotAuthorized, "This belongs to another user (" + why.toStdString() + ").")));
            return;
        }
        if (!guard) {
            connection.send(message.createErrorReply(QDBusError::UnknownObject, QStringLiteral("It is gone")));
            return;
        }
        answer(guard);
    });
}

} // namespace Coffer::Helper
