#pragma once

// cofferctl's documented exit codes (man page and README list them). Scripts branch on these.
namespace Coffer::ExitCode {
constexpr int Ok = 0;            // done, complete
constexpr int Failed = 1;        // failed; the message says why
constexpr int Usage = 2;         // bad command line
constexpr int Partial = 3;       // sync finished but skipped some files (warnings say which)
constexpr int BadPassphrase = 4; // no key slot opened with what was given
constexpr int NotAuthorized = 5; // polkit (or file permissions) said no
constexpr int Busy = 6;          // the vault or file is in use by another operation or process
constexpr int Cancelled = 7;     // interrupted (SIGINT) or cancelled; the destination is consistent
constexpr int NoSpace = 8;       // the vault or the medium is full
constexpr int NotFound = 9;      // no such vault, file or source
constexpr int MediumGone = 10;   // the drive was removed during the operation
} // namespace Coffer::ExitCode
