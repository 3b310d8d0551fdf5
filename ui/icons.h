#pragma once

// Coffer's own icons (packaging/icons: hicolor scalable and symbolic), from the icon theme when
// they are installed, else from the copy built into the program (so an uninstalled build and
// the tests look the same).

#include "vaultmodel.h"

#include <QIcon>

namespace Coffer::Ui {

class Icons
{
public:
    static QIcon application();
    static QIcon tray(TrayState state);
    // The theme name of the tray state's icon ("coffer-locked", ...).
    static QString trayName(TrayState state);
};

} // namespace Coffer::Ui
