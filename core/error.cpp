#include "error.h"

#include <cerrno>
#include <cstring>
#include <iterator>

namespace Coffer {

namespace {
const ErrorKind &kindOf(ErrorCode code)
{
    const size_t i = size_t(code);
    return i < std::size(errorKinds) ? errorKinds[i] : errorKinds[size_t(ErrorCode::Failed)];
}
} // namespace

std::string_view errorCodeName(ErrorCode code)
{
    return kindOf(code).name;
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name)
{
    for (const ErrorKind &kind : errorKinds) {
        if (kind.name == name)
            return kind.code;
    }
    return std::nullopt;
}

int exitCodeFor(ErrorCode code)
{
    return kindOf(code).exitCode;
}

ErrorCode errorCodeForErrno(int err)
{
    switch (err) {
    case EPERM:
    case EACCES: return ErrorCode::NotAuthorized;
    case EBUSY:
    case ETXTBSY: return ErrorCode::Busy;
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return ErrorCode::NoSpace;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EBADF: return ErrorCode::InvalidArgument;
    case ENOTSUP:
    case ENOSYS:
    case ENOTTY: return ErrorCode::NotSupported;
    case ENOENT: return ErrorCode::NotFound;
    case ECANCELED:
    case EINTR: return ErrorCode::Cancelled;
    case ENODEV:
    case ENXIO:
    case ENOMEDIUM:
    case EIO: return ErrorCode::MediumGone;
    default: return ErrorCode::Failed;
    }
}

Error::Error(ErrorCode code, std::string message, int sysErrno)
    : m_code(code)
    , m_errno(sysErrno)
    , m_message(std::move(message))
{
}

Error Error::fromErrno(int err, std::string_view what)
{
    return fromErrno(errorCodeForErrno(err), err, what);
}

Error Error::fromErrno(ErrorCode code, int err, std::string_view what)
{
    std::string message(what);
    message += ": ";
    message += std::strerror(err);
    return Error(code, std::move(message), err);
}

} // namespace Coffer
