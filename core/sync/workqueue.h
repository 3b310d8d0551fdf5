#pragma once

// Items worked on by helper threads while their owner goes on with other work. The owner takes
// finished items back with collect() or drain(), so that only the owner's thread touches the
// owner's state; it also works on items itself when the queue is full and while draining, so no
// CPU idles. The first exception stops the queue: the owner's own work rethrows it at once, a
// helper thread's comes back with the owner's next collect() or drain().

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace Coffer::Sync {

// The threads a run works with: one per CPU it may use, 1 to 4.
inline unsigned cpuThreads()
{
    cpu_set_t set;
    const int cpus = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return unsigned(std::clamp(cpus, 1, 4));
}

// Starts up to `count` threads running `body`; fewer if the system refuses more (a user at their
// process limit): the work then needs more time, not more threads.
template<typename Body>
void startHelpers(std::vector<std::thread> &threads, unsigned count, const Body &body)
{
    for (unsigned i = 0; i < count; ++i) {
        try {
            threads.emplace_back(body);
        } catch (const std::system_error &) {
            return;
        }
    }
}

template<typename T>
class WorkQueue
{
public:
    WorkQueue(unsigned threads, size_t capacity, std::function<void(T &)> work)
        : m_capacity(capacity ? capacity : 1)
        , m_work(std::move(work))
    {
        startHelpers(m_threads, threads, [this] { helperLoop(); });
    }

    // Items not yet started are dropped; items being worked on are waited for.
    ~WorkQueue()
    {
        {
            std::lock_guard<std::mutex> guard(m_lock);
            m_stop = true;
        }
        m_wake.notify_all();
        for (std::thread &t : m_threads)
            t.join();
    }

    WorkQueue(const WorkQueue &) = delete;
    WorkQueue &operator=(const WorkQueue &) = delete;

    // True once the queue is stopping (an error, or destruction): long work should give up.
    bool stopping() const { return m_stop.load(std::memory_order_relaxed); }

    // Queues an item; when the queue is full, the calling thread works on the oldest one first.
    // An exception from that work propagates to the caller. Once stopping, items are dropped
    // (the error that stopped the queue comes with the next collect() or drain()).
    void push(T item)
    {
        std::unique_lock<std::mutex> lock(m_lock);
        if (m_stop)
            return;
        if (m_queue.size() >= m_capacity) {
            T own = std::move(m_queue.front());
            m_queue.pop_front();
            m_queue.push_back(std::move(item));
            lock.unlock();
            m_wake.notify_one();
            ownWork(own);
            lock.lock();
            m_done.push_back(std::move(own));
            m_doneCount.store(m_done.size(), std::memory_order_relaxed);
            return;
        }
        m_queue.push_back(std::move(item));
        lock.unlock();
        m_wake.notify_one();
    }

    // The items finished since the last call (cheap when there are none).
    std::vector<T> collect()
    {
        if (m_doneCount.load(std::memory_order_relaxed) == 0 && !stopping())
            return {};
        std::lock_guard<std::mutex> guard(m_lock);
        return takeDone();
    }

    // Works on queued items until none is left, waits for the helpers' current ones, and
    // returns everything finished since the last collect().
    std::vector<T> drain()
    {
        std::unique_lock<std::mutex> lock(m_lock);
        while (!m_queue.empty() && !m_stop) {
            T own = std::move(m_queue.front());
            m_queue.pop_front();
            lock.unlock();
            ownWork(own);
            lock.lock();
            m_done.push_back(std::move(own));
        }
        m_idle.wait(lock, [this] { return m_busy == 0; });
        return takeDone();
    }

private:
    // The owner's share: an error stops the helpers too, and propagates to the owner.
    void ownWork(T &item)
    {
        try {
            m_work(item);
        } catch (...) {
            {
                std::lock_guard<std::mutex> guard(m_lock);
                m_stop = true;
            }
            m_wake.notify_all();
            throw;
        }
    }

    std::vector<T> takeDone()
    {
        if (m_error)
            std::rethrow_exception(m_error);
        std::vector<T> out = std::move(m_done);
        m_done.clear();
        m_doneCount.store(0, std::memory_order_relaxed);
        return out;
    }

    void helperLoop()
    {
        std::unique_lock<std::mutex> lock(m_lock);
        for (;;) {
            m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_stop)
                return;
            T item = std::move(m_queue.front());
            m_queue.pop_front();
            ++m_busy;
            lock.unlock();
            std::exception_ptr error;
            try {
                m_work(item);
            } catch (...) {
                error = std::current_exception();
            }
            lock.lock();
            if (error) {
                if (!m_error)
                    m_error = error;
                m_stop = true;
                m_wake.notify_all();
            } else {
                m_done.push_back(std::move(item));
                m_doneCount.store(m_done.size(), std::memory_order_relaxed);
            }
            if (--m_busy == 0)
                m_idle.notify_all();
        }
    }

    const size_t m_capacity;
    const std::function<void(T &)> m_work;
    std::mutex m_lock;
    std::condition_variable m_wake; // helpers: an item is queued, or stop
    std::condition_variable m_idle; // owner: no helper is working
    std::deque<T> m_queue;
    std::vector<T> m_done;
    std::atomic<size_t> m_doneCount{0};
    unsigned m_busy = 0;
    std::atomic<bool> m_stop{false};
    std::exception_ptr m_error;
    std::vector<std::thread> m_threads;
};

} // namespace Coffer::Sync
