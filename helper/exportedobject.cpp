#include "exportedobject.h"

#include <QMetaProperty>

namespace Coffer::Helper {

QVariantMap ExportedObject::properties() const
{
    QVariantMap values;
    const QMetaObject *meta = metaObject();
    for (int i = staticMetaObject.propertyCount(); i < meta->propertyCount(); ++i) {
        const QMetaProperty property = meta->property(i);
        values.insert(QString::fromLatin1(property.name()), property.read(this));
    }
    return values;
}

} // namespace Coffer::Helper
