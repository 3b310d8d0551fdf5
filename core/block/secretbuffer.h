#pragma once

#include <cstddef>
#include <string_view>

namespace Coffer {

// A secret (passphrase or key file contents) in memory of its own: whole pages mapped for it
// alone, locked (never swapped out; mlock), left out of core dumps (MADV_DONTDUMP), zero in a
// forked child (MADV_WIPEONFORK), and wiped before they are unmapped. It grows on demand, each
// time into new pages with the old ones wiped, so a few bytes take one page, not the most a
// secret may have. Secrets never appear in error messages, logs, argv or the environment.
class SecretBuffer
{
public:
    SecretBuffer() = default;
    // `size` zero bytes.
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

    const char *data() const;
    char *data();
    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    // Bytes mapped: size() rounded up to whole pages, or what reserve() asked for.
    size_t capacity() const { return m_capacity; }
    // Whether mlock succeeded (it may not for a user beyond RLIMIT_MEMLOCK; root's is).
    bool locked() const { return m_locked; }

    // Room for at least `capacity` bytes: the contents move into new pages, the old ones are
    // wiped. Never shrinks.
    void reserve(size_t capacity);
    // Sets size(). Growing keeps the bytes between the old size and capacity() as they are (zero,
    // or what was read into data() + size() after a reserve), reserving more if needed; shrinking
    // wipes the bytes dropped.
    void resize(size_t size);
    // Shrinks the visible size (e.g. drop one trailing newline); the dropped bytes are wiped.
    void truncate(size_t size);
    // Wipes and releases the memory (also done by the destructor).
    void wipe();

private:
    char *m_data = nullptr;
    size_t m_size = 0;
    size_t m_capacity = 0;
    bool m_locked = false;
};

} // namespace Coffer
