#include "block/kdflimits.h"

#include "error.h"

#include <algorithm>

namespace Coffer::KdfLimits {

namespace {

Error tooCostly(const SlotCost &s, const std::string &what)
{
    return Error(ErrorCode::NotSupported,
                 "Key slot " + std::to_string(s.slot) + " of this vault asks for " + what
                     + ", far beyond any real vault; Coffer refuses to unlock it (a damaged or "
                       "forged header?)");
}

} // namespace

void checkHeader(const std::vector<SlotCost> &costs)
{
    using namespace Header;
    uint64_t argonTotal = 0, pbkdf2Total = 0;
    for (const SlotCost &s : costs) {
        if (s.kdf == "pbkdf2") {
            if (s.iterations > maxPbkdf2Iterations)
                throw tooCostly(s, std::to_string(s.iterations) + " PBKDF2 iterations");
            pbkdf2Total += s.iterations;
        } else if (s.kdf == "argon2id" || s.kdf == "argon2i") {
            if (s.memoryKiB > maxArgonMemoryKiB)
                throw tooCostly(s, std::to_string(s.memoryKiB) + " KiB of memory");
            if (s.threads > maxArgonThreads)
                throw tooCostly(s, std::to_string(s.threads) + " threads");
            // Memory is capped above and the header's time cost is 32 bits: the product fits.
            const uint64_t work = s.memoryKiB * std::max<uint64_t>(s.iterations, 1);
            if (work > maxArgonWork)
                throw tooCostly(s, std::to_string(s.iterations) + " passes over "
                                       + std::to_string(s.memoryKiB) + " KiB");
            argonTotal += work;
        } else {
            throw Error(ErrorCode::NotSupported, "Key slot " + std::to_string(s.slot)
                                                     + " of this vault uses a key derivation Coffer does not know; "
                                                       "Coffer refuses to unlock it");
        }
        if (s.digestIterations > maxPbkdf2Iterations)
            throw tooCostly(s, "a digest of " + std::to_string(s.digestIterations) + " PBKDF2 iterations");
        pbkdf2Total += s.digestIterations;
        if (argonTotal > maxArgonWorkTotal || pbkdf2Total > maxPbkdf2IterationsTotal)
            throw Error(ErrorCode::NotSupported,
                        "The key slots of this vault together ask for a key derivation cost far "
                        "beyond any real vault; Coffer refuses to unlock it (a damaged or forged "
                        "header?)");
    }
}

void checkNewSlot(const Vault::PbkdfOptions &o)
{
    using namespace NewSlot;
    auto invalid = [](const std::string &message) { return Error(ErrorCode::InvalidArgument, message); };
    if (o.memoryKiB && (o.memoryKiB < minMemoryKiB || o.memoryKiB > maxMemoryKiB))
        throw invalid("The key derivation's memory must be " + std::to_string(minMemoryKiB) + " to "
                      + std::to_string(maxMemoryKiB) + " KiB");
    if (o.iterMs > maxIterMs)
        throw invalid("The key derivation may take at most " + std::to_string(maxIterMs) + " ms");
    if (o.iterations > maxIterations)
        throw invalid("The key derivation may have at most " + std::to_string(maxIterations) + " iterations");
    if (o.parallel > Header::maxArgonThreads)
        throw invalid("The key derivation may use at most " + std::to_string(Header::maxArgonThreads)
                      + " threads");
    // A fixed cost with cryptsetup's default memory (1 GiB) where none is given.
    const uint64_t memory = o.memoryKiB ? o.memoryKiB : (1u << 20);
    if (o.iterations && memory * o.iterations > Header::maxArgonWork)
        throw invalid("The key derivation's iterations times its memory is too large (at most "
                      + std::to_string(Header::maxArgonWork / memory) + " iterations with "
                      + std::to_string(memory) + " KiB)");
}

} // namespace Coffer::KdfLimits
