#pragma once

#include "block/kdflimits.h"
#include "block/secretbuffer.h"

#include <cstdint>
#include <string>
#include <vector>

struct crypt_device;

namespace Coffer {

// One libcryptsetup context (crypt_device) over a device or file. Owns it (crypt_free).
// External token plugins are never loaded; headers with a UUID that is not canonical, with
// requirement flags (an unfinished re-encryption, or ones we do not know), or with key
// derivation costs beyond KdfLimits::Header are refused by load().
class CryptDevice
{
public:
    CryptDevice() = default;
    CryptDevice(CryptDevice &&other) noexcept;
    CryptDevice &operator=(CryptDevice &&other) noexcept;
    CryptDevice(const CryptDevice &) = delete;
    CryptDevice &operator=(const CryptDevice &) = delete;
    ~CryptDevice();

    // A context over `path` (a block device, or a regular file such as /proc/self/fd/N),
    // without reading anything.
    static CryptDevice init(const std::string &path);
    // init + read the LUKS1/LUKS2 header + refuse what we must not trust.
    static CryptDevice load(const std::string &path);
    // A context for an active mapping (for resize / deactivate).
    static CryptDevice byName(const std::string &name);

    crypt_device *get() const { return m_cd; }
    bool valid() const { return m_cd != nullptr; }

    std::string type() const;       // "LUKS2", "LUKS1"
    std::string uuid() const;
    std::string label() const;      // "" for LUKS1
    std::string subsystem() const;
    std::string cipherSpec() const; // "aes-xts-plain64"
    uint32_t keyBits() const;
    uint32_t sectorSize() const;

    // Which key slot the secret opens (no activation); throws BadPassphrase.
    int checkSecret(const SecretBuffer &secret) const;
    // Activates dm-crypt as `name` with no_read/write_workqueue; returns the key slot used.
    int activate(const std::string &name, const SecretBuffer &secret, bool readOnly = false) const;

    // Sanity checks on a loaded header (done by load()).
    void validate() const;
    // What each active key slot's key derivation costs (with its digest's).
    std::vector<KdfLimits::SlotCost> slotCosts() const;
    // Bytes of the header with its key slots: what a header backup holds.
    uint64_t headerBytes() const;

    // Installs our log callback once (libcryptsetup's messages go to lastMessage(), never to
    // stderr) and disables external token plugins. Safe to call many times.
    static void setupLibrary();
    // The last error libcryptsetup reported in this thread (for diagnostics only).
    static std::string lastMessage();
    static void clearLastMessage();

private:
    crypt_device *m_cd = nullptr;
};

// Throws the Error for a negative libcryptsetup return code.
[[noreturn]] void throwCryptError(int r, const std::string &what);

} // namespace Coffer
