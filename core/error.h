#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace Coffer {

// The kinds of failure a person (or a script) can act on differently. Each one has a name (the
// suffix of its D-Bus error name, mapped in core/dbus/errornames.h) and an exit status for
// command-line tools: both in errorKinds below, the one list of them. Failed stays last.
enum class ErrorCode {
    NotAuthorized,
    BadPassphrase,
    Busy,
    NoSpace,
    InvalidArgument,
    NotSupported,
    NotFound,
    Cancelled,
    MediumGone,
    Failed,
};

// The exit statuses of cofferctl (README.md and cofferctl(1) list them); scripts branch on these.
namespace ExitCode {
inline constexpr int Ok = 0;            // done, complete
inline constexpr int Failed = 1;        // failed; the message says why
inline constexpr int Usage = 2;         // bad command line (or an argument the helper refused)
inline constexpr int Partial = 3;       // sync finished but skipped some files (warnings say which)
inline constexpr int BadPassphrase = 4; // no key slot opened with what was given
inline constexpr int NotAuthorized = 5; // polkit (or file permissions) said no
inline constexpr int Busy = 6;          // the vault or file is in use by another operation or process
inline constexpr int Cancelled = 7;     // interrupted (SIGINT) or cancelled; the destination is consistent
inline constexpr int NoSpace = 8;       // the vault or the medium is full
inline constexpr int NotFound = 9;      // no such vault, file or source
inline constexpr int MediumGone = 10;   // the drive was removed during the operation
} // namespace ExitCode

struct ErrorKind
{
    ErrorCode code;
    std::string_view name;
    int exitCode;
};

// Every ErrorCode once, in the order of the enum.
inline constexpr ErrorKind errorKinds[] = {
    {ErrorCode::NotAuthorized, "NotAuthorized", ExitCode::NotAuthorized},
    {ErrorCode::BadPassphrase, "BadPassphrase", ExitCode::BadPassphrase},
    {ErrorCode::Busy, "Busy", ExitCode::Busy},
    {ErrorCode::NoSpace, "NoSpace", ExitCode::NoSpace},
    {ErrorCode::InvalidArgument, "InvalidArgument", ExitCode::Usage},
    {ErrorCode::NotSupported, "NotSupported", ExitCode::Failed},
    {ErrorCode::NotFound, "NotFound", ExitCode::NotFound},
    {ErrorCode::Cancelled, "Cancelled", ExitCode::Cancelled},
    {ErrorCode::MediumGone, "MediumGone", ExitCode::MediumGone},
    {ErrorCode::Failed, "Failed", ExitCode::Failed},
};

namespace Detail {
constexpr bool errorKindsComplete()
{
    int i = 0;
    for (const ErrorKind &kind : errorKinds) {
        if (int(kind.code) != i++)
            return false;
    }
    return i == int(ErrorCode::Failed) + 1;
}
} // namespace Detail
static_assert(Detail::errorKindsComplete(), "errorKinds lists every ErrorCode once, in order");

// "NoSpace" for ErrorCode::NoSpace.
std::string_view errorCodeName(ErrorCode code);
// The code of a name errorCodeName() gives; nullopt for any other name.
std::optional<ErrorCode> errorCodeFromName(std::string_view name);
// The exit status a command-line tool gives for a failure of this kind (ExitCode).
int exitCodeFor(ErrorCode code);

// The kind of failure an errno usually means (ENOSPC -> NoSpace, EBUSY -> Busy, ...).
ErrorCode errorCodeForErrno(int err);

// What every layer of Coffer throws: a kind, the errno behind it (0 if none) and a sentence a
// person can act on. Messages never contain secrets.
class Error : public std::exception
{
public:
    Error(ErrorCode code, std::string message, int sysErrno = 0);

    // "<what>: <strerror(err)>", with the code derived from err.
    static Error fromErrno(int err, std::string_view what);
    // Same, with an explicit code.
    static Error fromErrno(ErrorCode code, int err, std::string_view what);

    ErrorCode code() const { return m_code; }
    int sysErrno() const { return m_errno; }
    const std::string &message() const { return m_message; }
    const char *what() const noexcept override { return m_message.c_str(); }

private:
    ErrorCode m_code;
    int m_errno;
    std::string m_message;
};

} // namespace Coffer
