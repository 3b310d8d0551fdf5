#include "settings.h"

#include <QSettings>

#include <cstdlib>
#include <filesystem>

namespace Coffer::Helper {

Settings Settings::load(const QString &configFile)
{
    Settings settings;
    const QSettings conf(configFile, QSettings::IniFormat);
    bool ok = false;
    const int idleFromEnv = qEnvironmentVariableIntValue("COFFER_HELPER_IDLE_SECONDS", &ok);
    if (ok) {
        settings.idleSeconds = idleFromEnv;
    } else {
        const int idle = conf.value(QStringLiteral("helper/IdleSeconds"), -1).toInt(&ok);
        if (ok && idle >= 0)
            settings.idleSeconds = idle;
    }
    settings.logFile = qEnvironmentVariableIsSet("COFFER_HELPER_LOG_FILE")
                           ? qEnvironmentVariable("COFFER_HELPER_LOG_FILE")
                           : conf.value(QStringLiteral("helper/LogFile")).toString();
    settings.sessionBus = qEnvironmentVariable("COFFER_HELPER_BUS") == QLatin1String("session");
    if (const char *dir = std::getenv("COFFER_RUNTIME_DIR"); dir && *dir)
        settings.runtimeDir = dir;
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error)
        settings.syncProgram = (self.parent_path() / "coffer-sync").string();
    return settings;
}

} // namespace Coffer::Helper
