#include "client/userfiles.h"

#include "error.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>

namespace Coffer::Client {

UniqueFd openBackingFile(const std::string &path, Access access)
{
    const int mode = access == Access::ReadWrite ? O_RDWR : O_RDONLY;
    UniqueFd fd(::open(path.c_str(), mode | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open " + path);
    return fd;
}

UniqueFd createNewFile(const std::string &path)
{
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd)
        throw Error::fromErrno(errno == EEXIST ? ErrorCode::InvalidArgument : errorCodeForErrno(errno), errno,
                               "Cannot create " + path + " (it must not exist yet)");
    return fd;
}

FileIdentity identify(const std::string &path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error::fromErrno(ErrorCode::NotFound, errno, "Cannot find " + path);
    return {uint64_t(st.st_dev), uint64_t(st.st_ino)};
}

} // namespace Coffer::Client
