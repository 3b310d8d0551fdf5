#pragma once

// Internals of the medium checks, exposed for unit tests.

#include "block/vault.h"

namespace Coffer::Vault {

// Classifies a filesystem by its statfs magic.
MediumInfo mediumInfoFor(unsigned long fsMagic, uint64_t freeBytes);
// Throws NoSpace if a file of totalSize bytes (needing extraBytes more space) does not fit.
void checkFits(const MediumInfo &info, uint64_t totalSize, uint64_t extraBytes);

} // namespace Coffer::Vault
