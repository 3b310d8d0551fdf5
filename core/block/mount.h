#pragma once

#include "block/uniquefd.h"

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace Coffer {

// A mounted filesystem. The destructor unmounts (lazily if it is busy, so an error path never
// leaves a mount behind); release() keeps it mounted.
class Mount
{
public:
    struct Holder
    {
        pid_t pid = 0;
        uid_t uid = 0;      // real uid
        uid_t savedUid = 0; // with the real uid: whose signals the process takes (kill(2))
        std::string name;   // comm
        std::string what;   // "open file", "working directory", "root directory", "executable",
                            // "mapped file"
        // Opened before the process was looked at: a signal through it reaches this very
        // process or none, never one that got its pid later.
        UniqueFd pidfd;
        // Sends sig through pidfd; false if the process is gone.
        bool signal(int sig) const;
    };

    // How much of /proc a holder scan looks at, so that a flood of processes, open files or
    // mappings cannot keep root scanning.
    struct ScanLimits
    {
        size_t processes = 32768;
        size_t entries = 1u << 20; // open files and mapping lines, over all processes
    };
    struct HolderScan
    {
        std::vector<Holder> holders;
        bool complete = true; // false: a limit was reached; there may be more
    };

    Mount() = default;
    Mount(Mount &&other) noexcept : m_target(std::exchange(other.m_target, {})) {}
    Mount &operator=(Mount &&other) noexcept;
    Mount(const Mount &) = delete;
    Mount &operator=(const Mount &) = delete;
    ~Mount();

    // ext4 with nosuid,nodev,noexec and errors=remount-ro (design.md 4.3). target must be an
    // existing directory that is not a symlink.
    static Mount mountExt4(const std::string &source, const std::string &target, bool readOnly);

    const std::string &target() const { return m_target; }
    bool valid() const { return !m_target.empty(); }
    void release() { m_target.clear(); }

    // umount2(target, flags); throws Busy (with errno) if busy.
    static void unmount(const std::string &target, int flags = 0);
    // dev_t of the filesystem mounted at target, 0 if target is not a mount point.
    static dev_t mountedDevice(const std::string &target);
    // Mount point of the filesystem on block device devno ("" if not mounted), from
    // /proc/self/mountinfo.
    static std::string mountPointOf(dev_t devno);
    // Processes holding anything on the filesystem whose st_dev is dev.
    static HolderScan holders(dev_t dev, const ScanLimits &limits);
    static HolderScan holders(dev_t dev) { return holders(dev, ScanLimits()); }

private:
    std::string m_target;
};

} // namespace Coffer
