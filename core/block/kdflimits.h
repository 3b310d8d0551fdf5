#pragma once

// The key derivation costs Coffer accepts, in one place: what a LUKS header read from disk may
// ask for (CryptDevice::load refuses more), and what a caller may ask of a new key slot
// (core/dbus/options.h checks CreateVault's options against these; Vault::create and friends
// check them again). The second lies within the first, or a vault Coffer made would not open.
//
// Why caps at all: every unlock attempt runs each key slot's KDF in turn (a wrong passphrase
// tries them all) and the digest's PBKDF2 after each, as root in the helper. A header is
// someone's file, so without caps one could keep a root thread busy for hours, or make it
// allocate without end.

#include "block/vault.h"

#include <cstdint>
#include <string>
#include <vector>

namespace Coffer::KdfLimits {

// ---- a header read from disk -------------------------------------------------------------------
namespace Header {
// cryptsetup's own ceilings: it never makes more than 4 GiB or 4 threads.
inline constexpr uint32_t maxArgonMemoryKiB = 4u << 20;
inline constexpr uint32_t maxArgonThreads = 16;
// Memory (KiB) x time cost (passes) of one argon2 slot: 1 TiB of memory traffic, some minutes of
// CPU. It caps the time cost too (the cheaper each pass, the more passes). A 60-second
// benchmarked slot with 4 threads stays well below on any CPU of today (argon2 fills at most
// 2 to 3 GiB/s per thread).
inline constexpr uint64_t maxArgonWork = 1ull << 30;
// PBKDF2 iterations of one key slot (LUKS1, LUKS2 pbkdf2 slots) or digest: a minute or two
// with SHA instructions, ten without.
inline constexpr uint64_t maxPbkdf2Iterations = 1ull << 30;
// Over all slots of one header (each slot's digest counted once per slot, as an unlock runs it).
inline constexpr uint64_t maxArgonWorkTotal = 2 * maxArgonWork;
inline constexpr uint64_t maxPbkdf2IterationsTotal = 2 * maxPbkdf2Iterations;
} // namespace Header

// ---- a new key slot (argon2id) -----------------------------------------------------------------
namespace NewSlot {
inline constexpr uint32_t minMemoryKiB = 8;
inline constexpr uint32_t maxMemoryKiB = Header::maxArgonMemoryKiB;
inline constexpr uint32_t maxIterMs = 60000;   // benchmarked: the target unlock time
inline constexpr uint32_t maxIterations = 1000; // fixed time cost (tests, slow machines)
static_assert(maxMemoryKiB <= Header::maxArgonMemoryKiB);
static_assert(uint64_t(maxIterations) * minMemoryKiB <= Header::maxArgonWork);
// memory x iterations together: checkNewSlot.
} // namespace NewSlot

// What one active key slot's KDF costs (crypt_keyslot_get_pbkdf), and the PBKDF2 iterations of
// the digest that checks what it yields.
struct SlotCost
{
    int slot = 0;
    std::string kdf;             // "argon2id", "argon2i", "pbkdf2"
    uint64_t iterations = 0;     // argon2: time cost (passes); pbkdf2: iterations
    uint64_t memoryKiB = 0;      // argon2 only
    uint64_t threads = 0;        // argon2 only
    uint64_t digestIterations = 0;
};

// Throws NotSupported, naming the slot and the cost, when a slot or all of them together ask for
// more than the Header caps, or for a KDF Coffer does not know.
void checkHeader(const std::vector<SlotCost> &costs);

// Throws InvalidArgument when a new slot's options leave the NewSlot limits (memory x fixed
// iterations included). All zero is cryptsetup's benchmarked default: fine.
void checkNewSlot(const Vault::PbkdfOptions &options);

} // namespace Coffer::KdfLimits
