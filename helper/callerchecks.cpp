#include "callerchecks.h"

#include "block/vault.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Coffer::Helper {

namespace {

Error invalid(std::string message)
{
    return Error(ErrorCode::InvalidArgument, std::move(message));
}

const char *typeName(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symbolic link";
    case S_IFIFO: return "a pipe (FIFO)";
    case S_IFSOCK: return "a socket";
    case S_IFBLK: return "a block device";
    case S_IFCHR: return "a character device";
    default: return "not a regular file";
    }
}

bool onFatLike(int fd)
{
    try {
        return Vault::mediumInfo(fd).ownersFromMount;
    } catch (const Error &) {
        return false;
    }
}

struct stat statFd(int fd, const char *what)
{
    struct stat st {};
    if (fstat(fd, &st) != 0)
        throw Error::fromErrno(ErrorCode::InvalidArgument, errno,
                               std::string("Cannot examine the ") + what);
    return st;
}

int accessMode(int fd, const char *what)
{
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        throw Error::fromErrno(ErrorCode::InvalidArgument, errno,
                               std::string("Cannot examine the ") + what);
    if (flags & O_PATH)
        throw invalid(std::string("The ") + what
                      + " was opened with O_PATH; open the file itself for reading and writing.");
    return flags & O_ACCMODE;
}

} // namespace

int fdOf(const QDBusUnixFileDescriptor &fd, const char *what)
{
    if (!fd.isValid() || fd.fileDescriptor() < 0)
        throw invalid(std::string("The ") + what
                      + " is not a valid file descriptor (bad index in the message?).");
    return fd.fileDescriptor();
}

QDBusUnixFileDescriptor fdArgument(const QDBusMessage &message, int index)
{
    return message.arguments().value(index).value<QDBusUnixFileDescriptor>();
}

UniqueFd keepFd(int fd)
{
    UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!copy)
        throw Error::fromErrno(ErrorCode::Failed, errno, "Cannot keep the file descriptor");
    return copy;
}

BackingFile checkBackingFd(int fd, uid_t caller, BackingUse use)
{
    const int mode = accessMode(fd, "backing file");
    const struct stat st = statFd(fd, "backing file");
    if (!S_ISREG(st.st_mode))
        throw invalid(std::string("The backing file is ") + typeName(st.st_mode)
                      + "; a vault must be a regular file.");
    if (mode != O_RDWR)
        throw invalid("The backing file was opened read-only; open it for reading and writing.");
    if (st.st_nlink != 1)
        throw invalid("The backing file has " + std::to_string(st.st_nlink)
                      + " hard links; a vault file must have exactly one.");
    BackingFile result;
    result.id = {st.st_dev, st.st_ino};
    result.size = uint64_t(st.st_size);
    result.onFatLike = onFatLike(fd);
    // On vfat/exfat the owner is a mount option: the caller opened it read-write with its own
    // rights, which is what ownership would have proven.
    if (st.st_uid != caller && !result.onFatLike)
        throw Error(ErrorCode::NotAuthorized,
                    "The backing file belongs to another user; a vault file must be your own.");
    if (use == BackingUse::Create && st.st_size != 0)
        throw invalid("The backing file is not empty (" + std::to_string(st.st_size)
                      + " bytes); give a new, empty file so nothing is overwritten.");
    if (use == BackingUse::Open && st.st_size == 0)
        throw Error(ErrorCode::NotSupported, "The backing file is empty: it holds no vault.");
    return result;
}

void checkOutputFd(int fd, uid_t caller, const FileId &notThis)
{
    const int mode = accessMode(fd, "output file");
    const struct stat st = statFd(fd, "output file");
    if (!S_ISREG(st.st_mode))
        throw invalid(std::string("The output file is ") + typeName(st.st_mode)
                      + "; give a regular file.");
    if (mode != O_RDWR && mode != O_WRONLY)
        throw invalid("The output file was opened read-only; open it for writing.");
    if (st.st_nlink != 1)
        throw invalid("The output file has more than one hard link.");
    if (st.st_uid != caller && !onFatLike(fd))
        throw Error(ErrorCode::NotAuthorized, "The output file belongs to another user.");
    if (FileId{st.st_dev, st.st_ino} == notThis)
        throw invalid("The output file is the vault itself.");
}

