#include "media/mountinfo.h"

#include "block/util.h"

#include <sys/sysmacros.h>

#include <charconv>

namespace Coffer::Media {

namespace {

// mountinfo separates fields by single spaces (the kernel escapes spaces inside them).
std::vector<std::string_view> splitFields(std::string_view line)
{
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (start <= line.size()) {
        const size_t end = line.find(' ', start);
        const size_t stop = end == std::string_view::npos ? line.size() : end;
        if (stop > start)
            fields.push_back(line.substr(start, stop - start));
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    return fields;
}

template<typename T>
bool parseNumber(std::string_view s, T &out)
{
    if (s.empty())
        return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

bool parseDevice(std::string_view s, dev_t &dev)
{
    const size_t colon = s.find(':');
    unsigned major = 0, minor = 0;
    if (colon == std::string_view::npos || !parseNumber(s.substr(0, colon), major)
        || !parseNumber(s.substr(colon + 1), minor))
        return false;
    dev = makedev(major, minor);
    return true;
}

bool isOctal(char c)
{
    return c >= '0' && c <= '7';
}

} // namespace

std::string decodeMountField(std::string_view field)
{
    std::string out;
    out.reserve(field.size());
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3'
            && isOctal(field[i + 2]) && isOctal(field[i + 3])) {
            out += char(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0'));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

std::vector<MountEntry> parseMountInfo(std::string_view text)
{
    std::vector<MountEntry> entries;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        const std::vector<std::string_view> f = splitFields(text.substr(start, end - start));
        start = end + 1;
        // id parent major:minor root mount-point options [optional...] - fstype source super
        size_t dash = 6;
        while (dash < f.size() && f[dash] != "-")
            ++dash;
        if (dash + 2 >= f.size())
            continue;
        MountEntry e;
        if (!parseNumber(f[0], e.mountId) || !parseNumber(f[1], e.parentId) || !parseDevice(f[2], e.dev))
            continue;
        e.root = decodeMountField(f[3]);
        e.mountPoint = decodeMountField(f[4]);
        e.options = decodeMountField(f[5]);
        e.fsType = decodeMountField(f[dash + 1]);
        e.source = decodeMountField(f[dash + 2]);
        if (dash + 3 < f.size())
            e.superOptions = decodeMountField(f[dash + 3]);
        entries.push_back(std::move(e));
    }
    return entries;
}

std::vector<MountEntry> readMountInfo()
{
    return parseMountInfo(readSmallFile("/proc/self/mountinfo", 64u << 20));
}

} // namespace Coffer::Media
