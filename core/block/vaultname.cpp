#include "block/vaultname.h"

#include "error.h"

#include <optional>
#include <vector>

namespace Coffer::Vault {

namespace {

// The next code point of valid UTF-8 (shortest form, no surrogates, at most U+10FFFF), or
// nullopt.
std::optional<char32_t> nextCodePoint(std::string_view text, size_t &at)
{
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char first = byte(at);
    size_t length;
    char32_t cp;
    if (first < 0x80) {
        ++at;
        return first;
    } else if (first >= 0xC2 && first <= 0xDF) {
        length = 2;
        cp = first & 0x1F;
    } else if (first >= 0xE0 && first <= 0xEF) {
        length = 3;
        cp = first & 0x0F;
    } else if (first >= 0xF0 && first <= 0xF4) {
        length = 4;
        cp = first & 0x07;
    } else {
        return std::nullopt;
    }
    if (at + length > text.size())
        return std::nullopt;
    for (size_t i = 1; i < length; ++i) {
        const unsigned char c = byte(at + i);
        if ((c & 0xC0) != 0x80)
            return std::nullopt;
        cp = (cp << 6) | (c & 0x3F);
    }
    const char32_t smallest = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
    if (cp < smallest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return std::nullopt;
    at += length;
    return cp;
}

bool inRanges(char32_t cp, std::initializer_list<std::pair<char32_t, char32_t>> ranges)
{
    for (const auto &[low, high] : ranges) {
        if (cp >= low && cp <= high)
            return true;
    }
    return false;
}

bool isControl(char32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Unicode's format characters (category Cf), the separators and the replacement character:
// invisible or misleading in a name (U+202E turns "gpj.exe" around).
bool isInvisible(char32_t cp)
{
    return inRanges(cp, {{0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
                         {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
                         {0x200B, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
                         {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0xFFFD, 0xFFFD},   {0x110BD, 0x110BD},
                         {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
                         {0xE0001, 0xE0001}, {0xE0020, 0xE007F}});
}

bool isSpace(char32_t cp)
{
    return inRanges(cp, {{0x20, 0x20}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A}, {0x202F, 0x202F},
                         {0x205F, 0x205F}, {0x3000, 0x3000}});
}

// What is wrong with `name`, or "".
std::string problemWith(std::string_view name)
{
    if (name.empty())
        return "The vault needs a name.";
    if (name.size() > maximumNameLength)
        return "The vault's name is too long (at most " + std::to_string(maximumNameLength)
               + " bytes); choose a shorter one.";
    std::vector<char32_t> text;
    for (size_t at = 0; at < name.size();) {
        const std::optional<char32_t> cp = nextCodePoint(name, at);
        if (!cp)
            return "The vault's name is not valid UTF-8 text.";
        text.push_back(*cp);
    }
    for (const char32_t cp : text) {
        if (cp == '/' || cp == '\\' || isControl(cp) || isInvisible(cp))
            return "The vault's name may not contain '/', '\\', control characters or invisible "
                   "characters.";
    }
    if (text.front() == '.' || text.front() == '-' || isSpace(text.front()) || isSpace(text.back()))
        return "The vault's name may not start with '.', '-' or a space, nor end with a space.";
    return {};
}

} // namespace

bool isValidName(std::string_view name)
{
    return problemWith(name).empty();
}

void validateName(std::string_view name)
{
    if (std::string problem = problemWith(name); !problem.empty())
        throw Error(ErrorCode::InvalidArgument, std::move(problem));
}

std::string labelFor(std::string_view name)
{
    return std::string(labelPrefix).append(name);
}

std::string nameFromLabel(std::string_view label)
{
    if (label.substr(0, labelPrefix.size()) == labelPrefix)
        label.remove_prefix(labelPrefix.size());
    return std::string(label);
}

} // namespace Coffer::Vault
