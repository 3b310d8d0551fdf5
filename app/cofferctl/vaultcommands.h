#pragma once

namespace Coffer::Ctl {
// `cofferctl sync FILE --source DIR...` (no --into): sync into a vault through coffer-helper.
int runVaultSync(int argc, char **argv);
} // namespace Coffer::Ctl
