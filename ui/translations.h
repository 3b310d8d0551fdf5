#pragma once

namespace Coffer::Ui {

// Installs Coffer's translations built into the program: English (its plural forms) first, then
// the one for the user's locale, when there is one. Call once the application object exists.
void installTranslations();

} // namespace Coffer::Ui
