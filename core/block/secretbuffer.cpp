#include "block/secretbuffer.h"

#include "error.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>
#include <utility>

namespace Coffer {

namespace {

size_t pageSize()
{
    static const size_t size = size_t(::sysconf(_SC_PAGESIZE));
    return size;
}

size_t wholePages(size_t bytes)
{
    const size_t page = pageSize();
    return (std::max<size_t>(bytes, 1) + page - 1) / page * page;
}

// Fresh zeroed pages for a secret. mlock may fail for a user beyond RLIMIT_MEMLOCK (not for
// root): the secret is then still kept out of dumps and forks and wiped.
char *mapSecret(size_t bytes, bool &locked)
{
    void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        throw Error::fromErrno(errno, "Cannot allocate memory for a secret");
    // The system call itself: AddressSanitizer turns mlock(3) into a no-op that reports success.
    locked = ::syscall(SYS_mlock, p, bytes) == 0;
    if (::madvise(p, bytes, MADV_DONTDUMP) != 0 || ::madvise(p, bytes, MADV_WIPEONFORK) != 0) {
        const int err = errno;
        ::munmap(p, bytes);
        throw Error::fromErrno(err, "Cannot keep a secret's memory private");
    }
    return static_cast<char *>(p);
}

void unmapSecret(char *data, size_t bytes)
{
    ::explicit_bzero(data, bytes);
    ::syscall(SYS_munlock, data, bytes);
    ::munmap(data, bytes);
}

} // namespace

SecretBuffer::SecretBuffer(size_t size)
{
    reserve(size);
    m_size = size;
}

SecretBuffer::SecretBuffer(SecretBuffer &&other) noexcept
    : m_data(std::exchange(other.m_data, nullptr))
    , m_size(std::exchange(other.m_size, 0))
    , m_capacity(std::exchange(other.m_capacity, 0))
    , m_locked(std::exchange(other.m_locked, false))
{
}

SecretBuffer &SecretBuffer::operator=(SecretBuffer &&other) noexcept
{
    if (this != &other) {
        wipe();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_capacity = std::exchange(other.m_capacity, 0);
        m_locked = std::exchange(other.m_locked, false);
    }
    return *this;
}

SecretBuffer::~SecretBuffer()
{
    wipe();
}

const char *SecretBuffer::data() const
{
    return m_data ? m_data : "";
}

char *SecretBuffer::data()
{
    static char none[1];
    return m_data ? m_data : none;
}

void SecretBuffer::wipe()
{
    if (m_data)
        unmapSecret(m_data, m_capacity);
    m_data = nullptr;
    m_size = m_capacity = 0;
    m_locked = false;
}

void SecretBuffer::reserve(size_t capacity)
{
    if (m_data && capacity <= m_capacity)
        return;
    const size_t bytes = wholePages(capacity);
    bool locked = false;
    char *bigger = mapSecret(bytes, locked);
    if (m_data) {
        std::memcpy(bigger, m_data, m_capacity); // what was read beyond size() comes along
        unmapSecret(m_data, m_capacity);
    }
    m_data = bigger;
    m_capacity = bytes;
    m_locked = locked;
}

void SecretBuffer::resize(size_t size)
{
    if (size < m_size) {
        ::explicit_bzero(m_data + size, m_size - size);
    } else if (size > m_capacity || !m_data) {
        reserve(size);
    }
    m_size = size;
}

void SecretBuffer::truncate(size_t size)
{
    if (size < m_size)
        resize(size);
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
    SecretBuffer b;
    b.reserve(std::min(pageSize(), maxSize + 1));
    for (;;) {
        if (b.m_size == b.m_capacity) // never full past maxSize: that threw below
            b.reserve(std::min(b.m_capacity * 4, maxSize + 1));
        const ssize_t n = ::read(fd, b.m_data + b.m_size, b.m_capacity - b.m_size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error::fromErrno(ErrorCode::InvalidArgument, errno, "Cannot read the secret");
        }
        if (n == 0)
            break;
        b.m_size += size_t(n);
        if (b.m_size > maxSize)
            throw Error(ErrorCode::InvalidArgument,
                        "The secret is too long (at most " + std::to_string(maxSize) + " bytes)");
    }
    return b;
}

} // namespace Coffer
