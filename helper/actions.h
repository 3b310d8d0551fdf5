#pragma once

#include <QString>
#include <QStringList>

// The polkit actions of packaging/polkit/org.coffer.helper.policy (design.md 4.2): one per kind
// of operation on one's own vaults, and one for anything touching another user's.
namespace Coffer::Helper::Action {

inline const QString Create = QStringLiteral("org.coffer.helper.create");
inline const QString Unlock = QStringLiteral("org.coffer.helper.unlock");
inline const QString Lock = QStringLiteral("org.coffer.helper.lock");
inline const QString Sync = QStringLiteral("org.coffer.helper.sync");
inline const QString ManageKeys = QStringLiteral("org.coffer.helper.manage-keys");
inline const QString Resize = QStringLiteral("org.coffer.helper.resize");
inline const QString ManageOtherUsers = QStringLiteral("org.coffer.helper.manage-other-users");

inline QStringList all()
{
    return {Create, Unlock, Lock, Sync, ManageKeys, Resize, ManageOtherUsers};
}

} // namespace Coffer::Helper::Action
