#pragma once

#include <QString>

#include <string>

namespace Coffer::Helper {

// Everything the helper takes from its surroundings, read in one place: /etc/coffer/helper.conf
// ([helper] IdleSeconds=, LogFile=) and the COFFER_HELPER_* / COFFER_RUNTIME_DIR variables, which
// win (tests set them; D-Bus activation clears the environment, so a system uses the file).
struct Settings
{
    int idleSeconds = 30;                   // exit after this long idle; 0: never
    QString logFile;                        // the log goes here too ("": stderr only)
    bool sessionBus = false;                // COFFER_HELPER_BUS=session: the session bus (tests)
    std::string runtimeDir = "/run/coffer"; // mount points and state records
    std::string syncProgram;                // coffer-sync, installed next to the helper

    static Settings load(const QString &configFile = QStringLiteral("/etc/coffer/helper.conf"));
};

} // namespace Coffer::Helper
