#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace Coffer {

// The kinds of failure a person (or a script) can act on differently. The helper maps each one
// to a D-Bus error name in exactly one place (core/dbus/errornames.h); cofferctl maps each one
// to an exit code.
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

// "NoSpace" for ErrorCode::NoSpace: the suffix of the D-Bus error name.
std::string_view errorCodeName(ErrorCode code);

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
