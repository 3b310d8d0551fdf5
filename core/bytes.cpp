#include "bytes.h"

#include "error.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace Coffer {

std::string formatBytes(uint64_t bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

uint64_t parseBytes(std::string_view text)
{
    const std::string copy(text); // strtod needs the terminating NUL
    const auto invalid = [&](const std::string &why) {
        return Error(ErrorCode::InvalidArgument, why);
    };
    char *end = nullptr;
    errno = 0;
    const double value = std::strtod(copy.c_str(), &end);
    if (errno || !end || end == copy.c_str() || value <= 0 || !std::isfinite(value))
        throw invalid("Cannot read the size \"" + copy + "\"; write e.g. 64M, 2G or 1.5GiB.");
    std::string unit(end);
    for (char &c : unit)
        c = char(std::toupper(static_cast<unsigned char>(c)));
    if (unit.size() > 1 && unit.back() == 'B')
        unit.pop_back();
    if (unit.size() > 1 && unit.back() == 'I')
        unit.pop_back();
    double multiplier = 1;
    if (unit == "K")
        multiplier = 1024.0;
    else if (unit == "M")
        multiplier = 1024.0 * 1024;
    else if (unit == "G")
        multiplier = 1024.0 * 1024 * 1024;
    else if (unit == "T")
        multiplier = 1024.0 * 1024 * 1024 * 1024;
    else if (!unit.empty())
        throw invalid("Unknown size unit in \"" + copy + "\"; use K, M, G or T.");
    const double bytes = value * multiplier;
    if (bytes > 1e18)
        throw invalid("The size \"" + copy + "\" is too large.");
    return uint64_t(bytes);
}

} // namespace Coffer
