#include "media/medium.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <charconv>
#include <fcntl.h>

namespace Coffer::Media {

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string property(const PropertyMap &map, const char *key)
{
    const auto it = map.find(key);
    return it == map.end() ? std::string() : it->second;
}

std::string capped(std::string s)
{
    if (s.size() > maxFactLength)
        s.resize(maxFactLength);
    return s;
}

// The decoded *_ENC property if present (it keeps bytes udev would otherwise mangle), else the
// plain one.
std::string encodedOrPlain(const PropertyMap &map, const char *encKey, const char *plainKey)
{
    const auto it = map.find(encKey);
    if (it != map.end())
        return capped(decodeUdevEscapes(it->second));
    return capped(property(map, plainKey));
}

template<typename T>
bool parseNumber(const std::string &s, T &out)
{
    if (s.empty())
        return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

// Characters that must not reach a screen as they are: C0/C1 controls, DEL, and the
// bidirectional embeddings, overrides and isolates (a label "\u202Egnp.exe" reads backwards).
bool unsafeToShow(char16_t c)
{
    return c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x202a && c <= 0x202e)
           || (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c;
}

std::string trailingWhitespaceTrimmed(std::string s)
{
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.pop_back();
    return s;
}

} // namespace

std::string decodeUdevEscapes(std::string_view encoded)
{
    std::string out;
    out.reserve(encoded.size());
    for (size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] == '\\' && i + 3 < encoded.size() && encoded[i + 1] == 'x') {
            const int hi = hexValue(encoded[i + 2]), lo = hexValue(encoded[i + 3]);
            if (hi >= 0 && lo >= 0) {
                out += char((hi << 4) | lo);
                i += 3;
                continue;
            }
        }
        out += encoded[i];
    }
    return out;
}

std::optional<Medium> mediumFromUdev(const PropertyMap &properties, const PropertyMap &sysattrs)
{
    unsigned major = 0, minor = 0;
    if (!parseNumber(property(properties, "MAJOR"), major) || !parseNumber(property(properties, "MINOR"), minor))
        return std::nullopt;
    if (property(properties, "ID_FS_USAGE") != "filesystem")
        return std::nullopt;
    Medium m;
    m.devnum = makedev(major, minor);
    m.devNode = capped(property(properties, "DEVNAME"));
    m.fsUuid = capped(property(properties, "ID_FS_UUID")); // blkid's safe form: the same on every read
    m.label = encodedOrPlain(properties, "ID_FS_LABEL_ENC", "ID_FS_LABEL");
    m.fsType = capped(property(properties, "ID_FS_TYPE"));
    m.serial = capped(property(properties, "ID_SERIAL_SHORT"));
    // udev pads vendor and model names with spaces to their SCSI field widths.
    m.vendor = trailingWhitespaceTrimmed(encodedOrPlain(properties, "ID_VENDOR_ENC", "ID_VENDOR"));
    m.model = trailingWhitespaceTrimmed(encodedOrPlain(properties, "ID_MODEL_ENC", "ID_MODEL"));
    uint64_t sectors = 0;
    if (parseNumber(property(sysattrs, "size"), sectors) && sectors <= (UINT64_MAX >> 9))
        m.size = sectors << 9; // sysfs counts 512-byte sectors whatever the device's block size
    m.removable = property(sysattrs, "removable") == "1";
    return m;
}

std::vector<MountEntry> rootMounts(const Medium &medium, const std::vector<MountEntry> &mounts)
{
    std::vector<MountEntry> out;
    for (const MountEntry &e : mounts) {
        if (e.root == "/" && (e.dev == medium.devnum || (!medium.devNode.empty() && e.source == medium.devNode)))
            out.push_back(e);
    }
    return out;
}

UniqueFd openMountRoot(const MountEntry &mount)
{
    UniqueFd fd(::open(mount.mountPoint.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat st;
    if (fd && (::fstat(fd.get(), &st) != 0 || st.st_dev != mount.dev))
        fd.reset();
    return fd;
}

void refreshMounts(Medium &medium, const std::vector<MountEntry> &mounts)
{
    medium.mountPoints.clear();
    medium.freeBytes.reset();
    for (const MountEntry &e : rootMounts(medium, mounts)) {
        medium.mountPoints.push_back(e.mountPoint);
        struct statvfs sv;
        if (medium.freeBytes)
            continue;
        if (const UniqueFd root = openMountRoot(e); root && ::fstatvfs(root.get(), &sv) == 0)
            medium.freeBytes = uint64_t(sv.f_bavail) * uint64_t(sv.f_frsize);
    }
}

QString displayText(std::string_view bytes, qsizetype maxChars)
{
    QString text = QString::fromUtf8(bytes.data(), qsizetype(bytes.size()));
    for (QChar &c : text) {
        if (unsafeToShow(c.unicode()))
            c = QChar::ReplacementCharacter;
    }
    if (text.size() > maxChars) {
        qsizetype cut = std::max<qsizetype>(0, maxChars - 1);
        if (cut > 0 && text.at(cut - 1).isHighSurrogate())
            --cut; // never split a character in two
        text = text.left(cut) + QChar(0x2026);
    }
    return text;
}

QString displayName(const Medium &medium)
{
    if (!medium.label.empty())
        return displayText(medium.label);
    const std::string vendorModel = trailingWhitespaceTrimmed(
        medium.vendor.empty() ? medium.model : medium.model.empty() ? medium.vendor : medium.vendor + " " + medium.model);
    return vendorModel.empty() ? displayText(medium.devNode) : displayText(vendorModel);
}

} // namespace Coffer::Media
