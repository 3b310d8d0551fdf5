#pragma once

// Steps of the vault operations that need no device-mapper, exposed for host tests.

#include "block/vault.h"

namespace Coffer::Vault {

// Writes a LUKS2 header (design.md 2 defaults, label "coffer:<name>", subsystem "coffer") over
// the file or device at `path` for the volume key `volumeKey` (options.keyBits / 8 bytes), with
// the passphrase in one key slot and options.keyFile (if any) in the next. Returns the UUID.
std::string formatLuks2(const std::string &path, const SecretBuffer &volumeKey,
                        const SecretBuffer &passphrase, const CreateOptions &options);

// A fresh random volume key of `bytes` bytes, in locked memory.
SecretBuffer randomKey(size_t bytes);

} // namespace Coffer::Vault
