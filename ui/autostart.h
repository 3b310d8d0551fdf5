#pragma once

// "Start Coffer when I log in" (the XDG Autostart specification): the package installs
// org.coffer.Coffer.desktop in $XDG_CONFIG_DIRS/autostart (/etc/xdg/autostart); a user's own
// file of that name in $XDG_CONFIG_HOME/autostart overrides it. So: on writes the user's entry
// only when no system entry exists (else removes the user's file, and the system entry applies);
// off removes the user's entry, or writes one with Hidden=true over a system entry.

#include <QString>

namespace Coffer::Ui {

class Autostart
{
public:
    static constexpr const char *FileName = "org.coffer.Coffer.desktop";

    // $XDG_CONFIG_HOME/autostart/org.coffer.Coffer.desktop (~/.config when unset).
    static QString userEntry();
    // The first $XDG_CONFIG_DIRS/autostart/org.coffer.Coffer.desktop that exists (default
    // /etc/xdg), or "".
    static QString systemEntry();

    static bool isEnabled();
    // Throws Coffer::Error when the file cannot be written or removed.
    static void setEnabled(bool enabled);
};

} // namespace Coffer::Ui
