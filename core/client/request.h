#pragma once

#include "error.h"
#include "media/medium.h"

#include <QDBusPendingCall>
#include <QObject>

#include <functional>
#include <optional>
#include <vector>

class QDBusMessage;

namespace Coffer::Client {

class HelperClient;
class JobHandle;
class VaultHandle;

// One request to the helper (or to the user's own vault file) in flight: unlock, lock, a key
// change, a header backup... Connect to finished(); the request emits it once, always from the
// event loop (never inside the call that made it, so connecting right after the call is safe),
// and then deletes itself. Deleting it earlier abandons the answer, not the work.
class Request : public QObject
{
    Q_OBJECT

public:
    bool isFinished() const { return m_finished; }
    // Set when it failed: the kind (what to do about it) and a sentence for people.
    const std::optional<Error> &error() const { return m_error; }

Q_SIGNALS:
    void finished(const std::optional<Coffer::Error> &error);

protected:
    explicit Request(QObject *parent);

private:
    friend class HelperClient;
    friend class JobHandle;
    friend class VaultHandle;

    void succeed();
    void fail(const Error &error);
    // Runs step() now; an Error it throws fails the request (from the event loop).
    void start(const std::function<void()> &step);
    // Calls onReply(reply) when `call` is answered. An error reply fails the request with the
    // error it names; so does an Error thrown by onReply.
    void whenAnswered(const QDBusPendingCall &call, std::function<void(const QDBusMessage &reply)> onReply);
    // Runs work() on a worker thread (libcryptsetup's key derivation takes seconds), then
    // then() back on this object's thread; an Error thrown by either fails the request.
    void runInThread(std::function<void()> work, std::function<void()> then);
    void complete(const std::optional<Error> &error);

    bool m_finished = false;
    std::optional<Error> m_error;
};

// A request whose answer is a vault: HelperClient::vault(file).
class VaultRequest : public Request
{
    Q_OBJECT

public:
    // The vault, once finished without an error. Owned by the HelperClient.
    VaultHandle *vault() const { return m_vault; }

private:
    friend class HelperClient;
    explicit VaultRequest(QObject *parent) : Request(parent) {}

    VaultHandle *m_vault = nullptr;
};

} // namespace Coffer::Client

namespace Coffer::Client {

// A request whose answer is the drives the helper sees: HelperClient::listMedia().
class MediaRequest : public Request
{
    Q_OBJECT

public:
    // Once finished without an error.
    const std::vector<Media::Medium> &media() const { return m_media; }

private:
    friend class HelperClient;
    explicit MediaRequest(QObject *parent) : Request(parent) {}

    std::vector<Media::Medium> m_media;
};

} // namespace Coffer::Client
