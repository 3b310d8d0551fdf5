#include "fakehelper.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace Coffer::Test {

PrivateBus::~PrivateBus()
{
    if (m_daemon.state() != QProcess::NotRunning) {
        m_daemon.terminate();
        m_daemon.waitForFinished();
    }
}

bool PrivateBus::start()
{
    m_daemon.setProgram(QStringLiteral("dbus-daemon"));
    m_daemon.setArguments({QStringLiteral("--session"), QStringLiteral("--nofork"), QStringLiteral("--print-address=1")});
    m_daemon.start();
    if (!m_daemon.waitForStarted() || !m_daemon.waitForReadyRead(10000))
        return false;
    m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
    Helper1::registerOptionTypes();
    return !m_address.isEmpty();
}

QDBusConnection PrivateBus::connect()
{
    return QDBusConnection::connectToBus(m_address, QStringLiteral("test-client-%1").arg(++m_connections));
}

Received drain(const QDBusUnixFileDescriptor &fd)
{
    Received r;
    const int f = fd.fileDescriptor();
    fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK);
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(f, buf, sizeof buf);
        if (n > 0) {
            r.bytes.append(buf, n);
            continue;
        }
        r.closed = n == 0;
        return r;
    }
}

bool FakeVault::refused(const QString &method)
{
    if (const auto error = m_helper->takeError(method)) {
        sendErrorReply(*error, QStringLiteral("The fake helper refuses %1.").arg(method));
        return true;
    }
    return false;
}

void FakeVault::Lock(const QVariantMap &options)
{
    if (refused(QStringLiteral("Lock")))
        return;
    lockOptions = options;
    m_helper->removeVault(this, QStringLiteral("locked"));
}

QDBusObjectPath FakeVault::Sync(const QStringList &sources, const QVariantMap &options)
{
    if (refused(QStringLiteral("Sync")))
        return {};
    syncSources = sources;
    syncOptions = options;
    FakeJob *job = m_helper->addJob(QStringLiteral("sync"));
    if (onSync)
        onSync(job);
    return QDBusObjectPath(job->path);
}

void FakeVault::Resize(qulonglong newSize, const QDBusUnixFileDescriptor &passphrase)
{
    if (refused(QStringLiteral("Resize")))
        return;
    secrets << drain(passphrase);
    resizedTo = newSize;
}

void FakeManager::receive(const QDBusUnixFileDescriptor &backing, const QDBusUnixFileDescriptor &passphrase,
                          const QVariantMap &options)
{
    struct stat st {};
    fstat(backing.fileDescriptor(), &st);
    lastBacking = {{st.st_dev, st.st_ino}, fcntl(backing.fileDescriptor(), F_GETFL) & O_ACCMODE};
    secrets << drain(passphrase);
    lastOptions = options;
}

bool FakeManager::refused(const QString &method)
{
    if (const auto error = m_helper->takeError(method)) {
        sendErrorReply(*error, QStringLiteral("The fake helper refuses %1.").arg(method));
        return true;
    }
    return false;
}

QDBusObjectPath FakeManager::CreateVault(const QDBusUnixFileDescriptor &backing, qulonglong size,
                                         const QDBusUnixFileDescriptor &passphrase, const QVariantMap &options)
{
    if (refused(QStringLiteral("CreateVault")))
        return {};
    receive(backing, passphrase, options);
    createdSize = size;
    FakeJob *job = m_helper->addJob(QStringLiteral("create"));
    if (onCreate)
        onCreate(job);
    return QDBusObjectPath(job->path);
}

QDBusObjectPath FakeManager::Unlock(const QDBusUnixFileDescriptor &backing, const QDBusUnixFileDescriptor &passphrase,
                                    const QVariantMap &options, QString &mount_point)
{
    if (refused(QStringLiteral("Unlock")))
        return {};
    receive(backing, passphrase, options);
    FakeVault *vault = m_helper->addVault(lastBacking.identity, QStringLiteral("keys"));
    mount_point = vault->mountPoint;
    return QDBusObjectPath(vault->path);
}

QList<QDBusObjectPath> FakeManager::ListVaults()
{
    QList<QDBusObjectPath> paths;
    if (refused(QStringLiteral("ListVaults")))
        return paths;
    for (const FakeVault *vault : m_helper->vaults) {
        if (vault->ownerUid == ::getuid())
            paths << QDBusObjectPath(vault->path);
    }
    return paths;
}

QList<QVariantMap> FakeManager::ListMedia()
{
    if (refused(QStringLiteral("ListMedia")))
        return {};
    return media;
}

void FakeManager::LockAll()
{
    if (refused(QStringLiteral("LockAll")))
        return;
    for (FakeVault *vault : QList<FakeVault *>(m_helper->vaults))
        m_helper->removeVault(vault, QStringLiteral("locked"));
}

Client::VaultHandle *lookUpVault(Client::HelperClient *client, const std::string &file)
{
    Client::VaultRequest *request = client->vault(file);
    Client::VaultHandle *vault = nullptr;
    QObject context;
    QObject::connect(request, &Client::Request::finished, &context, [&] { vault = request->vault(); });
    RequestEnd end(request);
    if (!end.wait() || end.error)
        return nullptr;
    return vault;
}

} // namespace Coffer::Test
