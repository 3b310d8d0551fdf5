#include "keys/headerbackups.h"

#include "block/vault.h"
#include "config/xdg.h"
#include "error.h"

#include <QDir>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>

namespace Coffer::Keys {

std::string headerBackupDirectory()
{
    return Config::xdgDirectory("XDG_DATA_HOME", ".local/share") + "/coffer/headers";
}

std::string automaticHeaderBackupPath(std::string_view luksUuid)
{
    if (!Vault::isCanonicalLuksUuid(luksUuid))
        throw Error(ErrorCode::InvalidArgument, "Not a LUKS UUID: " + std::string(luksUuid));
    std::string uuid(luksUuid);
    for (char &c : uuid)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return headerBackupDirectory() + "/" + uuid + ".img";
}

void makeHeaderBackupDirectory()
{
    const std::string dir = headerBackupDirectory();
    if (!QDir().mkpath(QString::fromLocal8Bit(dir.c_str())))
        throw Error(ErrorCode::Failed, "Cannot make the folder " + dir + " for header backups");
    if (::chmod(dir.c_str(), 0700) != 0)
        throw Error::fromErrno(errno, "Cannot make " + dir + " private");
}

} // namespace Coffer::Keys
