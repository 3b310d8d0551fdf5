#include "block/secretbuffer.h"

#include "error.h"

#include <libcryptsetup.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <unistd.h>
#include <utility>

namespace Coffer {

namespace {

char *allocLocked(size_t size)
{
    // crypt_safe_alloc: mlock()ed, zeroed, wiped again by crypt_safe_free.
    void *p = crypt_safe_alloc(size == 0 ? 1 : size);
    if (!p)
        throw Error(ErrorCode::Failed, "Cannot allocate locked memory for a secret");
    return static_cast<char *>(p);
}

} // namespace

SecretBuffer::SecretBuffer(size_t size)
    : m_data(allocLocked(size))
    , m_size(size)
    , m_capacity(size)
{
}

SecretBuffer::SecretBuffer(SecretBuffer &&other) noexcept
    : m_data(std::exchange(other.m_data, nullptr))
    , m_size(std::exchange(other.m_size, 0))
    , m_capacity(std::exchange(other.m_capacity, 0))
{
}

SecretBuffer &SecretBuffer::operator=(SecretBuffer &&other) noexcept
{
    if (this != &other) {
        wipe();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_capacity = std::exchange(other.m_capacity, 0);
    }
    return *this;
}

SecretBuffer::~SecretBuffer()
{
    wipe();
}

void SecretBuffer::wipe()
{
    if (m_data)
        crypt_safe_free(m_data); // wipes before freeing
    m_data = nullptr;
    m_size = m_capacity = 0;
}

void SecretBuffer::truncate(size_t size)
{
    if (size < m_size) {
        crypt_safe_memzero(m_data + size, m_size - size);
        m_size = size;
    }
}

SecretBuffer SecretBuffer::fromString(std::string_view text)
{
    SecretBuffer b(text.size());
    if (!text.empty())
        std::memcpy(b.m_data, text.data(), text.size());
    return b;
}

SecretBuffer SecretBuffer::readFromFd(int fd, size_t maxSize)
{
    // Grow in locked memory only: copy into a bigger locked buffer, wipe the old one.
    SecretBuffer b(4096);
    size_t used = 0;
    for (;;) {
        if (used == b.m_capacity) {
            if (b.m_capacity >= maxSize + 1)
                break;
            SecretBuffer bigger(std::min(b.m_capacity * 4, maxSize + 1));
            std::memcpy(bigger.m_data, b.m_data, used);
            b = std::move(bigger);
        }
        ssize_t n = ::read(fd, b.m_data + used, b.m_capacity - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error::fromErrno(ErrorCode::InvalidArgument, errno, "Cannot read the secret");
        }
        if (n == 0)
            break;
        used += size_t(n);
        if (used > maxSize)
            throw Error(ErrorCode::InvalidArgument,
                        "The secret is too long (at most " + std::to_string(maxSize) + " bytes)");
    }
    b.m_size = used;
    return b;
}

} // namespace Coffer
