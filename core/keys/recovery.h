#pragma once

// Secrets Coffer makes up for a person: a recovery passphrase to print and keep in a drawer, and
// a random key file. Both come from the kernel's random generator (getrandom) straight into
// locked memory.

#include "block/secretbuffer.h"

#include <cstddef>
#include <string>

namespace Coffer::Keys {

// Crockford's base32 alphabet: digits and capitals without I, L, O and U, so that nothing reads
// as something else on paper.
inline constexpr char recoveryAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
inline constexpr int recoveryGroups = 7;
inline constexpr int recoveryGroupLength = 4;
// 28 characters of 5 bits each: out of reach of any guessing, however cheap the key derivation.
inline constexpr int recoveryBits = recoveryGroups * recoveryGroupLength * 5;

// "7KQ2-M9XD-..." : seven groups of four, joined by '-' (typed back exactly so, dashes included).
SecretBuffer generateRecoveryPassphrase();

// The size of the key files Coffer generates: 512 random bits.
inline constexpr size_t keyFileBytes = 64;

// Random bytes for a new key file.
SecretBuffer generateKeyFileContents(size_t bytes = keyFileBytes);

// Writes `contents` into the new file `path` (it must not exist; mode 0600; flushed to disk).
// Throws Coffer::Error naming the file; a half-written file is removed.
void writeKeyFile(const std::string &path, const SecretBuffer &contents);

} // namespace Coffer::Keys
