#include "keys/placement.h"

#include "error.h"
#include "paths.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

namespace Coffer::Keys {

namespace {

dev_t deviceOf(const std::string &path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error::fromErrno(ErrorCode::NotFound, errno, "Cannot look at " + path);
    return st.st_dev;
}

// The sysfs directory of the whole disk a block device belongs to ("" for none: tmpfs, NFS,
// overlay and other filesystems on anonymous devices). A partition's directory sits inside its
// disk's and has a "partition" attribute.
std::string diskOf(dev_t dev)
{
    if (major(dev) == 0)
        return {};
    const std::string link = "/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
    const std::unique_ptr<char, decltype(&std::free)> real(::realpath(link.c_str(), nullptr), &std::free);
    if (!real)
        return {};
    std::string dir = real.get();
    struct stat st {};
    if (::stat((dir + "/partition").c_str(), &st) == 0)
        dir = parentDirectory(dir);
    return dir;
}

} // namespace

Placement placementOf(dev_t target, dev_t vault)
{
    if (target == vault)
        return Placement::SameFilesystem;
    const std::string a = diskOf(target);
    return !a.empty() && a == diskOf(vault) ? Placement::SameDrive : Placement::OtherDrive;
}

Placement placementOf(const std::string &target, const std::string &vaultFile)
{
    return placementOf(deviceOf(parentDirectory(target)), deviceOf(vaultFile));
}

} // namespace Coffer::Keys
