#include "icons.h"

namespace Coffer::Ui {

namespace {

QIcon themedOrBuiltIn(const QString &name, const QString &resource)
{
    // The built-in copy as the fallback: QIcon::fromTheme picks the installed one (and its
    // sizes) when there is one.
    return QIcon::fromTheme(name, QIcon(resource));
}

} // namespace

QIcon Icons::application()
{
    return themedOrBuiltIn(QStringLiteral("org.coffer.Coffer"), QStringLiteral(":/icons/org.coffer.Coffer.svg"));
}

QString Icons::trayName(TrayState state)
{
    switch (state) {
    case TrayState::AllLocked: return QStringLiteral("coffer-locked");
    case TrayState::Stale: return QStringLiteral("coffer-stale");
    case TrayState::Open: return QStringLiteral("coffer-open");
    case TrayState::Syncing: return QStringLiteral("coffer-syncing");
    case TrayState::Error: return QStringLiteral("coffer-error");
    }
    return QStringLiteral("coffer-locked");
}

QIcon Icons::tray(TrayState state)
{
    const QString name = trayName(state);
    return themedOrBuiltIn(name, QStringLiteral(":/icons/%1.svg").arg(name));
}

} // namespace Coffer::Ui
