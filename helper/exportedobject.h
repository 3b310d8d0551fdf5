#pragma once

#include <QDBusConnection>
#include <QDBusError>
#include <QDBusMessage>
#include <QObject>
#include <QVariantMap>

#include <sys/types.h>

#include <set>
#include <vector>

namespace Coffer::Helper {

// A member of a D-Bus interface: its name and signature (the arguments in, for a method).
struct MemberSpec
{
    const char *name;
    const char *signature;
};

// A method of T's interface and its handler, which replies by itself (now or later).
template <class T>
struct Method
{
    MemberSpec spec;
    void (T::*handler)(const QDBusMessage &message);
};

template <class T>
std::vector<MemberSpec> specsOf(const std::vector<Method<T>> &methods)
{
    std::vector<MemberSpec> specs;
    for (const Method<T> &m : methods)
        specs.push_back(m.spec);
    return specs;
}

// Runs the handler of the message's method: InvalidArgs for a wrong signature, UnknownMethod for
// a name the interface does not have.
template <class T>
void dispatch(T *object, const std::vector<Method<T>> &methods, const QDBusMessage &message,
              const QDBusConnection &bus)
{
    for (const Method<T> &m : methods) {
        if (message.member() != QLatin1String(m.spec.name))
            continue;
        if (message.signature() != QLatin1String(m.spec.signature)) {
            bus.send(message.createErrorReply(QDBusError::InvalidArgs,
                                              QStringLiteral("%1 takes (%2), not (%3)")
                                                  .arg(message.member(), QLatin1String(m.spec.signature),
                                                       message.signature())));
            return;
        }
        (object->*m.handler)(message);
        return;
    }
    bus.send(message.createErrorReply(QDBusError::UnknownMethod,
                                      QStringLiteral("No method %1 in %2").arg(message.member(), message.interface())));
}

// A vault or a job on the bus (served by ObjectTree). It belongs to some users: they see it in
// Introspect, read its properties and get its signals; anyone else reads it only with
// org.coffer.helper.manage-other-users and never sees it listed.
class ExportedObject : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    virtual QString path() const = 0;
    virtual QString interfaceName() const = 0;
    virtual std::set<uid_t> owners() const = 0;
    // A method call of interfaceName().
    virtual void call(const QDBusMessage &message) = 0;

    // The values of the subclass's Q_PROPERTYs (its interface's properties), read now.
    QVariantMap properties() const;
};

} // namespace Coffer::Helper
