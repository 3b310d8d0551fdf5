#include "config/xdg.h"

#include <cstdlib>
#include <pwd.h>
#include <unistd.h>

namespace Coffer::Config {

std::string xdgDirectory(const char *variable, const char *underHome)
{
    const char *xdg = std::getenv(variable);
    if (xdg && xdg[0] == '/')
        return xdg;
    const char *home = std::getenv("HOME");
    if ((!home || home[0] != '/') && getpwuid(getuid()))
        home = getpwuid(getuid())->pw_dir;
    return std::string(home ? home : "") + "/" + underHome;
}

} // namespace Coffer::Config
