#include "sync/earlywriteback.h"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

namespace Coffer::Sync {

EarlyWriteback::EarlyWriteback(int destDirFd)
    : m_fd(::openat(destDirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
{
    // Without an fd or a thread of its own (a user at their process limit) it does nothing:
    // the final syncfs alone is still correct.
    if (!m_fd)
        return;
    try {
        m_thread = std::thread([this] { loop(); });
    } catch (const std::system_error &) {
    }
}

EarlyWriteback::~EarlyWriteback()
{
    if (!m_thread.joinable())
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

void EarlyWriteback::wrote(uint64_t bytes)
{
    m_bytes += bytes;
    ++m_files;
    if ((m_bytes < KickBytes && m_files < KickFiles) || !m_thread.joinable())
        return;
    {
        std::lock_guard lock(m_mutex);
        if (m_busy)
            return; // one at a time: what piles up meanwhile goes with the next
        m_requested = m_busy = true;
    }
    m_bytes = m_files = 0;
    m_wake.notify_one();
}

void EarlyWriteback::loop()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_requested || m_stopping; });
        if (m_stopping)
            return;
        m_requested = false;
        lock.unlock();
        ::syncfs(m_fd.get());
        lock.lock();
        m_busy = false;
    }
}

} // namespace Coffer::Sync
