#include "workerpool.h"

#include <algorithm>

namespace Coffer::Helper {

WorkerPool::WorkerPool(QObject *context, int threads, int perUser)
    : m_context(context)
    , m_perUser(perUser)
{
    for (int i = 0; i < threads; ++i)
        m_threads.emplace_back([this] { serve(); });
}

WorkerPool::~WorkerPool()
{
    stop();
}

void WorkerPool::run(uid_t user, std::function<void()> work, Done done)
{
    {
        const std::lock_guard lock(m_mutex);
        if (m_stopping)
            return;
        m_queue.push_back({user, std::move(work), std::move(done)});
    }
    m_wake.notify_all();
}

void WorkerPool::stop()
{
    std::deque<Task> dropped;
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
        dropped.swap(m_queue);
    }
    m_wake.notify_all();
    dropped.clear();
    for (std::thread &thread : m_threads) {
        if (thread.joinable())
            thread.join();
    }
}

void WorkerPool::serve()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        // The oldest task of a user below their share.
        const auto running = [&](uid_t user) {
            const auto it = m_running.find(user);
            return it == m_running.end() ? 0 : it->second;
        };
        auto next = m_queue.end();
        m_wake.wait(lock, [&] {
            if (m_stopping)
                return true;
            next = std::find_if(m_queue.begin(), m_queue.end(),
                                [&](const Task &t) { return running(t.user) < m_perUser; });
            return next != m_queue.end();
        });
        if (m_stopping)
            return;
        Task task = std::move(*next);
        m_queue.erase(next);
        ++m_running[task.user];
        lock.unlock();

        std::optional<Error> error;
        try {
            task.work();
        } catch (const Error &e) {
            error = e;
        } catch (const std::exception &e) {
            error = Error(ErrorCode::Failed, e.what());
        }
        task.work = nullptr;
        // The context's thread runs done() and destroys it (it may hold the context's objects).
        QMetaObject::invokeMethod(
            m_context.data(), [done = std::move(task.done), error]() { done(error); }, Qt::QueuedConnection);

        lock.lock();
        if (--m_running[task.user] == 0)
            m_running.erase(task.user);
        // A slot of this user's share is free: a waiting task of theirs may start.
        m_wake.notify_all();
    }
}

} // namespace Coffer::Helper
