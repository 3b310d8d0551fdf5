#include "block/cryptdevice.h"

#include "error.h"

#include <libcryptsetup.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

namespace Coffer {

namespace {

thread_local std::string t_lastMessage;

void logCallback(int level, const char *msg, void *)
{
    if (level == CRYPT_LOG_ERROR && msg) {
        t_lastMessage = msg;
        while (!t_lastMessage.empty() && t_lastMessage.back() == '\n')
            t_lastMessage.pop_back();
    }
}

// Limits beyond which a header's PBKDF is not a real vault but an attempt to make us (root)
// allocate or compute without end. cryptsetup itself never makes more than 4 GiB / 4 threads.
constexpr uint32_t maxPbkdfMemoryKiB = 4u * 1024 * 1024;
constexpr uint32_t maxPbkdfParallel = 64;
constexpr uint32_t maxArgonIterations = 1000000;

} // namespace

void CryptDevice::setupLibrary()
{
    static std::once_flag once;
    std::call_once(once, [] {
        crypt_set_log_callback(nullptr, logCallback, nullptr);
        crypt_token_external_disable();
    });
}

std::string CryptDevice::lastMessage()
{
    return t_lastMessage;
}

void CryptDevice::clearLastMessage()
{
    t_lastMessage.clear();
}

void throwCryptError(int r, const std::string &what)
{
    int err = r < 0 ? -r : EINVAL;
    std::string detail = CryptDevice::lastMessage();
    std::string message = what + ": " + std::strerror(err);
    if (!detail.empty())
        message += " (" + detail + ")";
    throw Error(errorCodeForErrno(err), message, err);
}

CryptDevice::CryptDevice(CryptDevice &&other) noexcept
    : m_cd(std::exchange(other.m_cd, nullptr))
{
}

CryptDevice &CryptDevice::operator=(CryptDevice &&other) noexcept
{
    if (this != &other) {
        if (m_cd)
            crypt_free(m_cd);
        m_cd = std::exchange(other.m_cd, nullptr);
    }
    return *this;
}

CryptDevice::~CryptDevice()
{
    if (m_cd)
        crypt_free(m_cd);
}

CryptDevice CryptDevice::init(const std::string &path)
{
    setupLibrary();
    clearLastMessage();
    CryptDevice d;
    int r = crypt_init(&d.m_cd, path.c_str());
    if (r < 0)
        throwCryptError(r, "Cannot open the vault's device");
    return d;
}

CryptDevice CryptDevice::load(const std::string &path)
{
    CryptDevice d = init(path);
    int r = crypt_load(d.m_cd, CRYPT_LUKS, nullptr);
    if (r < 0) {
        if (r == -EINVAL || r == -ENOENT)
            throw Error(ErrorCode::NotSupported,
                        "This file has no readable LUKS header: either it is not a vault, or both "
                        "copies of its header are damaged (restore the header from a header backup)",
                        -r);
        if (r == -ENOTSUP)
            throw Error(ErrorCode::NotSupported,
                        "This vault's header uses features this version of cryptsetup does not "
                        "support", -r);
        throwCryptError(r, "Cannot read the vault's LUKS header");
    }
    d.validate();
    return d;
}

CryptDevice CryptDevice::byName(const std::string &name)
{
    setupLibrary();
    clearLastMessage();
    CryptDevice d;
    int r = crypt_init_by_name(&d.m_cd, name.c_str());
    if (r < 0)
        throwCryptError(r, "Cannot find the open vault " + name);
    return d;
}

void CryptDevice::validate() const
{
    if (crypt_header_is_detached(m_cd) == 1)
        throw Error(ErrorCode::NotSupported, "Vaults with a detached LUKS header are not supported");
    if (type() == CRYPT_LUKS2) {
        uint32_t flags = 0;
        if (crypt_persistent_flags_get(m_cd, CRYPT_FLAGS_REQUIREMENTS, &flags) < 0)
            throw Error(ErrorCode::NotSupported, "Cannot read the requirement flags of the LUKS header");
        if (flags != 0)
            throw Error(ErrorCode::NotSupported,
                        "This vault's LUKS header requires something Coffer does not handle "
                        "(an interrupted re-encryption or a newer format); finish it with the "
                        "cryptsetup tool first");
    }
    int maxSlots = crypt_keyslot_max(crypt_get_type(m_cd));
    for (int slot = 0; slot < maxSlots; ++slot) {
        crypt_keyslot_info ki = crypt_keyslot_status(m_cd, slot);
        if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
            continue;
        crypt_pbkdf_type pbkdf;
        std::memset(&pbkdf, 0, sizeof pbkdf);
        if (crypt_keyslot_get_pbkdf(m_cd, slot, &pbkdf) < 0)
            continue; // LUKS2 slots of kinds without a PBKDF (none today)
        bool argon = pbkdf.type && std::strncmp(pbkdf.type, "argon2", 6) == 0;
        if (pbkdf.max_memory_kb > maxPbkdfMemoryKiB || pbkdf.parallel_threads > maxPbkdfParallel
            || (argon && pbkdf.iterations > maxArgonIterations))
            throw Error(ErrorCode::NotSupported,
                        "Key slot " + std::to_string(slot)
                            + " asks for an absurd key derivation cost (memory "
                            + std::to_string(pbkdf.max_memory_kb) + " KiB, "
                            + std::to_string(pbkdf.parallel_threads)
                            + " threads); Coffer refuses to unlock it");
    }
}

namespace {
std::string orEmpty(const char *s)
{
    return s ? s : "";
}
} // namespace

std::string CryptDevice::type() const { return orEmpty(crypt_get_type(m_cd)); }
std::string CryptDevice::uuid() const { return orEmpty(crypt_get_uuid(m_cd)); }
std::string CryptDevice::label() const { return orEmpty(crypt_get_label(m_cd)); }
std::string CryptDevice::subsystem() const { return orEmpty(crypt_get_subsystem(m_cd)); }

std::string CryptDevice::cipherSpec() const
{
    return orEmpty(crypt_get_cipher(m_cd)) + "-" + orEmpty(crypt_get_cipher_mode(m_cd));
}

uint32_t CryptDevice::keyBits() const
{
    int n = crypt_get_volume_key_size(m_cd);
    return n > 0 ? uint32_t(n) * 8 : 0;
}

uint32_t CryptDevice::sectorSize() const
{
    int s = crypt_get_sector_size(m_cd);
    return s > 0 ? uint32_t(s) : 512;
}

int CryptDevice::checkSecret(const SecretBuffer &secret) const
{
    clearLastMessage();
    int r = crypt_activate_by_passphrase(m_cd, nullptr, CRYPT_ANY_SLOT, secret.data(), secret.size(), 0);
    if (r == -EPERM || r == -ENOENT)
        throw Error(ErrorCode::BadPassphrase, "The passphrase or key file does not unlock this vault", EPERM);
    if (r < 0)
        throwCryptError(r, "Cannot check the passphrase");
    return r;
}

int CryptDevice::activate(const std::string &name, const SecretBuffer &secret, bool readOnly) const
{
    clearLastMessage();
    uint32_t flags = CRYPT_ACTIVATE_NO_READ_WORKQUEUE | CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE;
    if (readOnly)
        flags |= CRYPT_ACTIVATE_READONLY;
    int r = crypt_activate_by_passphrase(m_cd, name.c_str(), CRYPT_ANY_SLOT, secret.data(),
                                         secret.size(), flags);
    if (r == -EPERM || r == -ENOENT)
        throw Error(ErrorCode::BadPassphrase, "The passphrase or key file does not unlock this vault", EPERM);
    if (r == -EEXIST)
        throw Error(ErrorCode::Busy, "This vault is already open (" + name + " exists)", EEXIST);
    if (r == -ENOTSUP || r == -ENODEV)
        throw Error(ErrorCode::NotSupported,
                    "The kernel cannot open encrypted volumes here (dm-crypt is not available)", -r);
    if (r < 0)
        throwCryptError(r, "Cannot unlock the vault");
    return r;
}

} // namespace Coffer
