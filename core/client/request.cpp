#include "client/request.h"

#include "client/calls.h"

#include <QCoreApplication>
#include <QPointer>
#include <QThreadPool>

namespace Coffer::Client {

namespace {

// Runs f, turning whatever it throws into an Error.
std::optional<Error> attempt(const std::function<void()> &f)
{
    try {
        f();
    } catch (const Error &e) {
        return e;
    } catch (const std::exception &e) {
        return Error(ErrorCode::Failed, e.what());
    }
    return std::nullopt;
}

} // namespace

Request::Request(QObject *parent)
    : QObject(parent)
{
}

void Request::succeed()
{
    complete(std::nullopt);
}

void Request::fail(const Error &error)
{
    complete(error);
}

void Request::complete(const std::optional<Error> &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_error = error;
    // Queued: a request never finishes inside the call that made it.
    QMetaObject::invokeMethod(
        this,
        [this] {
            emit finished(m_error);
            deleteLater();
        },
        Qt::QueuedConnection);
}

void Request::start(const std::function<void()> &step)
{
    if (const auto error = attempt(step))
        fail(*error);
}

void Request::whenAnswered(const QDBusPendingCall &call, std::function<void(const QDBusMessage &)> onReply)
{
    Client::whenAnswered(this, call, [this, onReply = std::move(onReply)](const std::optional<Error> &error,
                                                                          const QDBusMessage &reply) {
        if (error)
            fail(*error);
        else
            start([&] { onReply(reply); });
    });
}

void Request::runInThread(std::function<void()> work, std::function<void()> then)
{
    // The request may be deleted while the worker runs: the answer goes through the application
    // object (which outlives both) and is dropped if the request is gone.
    QPointer<Request> self(this);
    QThreadPool::globalInstance()->start([self, work = std::move(work), then = std::move(then)] {
        const std::optional<Error> error = attempt(work);
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, error, then] {
                if (!self)
                    return;
                if (error)
                    self->fail(*error);
                else
                    self->start(then);
            },
            Qt::QueuedConnection);
    });
}

} // namespace Coffer::Client
