#pragma once

#include "exportedobject.h"

#include <QDBusVirtualObject>
#include <QHash>
#include <QString>

#include <sys/types.h>

namespace Coffer::Helper {

class Authority;
class Callers;
class Manager;

// Everything under /org/coffer/Helper1 on the bus: the manager, the vaults, the jobs. QtDBus
// would answer Introspect and org.freedesktop.DBus.Properties for any object to anyone; this
// tree answers them itself, so that nobody learns another user's vault names, mount points,
// backing files or the paths being synced (design.md 4):
// - Introspect lists only the caller's own objects (others' do not exist for them);
// - Get/GetAll answer the object's owners, or an administrator polkit allows
//   org.coffer.helper.manage-other-users; NotAuthorized for anyone else;
// - method calls go to the object, whose handler checks polkit itself.
// Registered with QDBusConnection::SubPath at /org/coffer/Helper1.
class ObjectTree : public QDBusVirtualObject
{
    Q_OBJECT
public:
    ObjectTree(Manager *manager, Callers *callers, Authority *authority);

    void add(ExportedObject *object);
    void remove(ExportedObject *object);

    // The introspection data of the node `path` as `caller` may see it.
    QString introspectionFor(const QString &path, std::optional<uid_t> caller) const;

    QString introspect(const QString &path) const override;
    bool handleMessage(const QDBusMessage &message, const QDBusConnection &connection) override;

private:
    void properties(const QDBusMessage &message, const QDBusConnection &connection);

    Manager *m_manager;
    Callers *m_callers;
    Authority *m_authority;
    QHash<QString, ExportedObject *> m_objects; // by path
};

// The <interface> element of `interface` in org.coffer.Helper1.xml, compiled into the helper.
QString interfaceXml(const QString &interface);

} // namespace Coffer::Helper
