#include "desktop/passphrasestore.h"

#include "block/vault.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QTimer>

#include <cstring>

namespace Coffer {

namespace {

// Zeroes the bytes `data` shares with qtkeychain's job (its only copy of the secret): nothing
// reads them after us, and a plain data() would detach and wipe a copy instead.
void wipeShared(const QByteArray &data)
{
    if (!data.isEmpty())
        std::memset(const_cast<char *>(data.constData()), 0, size_t(data.size()));
}

} // namespace

PassphraseStore::PassphraseStore(QObject *parent, const QString &service)
    : QObject(parent)
    , m_service(service)
{
}

bool PassphraseStore::keyringRunning()
{
    QDBusConnectionInterface *bus = QDBusConnection::sessionBus().interface();
    if (!bus)
        return false;
    // The names qtkeychain's backends talk to.
    static const QStringList keyrings = {QStringLiteral("org.freedesktop.secrets"), QStringLiteral("org.kde.kwalletd5"),
                                         QStringLiteral("org.kde.kwalletd6")};
    const QDBusReply<QStringList> activatable = bus->activatableServiceNames();
    for (const QString &name : keyrings) {
        if (bus->isServiceRegistered(name).value() || (activatable.isValid() && activatable.value().contains(name)))
            return true;
    }
    return false;
}

Error PassphraseStore::errorFor(QKeychain::Error code, const QString &detail, std::string_view what)
{
    std::string message(what);
    const std::string why = detail.toStdString();
    // qtkeychain's libsecret backend reports a missing Secret Service as OtherError with
    // GDBus's "The name org.freedesktop.secrets was not provided by any .service files", and a
    // keyring that has just gone away the same way with its unique name (":1.5") while libsecret
    // has not yet heard that it left.
    if (code == QKeychain::OtherError
        && (detail.contains(QLatin1String("org.freedesktop.secrets"))
            || detail.contains(QLatin1String("was not provided by any .service files"))))
        code = QKeychain::NoBackendAvailable;
    switch (code) {
    case QKeychain::EntryNotFound:
        return Error(ErrorCode::NotFound, message + ": no passphrase is remembered for this vault");
    case QKeychain::AccessDeniedByUser:
        return Error(ErrorCode::Cancelled, message + ": the keyring was not unlocked");
    case QKeychain::AccessDenied:
        return Error(ErrorCode::NotAuthorized, message + ": the keyring refused access (" + why + ")");
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        return Error(ErrorCode::NotSupported,
                     message + ": no keyring is running (start GNOME Keyring, KWallet or another "
                               "Secret Service, or type the passphrase each time)");
    default:
        return Error(ErrorCode::Failed, message + ": " + (why.empty() ? "the keyring failed" : why));
    }
}

QString PassphraseStore::keyFor(const QString &luksUuid, const std::function<void(const Error &)> &fail)
{
    if (Vault::isCanonicalLuksUuid(luksUuid.toStdString()))
        return luksUuid.toLower();
    QTimer::singleShot(0, this, [fail] {
        fail(Error(ErrorCode::InvalidArgument, "The keyring entry needs the vault's LUKS UUID"));
    });
    return QString();
}

void PassphraseStore::load(const QString &luksUuid, LoadCallback done)
{
    const QString key = keyFor(luksUuid, [done](const Error &e) { done(SecretBuffer(), &e); });
    if (key.isEmpty())
        return;
    auto *job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [job, done] {
        if (job->error() != QKeychain::NoError) {
            const Error e = errorFor(job->error(), job->errorString(), "Cannot read the remembered passphrase");
            done(SecretBuffer(), &e);
            return;
        }
        const QByteArray data = job->binaryData();
        SecretBuffer secret = SecretBuffer::fromString(std::string_view(data.constData(), size_t(data.size())));
        wipeShared(data);
        done(std::move(secret), nullptr);
    });
    job->start();
}

void PassphraseStore::store(const QString &luksUuid, const SecretBuffer &secret, DoneCallback done)
{
    const QString key = keyFor(luksUuid, [done](const Error &e) { done(&e); });
    if (key.isEmpty())
        return;
    auto *job = new QKeychain::WritePasswordJob(m_service, this);
    job->setKey(key);
    const QByteArray data(secret.data(), qsizetype(secret.size()));
    job->setBinaryData(data);
    connect(job, &QKeychain::Job::finished, this, [job, data, done] {
        wipeShared(data);
        if (job->error() != QKeychain::NoError) {
            const Error e = errorFor(job->error(), job->errorString(), "Cannot remember the passphrase");
            done(&e);
            return;
        }
        done(nullptr);
    });
    job->start();
}

void PassphraseStore::forget(const QString &luksUuid, DoneCallback done)
{
    const QString key = keyFor(luksUuid, [done](const Error &e) { done(&e); });
    if (key.isEmpty())
        return;
    auto *job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [job, done] {
        if (job->error() != QKeychain::NoError && job->error() != QKeychain::EntryNotFound) {
            const Error e = errorFor(job->error(), job->errorString(), "Cannot forget the passphrase");
            done(&e);
            return;
        }
        done(nullptr);
    });
    job->start();
}

} // namespace Coffer