SecretBuffer readSecret(int fd, size_t maxSize, int timeoutMs)
{
    const int mode = accessMode(fd, "secret");
    const struct stat st = statFd(fd, "secret");
    if (mode == O_WRONLY)
        throw invalid("The secret's descriptor is write-only; send the read end of the pipe.");
    if (S_ISREG(st.st_mode)) {
        if (uint64_t(st.st_size) > maxSize)
            throw invalid("The key file is larger than " + std::to_string(maxSize) + " bytes.");
        SecretBuffer buffer(size_t(st.st_size));
        size_t done = 0;
        while (done < buffer.size()) {
            const ssize_t n = pread(fd, buffer.data() + done, buffer.size() - done, off_t(done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw Error::fromErrno(ErrorCode::InvalidArgument, errno, "Cannot read the key file");
            if (n == 0)
                break;
            done += size_t(n);
        }
        buffer.truncate(done);
        return buffer;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
        throw invalid(std::string("The secret is ") + typeName(st.st_mode)
                      + "; send it through a pipe you write and close.");

    // A pipe: read until the client's end is closed, but never wait longer than timeoutMs.
    // O_NONBLOCK goes on our own open file description (the read end), not the client's.
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw Error::fromErrno(ErrorCode::InvalidArgument, errno, "Cannot read the secret");
    // The buffer grows as the secret arrives (a passphrase takes one page), to maxSize + 1 bytes
    // at most: a secret that fills that is too long.
    SecretBuffer buffer;
    buffer.reserve(std::min<size_t>(4096, maxSize + 1));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
        if (buffer.size() == buffer.capacity())
            buffer.reserve(std::min(buffer.capacity() * 4, maxSize + 1));
        const size_t room = std::min(buffer.capacity(), maxSize + 1) - buffer.size();
        const ssize_t n = read(fd, buffer.data() + buffer.size(), room);
        if (n > 0) {
            buffer.resize(buffer.size() + size_t(n));
            if (buffer.size() > maxSize)
                throw invalid("The secret is longer than " + std::to_string(maxSize) + " bytes.");
            continue;
        }
        if (n == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            throw Error::fromErrno(ErrorCode::InvalidArgument, errno, "Cannot read the secret");
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw invalid("The secret's pipe was not closed; write the secret, then close the pipe "
                          "before calling.");
        pollfd pfd{fd, POLLIN, 0};
        poll(&pfd, 1, int(left.count()));
    }
    return buffer;
}

std::string checkName(const QString &name)
{
    const std::string bytes = name.toUtf8().toStdString();
    Vault::validateName(bytes);
    return bytes;
}

uint64_t checkSize(uint64_t size)
{
    if (size < Vault::minimumSize)
        throw invalid("A vault must be at least " + std::to_string(Vault::minimumSize >> 20)
                      + " MiB.");
    if (size > Vault::maximumSize)
        throw invalid("A vault can be at most " + std::to_string(Vault::maximumSize >> 40) + " TiB.");
    return size;
}

std::vector<std::string> checkSources(const QStringList &sources)
{
    if (sources.isEmpty())
        throw invalid("Give at least one folder to back up.");
    if (sources.size() > Limits::maxSources)
        throw invalid("Too many folders to back up at once (at most "
                      + std::to_string(Limits::maxSources) + ").");
    std::vector<std::string> result;
    for (const QString &source : sources) {
        const QByteArray bytes = source.toUtf8();
        if (!source.startsWith(QLatin1Char('/')) || bytes.size() > Limits::maxPathBytes
            || bytes.contains('\0') || source.contains(QLatin1String("//")))
            throw invalid("A folder to back up must be an absolute path without empty parts.");
        QString trimmed = source;
        while (trimmed.size() > 1 && trimmed.endsWith(QLatin1Char('/')))
            trimmed.chop(1);
        if (trimmed == QLatin1String("/"))
            throw invalid("The root directory cannot be backed up as one folder.");
        result.push_back(trimmed.toUtf8().toStdString());
    }
    return result;
}

std::string mountNameFor(const std::string &headerName)
{
    return Vault::isValidName(headerName) ? headerName : "vault";
}

} // namespace Coffer::Helper
