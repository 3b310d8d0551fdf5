#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace Coffer {

// A device-mapper mapping (our dm-crypt volumes, named "coffer-<LUKS UUID>"), seen and removed
// through libdevmapper. The object owns the mapping: the destructor removes it (retrying while
// udev still has it open); release() leaves it to whoever holds it now (after a mount, with
// deferred removal set, the kernel removes it when the filesystem is unmounted).
class Mapping
{
public:
    struct Info
    {
        std::string name;
        std::string uuid;         // dm UUID ("CRYPT-LUKS2-<uuid>-<name>")
        dev_t devno = 0;
        int openCount = 0;
        bool deferredRemove = false;
        std::vector<dev_t> deps;  // the devices under it (our loop device)
    };

    static inline const std::string namePrefix = "coffer-";

    Mapping() = default;
    explicit Mapping(std::string name) : m_name(std::move(name)) {}
    Mapping(Mapping &&other) noexcept : m_name(std::exchange(other.m_name, {})) {}
    Mapping &operator=(Mapping &&other) noexcept;
    Mapping(const Mapping &) = delete;
    Mapping &operator=(const Mapping &) = delete;
    ~Mapping();

    const std::string &name() const { return m_name; }
    std::string devicePath() const { return "/dev/mapper/" + m_name; }
    void release() { m_name.clear(); }

    // Removes it now, retrying on EBUSY for up to timeoutMs, then waits until it is gone.
    void remove(int timeoutMs = 10000);

    // ---- the kernel's view ----
    // Does this kernel have device-mapper at all (/proc/misc lists "device-mapper")?
    static bool available();
    static std::optional<Info> info(const std::string &name);
    static bool exists(const std::string &name) { return info(name).has_value(); }
    // Names of all mappings starting with prefix.
    static std::vector<std::string> list(const std::string &prefix = namePrefix);
    // Removes `name` now if nobody holds it, else marks it for deferred removal (gone as soon
    // as its last user closes it). Returns true if it is gone already.
    static bool removeOrDefer(const std::string &name);
    // Marks for deferred removal (the mapping must be in use, e.g. mounted).
    static void deferRemove(const std::string &name);
    // Removes now; false with errno EBUSY if in use.
    static bool removeNow(const std::string &name, int *err = nullptr);
    static bool waitGone(const std::string &name, int timeoutMs);

private:
    std::string m_name;
};

} // namespace Coffer
