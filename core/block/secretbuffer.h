#pragma once

#include <cstddef>
#include <string_view>

namespace Coffer {

// A secret (passphrase or key file contents) in memory that is locked (never swapped out) and
// wiped on destruction. Backed by libcryptsetup's crypt_safe_alloc (mlock + wipe on free).
// Secrets never appear in error messages, logs, argv or the environment.
class SecretBuffer
{
public:
    SecretBuffer() = default;
    explicit SecretBuffer(size_t size);
    SecretBuffer(SecretBuffer &&other) noexcept;
    SecretBuffer &operator=(SecretBuffer &&other) noexcept;
    SecretBuffer(const SecretBuffer &) = delete;
    SecretBuffer &operator=(const SecretBuffer &) = delete;
    ~SecretBuffer();

    // Copies (for tests and the CLI). Prefer readFromFd, which never keeps a second copy.
    static SecretBuffer fromString(std::string_view text);
    // Reads a secret from fd until EOF (a pipe the client wrote and closed, or a key file),
    // at most maxSize bytes (more is an InvalidArgument error). Does not close fd.
    static SecretBuffer readFromFd(int fd, size_t maxSize = 8 * 1024 * 1024);

    const char *data() const { return m_data; }
    char *data() { return m_data; }
    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    // Shrinks the visible size (e.g. drop one trailing newline); the memory stays locked.
    void truncate(size_t size);
    void wipe();

private:
    char *m_data = nullptr;
    size_t m_size = 0;
    size_t m_capacity = 0;
};

} // namespace Coffer
