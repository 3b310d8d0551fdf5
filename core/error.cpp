#include "error.h"

#include <cerrno>
#include <cstring>

namespace Coffer {

std::string_view errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::NotAuthorized: return "NotAuthorized";
    case ErrorCode::BadPassphrase: return "BadPassphrase";
    case ErrorCode::Busy: return "Busy";
    case ErrorCode::NoSpace: return "NoSpace";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::NotSupported: return "NotSupported";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::Cancelled: return "Cancelled";
    case ErrorCode::MediumGone: return "MediumGone";
    case ErrorCode::Failed: return "Failed";
    }
    return "Failed";
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
