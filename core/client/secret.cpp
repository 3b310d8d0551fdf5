#include "client/secret.h"

#include "block/uniquefd.h"
#include "error.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Coffer::Client {

namespace {

// A key file's contents are limited like the helper limits them (cryptsetup's own limit).
constexpr size_t maxKeyFileBytes = 8 * 1024 * 1024;

UniqueFd openKeyFile(const std::string &path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open the key file " + path);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(ErrorCode::InvalidArgument, "The key file " + path + " is not a regular file.");
    return fd;
}

} // namespace

Secret Secret::passphrase(SecretBuffer passphrase)
{
    Secret s;
    s.m_passphrase = std::make_shared<const SecretBuffer>(std::move(passphrase));
    return s;
}

Secret Secret::keyFile(std::string path)
{
    Secret s;
    s.m_keyFile = std::move(path);
    return s;
}

QDBusUnixFileDescriptor Secret::fd() const
{
    if (isKeyFile())
        return keyFileFd(m_keyFile);
    if (!m_passphrase)
        throw Error(ErrorCode::InvalidArgument, "No passphrase was given.");
    return secretPipe(*m_passphrase);
}

std::shared_ptr<const SecretBuffer> Secret::contents() const
{
    if (!isKeyFile()) {
        if (!m_passphrase)
            throw Error(ErrorCode::InvalidArgument, "No passphrase was given.");
        return m_passphrase;
    }
    const UniqueFd fd = openKeyFile(m_keyFile);
    return std::make_shared<const SecretBuffer>(SecretBuffer::readFromFd(fd.get(), maxKeyFileBytes));
}

QDBusUnixFileDescriptor secretPipe(const SecretBuffer &secret)
{
    if (secret.size() > maxPipedSecretBytes)
        throw Error(ErrorCode::InvalidArgument, "The passphrase is too long; use a key file.");
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        throw Error::fromErrno(errno, "Cannot make a pipe for the passphrase");
    UniqueFd readEnd(p[0]);
    UniqueFd writeEnd(p[1]);
    size_t done = 0;
    while (done < secret.size()) {
        const ssize_t n = ::write(writeEnd.get(), secret.data() + done, secret.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw Error::fromErrno(errno, "Cannot pass the passphrase");
        done += size_t(n);
    }
    writeEnd.reset(); // closed before the call: the helper reads to EOF
    return QDBusUnixFileDescriptor(readEnd.get()); // dups it; ours closes here
}

QDBusUnixFileDescriptor keyFileFd(const std::string &path)
{
    const UniqueFd fd = openKeyFile(path);
    return QDBusUnixFileDescriptor(fd.get());
}

} // namespace Coffer::Client
