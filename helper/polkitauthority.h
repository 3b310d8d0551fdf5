#pragma once

#include <QDBusConnection>
#include <QObject>
#include <QString>

#include <functional>

namespace Coffer::Helper {

// Asks polkit whether the bus name `sender` may perform `actionId` (design.md 4.2): subject kind
// "system-bus-name" (a pid subject would race with pid reuse), AllowUserInteraction so an agent
// can ask for a password. The answer arrives asynchronously; the helper keeps serving others
// meanwhile. Any error (polkit not running, the caller gone, a timeout, a malformed reply)
// is a denial.
class Authority
{
public:
    virtual ~Authority() = default;
    // done(allowed, why) is called exactly once, on the thread of the event loop.
    using Done = std::function<void(bool allowed, const QString &why)>;
    virtual void check(const QString &actionId, const QString &sender, Done done) = 0;
};

class PolkitAuthority : public QObject, public Authority
{
    Q_OBJECT
public:
    explicit PolkitAuthority(const QDBusConnection &bus, QObject *parent = nullptr);
    void check(const QString &actionId, const QString &sender, Done done) override;

    // How long an authentication dialog may stay open before the answer counts as "no".
    static constexpr int timeoutMs = 5 * 60 * 1000;

private:
    QDBusConnection m_bus;
};

// The subject of CheckAuthorization: (sa{sv}).
struct PolkitSubject
{
    QString kind;
    QVariantMap details;
};

void registerPolkitTypes();

} // namespace Coffer::Helper

Q_DECLARE_METATYPE(Coffer::Helper::PolkitSubject)
