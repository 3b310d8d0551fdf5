#pragma once

// The media present now and what each udev event or mount-table change means for them: the
// state behind MediaMonitor, kept apart from libudev so that it is tested with any event
// sequence (a "change" for a device never added, a "remove" of one never seen, a stick
// reformatted while plugged in).

#include "media/medium.h"

#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace Coffer::Media {

enum class MediaChange { Added, Removed, Changed };

struct MediaEvent
{
    MediaChange change = MediaChange::Added;
    Medium medium; // for Removed: the facts last known (a gone device has no attributes left)
};

class MediaTable
{
public:
    // A udev event ("add", "change", "remove", "move", "bind", ...) for the block device devnum.
    // facts: mediumFromUdev() of the event's device, nothing when it no longer carries a
    // filesystem. mounts: the mount table now. Returns what to report, if anything: a device
    // seen for the first time is Added (whatever the action), a known one whose facts or mounts
    // differ is Changed, a removed one or one that lost its filesystem is Removed.
    std::optional<MediaEvent> apply(std::string_view action, dev_t devnum, std::optional<Medium> facts,
                                    const std::vector<MountEntry> &mounts);

    // The mount table changed: every medium whose mount points or free space differ now.
    std::vector<MediaEvent> remount(const std::vector<MountEntry> &mounts);

    // Every medium present, by device node.
    std::vector<Medium> media() const;
    const Medium *find(dev_t devnum) const;
    void clear() { m_media.clear(); }

private:
    std::map<dev_t, Medium> m_media;
};

} // namespace Coffer::Media
