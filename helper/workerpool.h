#pragma once

#include "error.h"

#include <QObject>
#include <QPointer>

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace Coffer::Helper {

// The helper's slow work (reading a caller's secret pipe, key derivation, mkfs, fsck, unmount)
// runs here, never on the event loop: a fixed number of threads, of which one user's work may
// hold only a share, so that one user's stuck or slow calls never keep another user waiting.
// Joined on destruction.
class WorkerPool
{
public:
    using Done = std::function<void(std::optional<Error>)>;

    // done() callbacks run on `context`'s thread (its event loop).
    WorkerPool(QObject *context, int threads, int perUser);
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    // Queues work() for `user`; done(error) follows on the context's thread, with the Error
    // work() threw (anything else becomes Failed). `done` is also destroyed there.
    void run(uid_t user, std::function<void()> work, Done done);

    // Refuses new work, drops what is queued (its done() never runs) and waits for what runs.
    void stop();

private:
    struct Task
    {
        uid_t user;
        std::function<void()> work;
        Done done;
    };
    void serve();

    QPointer<QObject> m_context;
    const int m_perUser;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Task> m_queue;
    std::map<uid_t, int> m_running;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

} // namespace Coffer::Helper
