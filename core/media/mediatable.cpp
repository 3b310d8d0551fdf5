#include "media/mediatable.h"

#include <algorithm>

namespace Coffer::Media {

std::optional<MediaEvent> MediaTable::apply(std::string_view action, dev_t devnum, std::optional<Medium> facts,
                                            const std::vector<MountEntry> &mounts)
{
    const auto known = m_media.find(devnum);
    if (action == "remove" || !facts || facts->devnum != devnum) {
        if (known == m_media.end())
            return std::nullopt; // never reported, nothing to take back
        MediaEvent event{MediaChange::Removed, std::move(known->second)};
        m_media.erase(known);
        return event;
    }
    refreshMounts(*facts, mounts);
    if (known == m_media.end()) {
        m_media.emplace(devnum, *facts);
        return MediaEvent{MediaChange::Added, std::move(*facts)};
    }
    if (known->second == *facts)
        return std::nullopt;
    known->second = *facts;
    return MediaEvent{MediaChange::Changed, std::move(*facts)};
}

std::vector<MediaEvent> MediaTable::remount(const std::vector<MountEntry> &mounts)
{
    std::vector<MediaEvent> events;
    for (auto &[devnum, medium] : m_media) {
        Medium now = medium;
        refreshMounts(now, mounts);
        if (now != medium) {
            medium = now;
            events.push_back({MediaChange::Changed, std::move(now)});
        }
    }
    return events;
}

std::vector<Medium> MediaTable::media() const
{
    std::vector<Medium> out;
    for (const auto &[devnum, medium] : m_media)
        out.push_back(medium);
    std::sort(out.begin(), out.end(), [](const Medium &a, const Medium &b) { return a.devNode < b.devNode; });
    return out;
}

const Medium *MediaTable::find(dev_t devnum) const
{
    const auto it = m_media.find(devnum);
    return it == m_media.end() ? nullptr : &it->second;
}

} // namespace Coffer::Media
