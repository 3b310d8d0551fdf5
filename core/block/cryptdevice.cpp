#include "block/cryptdevice.h"

#include "block/kdflimits.h"
#include "block/uniquefd.h"
#include "block/vault.h"
#include "error.h"

#include <libcryptsetup.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace Coffer {

namespace {

// LUKS2's binary header alone is 4 KiB (LUKS1's, with its key material, is far larger).
constexpr off_t minimumLuksFileSize = 4096;

thread_local std::string t_lastMessage;

void logCallback(int level, const char *msg, void *)
{
    if (level == CRYPT_LOG_ERROR && msg) {
        t_lastMessage = msg;
        while (!t_lastMessage.empty() && t_lastMessage.back() == '\n')
            t_lastMessage.pop_back();
    }
}

// What libcryptsetup's API does not tell of a LUKS1 header: the master key digest's PBKDF2
// iterations and where the key slots' material lies (the on-disk struct luks_phdr, big-endian).
struct Luks1Header
{
    uint32_t keyBytes = 0;
    uint32_t digestIterations = 0;
    struct Slot
    {
        uint32_t materialOffset = 0; // sectors
        uint32_t stripes = 0;
    } keySlots[8];
};

std::optional<Luks1Header> readLuks1Header(const char *path)
{
    unsigned char raw[208 + 8 * 48];
    UniqueFd fd(path ? ::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1);
    if (!fd || ::pread(fd.get(), raw, sizeof raw, 0) != ssize_t(sizeof raw))
        return std::nullopt;
    auto be32 = [&](size_t off) {
        return uint32_t(raw[off]) << 24 | uint32_t(raw[off + 1]) << 16 | uint32_t(raw[off + 2]) << 8 | raw[off + 3];
    };
    Luks1Header h;
    h.keyBytes = be32(108);
    h.digestIterations = be32(164);
    for (int i = 0; i < 8; ++i) {
        h.keySlots[i].materialOffset = be32(208 + 48 * size_t(i) + 40);
        h.keySlots[i].stripes = be32(208 + 48 * size_t(i) + 44);
    }
    return h;
}

// LUKS2: the PBKDF2 iterations of the digest each key slot is checked with, from the JSON.
std::map<int, uint64_t> luks2DigestIterations(crypt_device *cd)
{
    const char *json = nullptr;
    if (crypt_dump_json(cd, &json, 0) < 0 || !json)
        throw Error(ErrorCode::NotSupported, "Cannot read the metadata of the vault's LUKS2 header");
    const QJsonObject digests = QJsonDocument::fromJson(QByteArray(json)).object().value("digests").toObject();
    std::map<int, uint64_t> out;
    for (const QJsonValue &d : digests) {
        const QJsonObject digest = d.toObject();
        const uint64_t iterations = uint64_t(std::max(0.0, digest.value("iterations").toDouble()));
        for (const QJsonValue &slot : digest.value("keyslots").toArray()) {
            uint64_t &it = out[slot.toString().toInt()];
            it = std::max(it, iterations);
        }
    }
    return out;
}

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
        // A file too short for any LUKS header reads short, which libcryptsetup reports as EIO,
        // the code of a pulled drive.
        struct stat st;
        if (r == -EIO && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < minimumLuksFileSize)
            r = -EINVAL;
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
    // A mapper name ("coffer-<UUID>") and more are made from the UUID: nothing may be derived
    // from one that is not canonical (a forged "../../x").
    if (!Vault::isCanonicalLuksUuid(uuid()))
        throw Error(ErrorCode::NotSupported,
                    "This vault's LUKS header has a malformed UUID (not 8-4-4-4-12 hexadecimal "
                    "digits); Coffer refuses to open it (a damaged or forged header?)");
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
    KdfLimits::checkHeader(slotCosts());
}

std::vector<KdfLimits::SlotCost> CryptDevice::slotCosts() const
{
    const bool luks2 = type() == CRYPT_LUKS2;
    std::map<int, uint64_t> digests;
    uint64_t luks1Digest = 0;
    if (luks2) {
        digests = luks2DigestIterations(m_cd);
    } else {
        const auto h = readLuks1Header(crypt_get_device_name(m_cd));
        if (!h)
            throw Error(ErrorCode::NotSupported, "Cannot read the vault's LUKS1 header");
        luks1Digest = h->digestIterations;
    }
    std::vector<KdfLimits::SlotCost> out;
    const int maxSlots = crypt_keyslot_max(crypt_get_type(m_cd));
    for (int slot = 0; slot < maxSlots; ++slot) {
        crypt_keyslot_info ki = crypt_keyslot_status(m_cd, slot);
        if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
            continue;
        crypt_pbkdf_type pbkdf;
        std::memset(&pbkdf, 0, sizeof pbkdf);
        if (crypt_keyslot_get_pbkdf(m_cd, slot, &pbkdf) < 0)
            throw Error(ErrorCode::NotSupported, "Cannot read the key derivation of key slot "
                                                     + std::to_string(slot) + " of this vault");
        KdfLimits::SlotCost cost;
        cost.slot = slot;
        cost.kdf = pbkdf.type ? pbkdf.type : "";
        cost.iterations = pbkdf.iterations;
        cost.memoryKiB = pbkdf.max_memory_kb;
        cost.threads = pbkdf.parallel_threads;
        cost.digestIterations = luks2 ? digests[slot] : luks1Digest;
        out.push_back(cost);
    }
    return out;
}

uint64_t CryptDevice::headerBytes() const
{
    if (type() == CRYPT_LUKS2) {
        uint64_t metadata = 0, keyslots = 0;
        if (crypt_get_metadata_size(m_cd, &metadata, &keyslots) < 0)
            throw Error(ErrorCode::NotSupported, "Cannot read the size of the vault's LUKS2 header");
        return 2 * metadata + keyslots;
    }
    // As cryptsetup's LUKS1 backup: up to the end of the last key slot's material.
    const auto h = readLuks1Header(crypt_get_device_name(m_cd));
    if (!h)
        throw Error(ErrorCode::NotSupported, "Cannot read the vault's LUKS1 header");
    uint64_t end = 0;
    for (const auto &slot : h->keySlots) {
        const uint64_t bytes = uint64_t(h->keyBytes) * std::max<uint32_t>(slot.stripes, 4000);
        end = std::max(end, uint64_t(slot.materialOffset) * 512 + (bytes + 511) / 512 * 512);
    }
    return end;
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
