#include "keys/recovery.h"

#include "block/uniquefd.h"
#include "block/vaultinternal.h"
#include "error.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace Coffer::Keys {

static_assert(sizeof recoveryAlphabet - 1 == 32, "one character is five bits");

SecretBuffer generateRecoveryPassphrase()
{
    constexpr size_t chars = recoveryGroups * recoveryGroupLength;
    const SecretBuffer random = Vault::randomKey(chars);
    SecretBuffer out(chars + recoveryGroups - 1);
    size_t o = 0;
    for (size_t i = 0; i < chars; ++i) {
        if (i && i % recoveryGroupLength == 0)
            out.data()[o++] = '-';
        // 32 divides 256: the low five bits of a uniform byte are uniform.
        out.data()[o++] = recoveryAlphabet[static_cast<unsigned char>(random.data()[i]) & 31];
    }
    return out;
}

SecretBuffer generateKeyFileContents(size_t bytes)
{
    return Vault::randomKey(bytes);
}

void writeKeyFile(const std::string &path, const SecretBuffer &contents)
{
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd)
        throw Error::fromErrno(errno == EEXIST ? ErrorCode::InvalidArgument : errorCodeForErrno(errno), errno,
                               "Cannot create the key file " + path + " (it must not exist yet)");
    size_t done = 0;
    int err = 0;
    while (done < contents.size()) {
        const ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            break;
        }
        done += size_t(n);
    }
    if (!err && ::fsync(fd.get()) != 0)
        err = errno;
    if (err) {
        ::unlink(path.c_str());
        throw Error::fromErrno(err, "Cannot write the key file " + path);
    }
}

} // namespace Coffer::Keys
