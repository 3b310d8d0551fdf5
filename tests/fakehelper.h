#pragma once

// A fake org.coffer.Helper1 for L0 tests of core/client and of the widgets built on it: the
// Manager, Vault and Job objects as the real helper exports them (tests/unit/test_client checks
// that they match the XML), on a private dbus-daemon, in the test's own process and thread: a
// client that blocked on a call would never be answered. Knobs for the tests: an error for the
// next call of a method, the order of the calls, what each call received, and hooks to act when
// a job is made. The real helper runs in the VM.

#include "client/helperclient.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "dbus/options.h"
#include "testerror.h"

#include <QDBusConnection>
#include <QDBusContext>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusUnixFileDescriptor>
#include <QMap>
#include <QProcess>
#include <QTimer>
#include <QtTest>

#include <functional>
#include <map>
#include <optional>
#include <unistd.h>

namespace Coffer::Test {

using Helper1::JobOutcome;

inline constexpr int waitMs = 20000;

// A dbus-daemon of the test's own (a session bus configuration), for the fake helper and the
// clients under test.
class PrivateBus
{
public:
    PrivateBus() = default;
    ~PrivateBus();
    PrivateBus(const PrivateBus &) = delete;
    PrivateBus &operator=(const PrivateBus &) = delete;

    // Starts it; false when dbus-daemon is not installed (the test skips).
    bool start();
    const QString &address() const { return m_address; }
    // A new connection to it, under a name of its own.
    QDBusConnection connect();

private:
    QProcess m_daemon;
    QString m_address;
    int m_connections = 0;
};

// What a fake method read from a descriptor: the bytes, and whether the writer had closed it
// before the call (EOF at once, without waiting).
struct Received
{
    QByteArray bytes;
    bool closed = false;
};

// Reads what the client wrote into a descriptor, without blocking.
Received drain(const QDBusUnixFileDescriptor &fd);

class FakeHelper;

class FakeJob : public QObject, protected QDBusContext
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.coffer.Helper1.Job")
    Q_PROPERTY(QString Operation MEMBER operation)
    Q_PROPERTY(double Progress MEMBER progress)
    Q_PROPERTY(qulonglong BytesTotal MEMBER bytesTotal)
    Q_PROPERTY(qulonglong BytesDone MEMBER bytesDone)
    Q_PROPERTY(qulonglong FilesTotal MEMBER filesTotal)
    Q_PROPERTY(qulonglong FilesDone MEMBER filesDone)
    Q_PROPERTY(QString CurrentItem MEMBER currentItem)
    Q_PROPERTY(QString Phase MEMBER phase)
    Q_PROPERTY(uint StartedByUid MEMBER startedByUid)
    Q_PROPERTY(bool Cancelable MEMBER cancelable)
    Q_PROPERTY(bool Finished MEMBER finished)
    Q_PROPERTY(bool Success MEMBER success)
    Q_PROPERTY(QString ErrorName MEMBER errorName)
    Q_PROPERTY(QString ErrorMessage MEMBER errorMessage)
    Q_PROPERTY(QString Outcome MEMBER outcome)
    Q_PROPERTY(QVariantMap Result MEMBER result)

public:
    FakeJob(QDBusConnection bus, QString path, QString operation)
        : path(std::move(path))
        , operation(std::move(operation))
        , m_bus(bus)
    {
    }

    void setProgress(double fraction, qulonglong done, qulonglong total, const QString &item)
    {
        progress = fraction;
        filesDone = done;
        filesTotal = total;
        currentItem = item;
        changed({{QStringLiteral("Progress"), progress},
                 {QStringLiteral("FilesDone"), filesDone},
                 {QStringLiteral("FilesTotal"), filesTotal},
                 {QStringLiteral("CurrentItem"), currentItem}});
    }

    // A sync's phase ("scan", "copy", ...) with its counts, as the helper reports it.
    void setPhase(const QString &name, qulonglong done, qulonglong total, qulonglong bytes, qulonglong ofBytes,
                  const QString &item = {})
    {
        phase = name;
        filesDone = done;
        filesTotal = total;
        bytesDone = bytes;
        bytesTotal = ofBytes;
        currentItem = item;
        changed({{QStringLiteral("Phase"), phase},
                 {QStringLiteral("FilesDone"), filesDone},
                 {QStringLiteral("FilesTotal"), filesTotal},
                 {QStringLiteral("BytesDone"), bytesDone},
                 {QStringLiteral("BytesTotal"), bytesTotal},
                 {QStringLiteral("CurrentItem"), currentItem}});
    }

    // Like the helper: the properties first (PropertiesChanged), then Completed.
    void finish(JobOutcome end, const QString &error = {}, const QString &message = {}, const QVariantMap &report = {})
    {
        finished = true;
        success = end == JobOutcome::Ok || end == JobOutcome::Partial;
        errorName = error;
        errorMessage = message;
        outcome = Helper1::jobOutcomeName(end);
        result = report;
        changed({{QStringLiteral("Finished"), finished},
                 {QStringLiteral("Success"), success},
                 {QStringLiteral("ErrorName"), errorName},
                 {QStringLiteral("ErrorMessage"), errorMessage},
                 {QStringLiteral("Outcome"), outcome},
                 {QStringLiteral("Result"), result}});
        emit Completed(success, errorName, errorMessage);
    }

    QString path;
    QString operation;
    double progress = 0;
    qulonglong bytesTotal = 0, bytesDone = 0, filesTotal = 0, filesDone = 0;
    QString currentItem;
    QString phase;
    uint startedByUid = ::getuid();
    bool cancelable = true;
    bool finished = false, success = false;
    QString errorName, errorMessage, outcome;
    QVariantMap result;
    int cancelCalls = 0;

public Q_SLOTS:
    void Cancel()
    {
        ++cancelCalls;
        if (!cancelable) {
            sendErrorReply(DBusErrors::errorName(ErrorCode::NotSupported), QStringLiteral("This operation cannot be cancelled."));
            return;
        }
        // Cancel only asks; the job ends a moment later.
        QTimer::singleShot(0, this, [this] {
            finish(JobOutcome::Cancelled, DBusErrors::errorName(ErrorCode::Cancelled),
                   QStringLiteral("The sync was cancelled; the vault holds a consistent copy."));
        });
    }

Q_SIGNALS:
    void Completed(bool ok, const QString &error_name, const QString &message);

private:
    void changed(const QVariantMap &properties)
    {
        QDBusMessage signal = QDBusMessage::createSignal(path, QStringLiteral("org.freedesktop.DBus.Properties"),
                                                         QStringLiteral("PropertiesChanged"));
        signal << QString::fromLatin1(Helper1::JobInterface) << properties << QStringList();
        m_bus.send(signal);
    }

    QDBusConnection m_bus;
};

class FakeVault : public QObject, protected QDBusContext
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.coffer.Helper1.Vault")
    Q_PROPERTY(QString Id MEMBER id)
    Q_PROPERTY(QString Name MEMBER name)
    Q_PROPERTY(QString BackingFile MEMBER backingFile)
    Q_PROPERTY(qulonglong BackingDevice MEMBER backingDevice)
    Q_PROPERTY(qulonglong BackingInode MEMBER backingInode)
    Q_PROPERTY(QString MountPoint MEMBER mountPoint)
    Q_PROPERTY(QString LoopDevice MEMBER loopDevice)
    Q_PROPERTY(QString MapperDevice MEMBER mapperDevice)
    Q_PROPERTY(uint OwnerUid MEMBER ownerUid)
    Q_PROPERTY(qulonglong Size MEMBER size)
    Q_PROPERTY(qulonglong Used MEMBER used)

public:
    explicit FakeVault(FakeHelper *helper) : m_helper(helper) {}

    QString path, id, name, backingFile, mountPoint, loopDevice, mapperDevice;
    qulonglong backingDevice = 0, backingInode = 0, size = 64 << 20, used = 1 << 20;
    uint ownerUid = ::getuid();

    QStringList syncSources;
    QVariantMap syncOptions, lockOptions;
    std::function<void(FakeJob *)> onSync; // e.g. finish the job before answering
    QList<Received> secrets;
    qulonglong resizedTo = 0;

public Q_SLOTS:
    void Lock(const QVariantMap &options);
    QDBusObjectPath Sync(const QStringList &sources, const QVariantMap &options);
    void ChangePassphrase(const QDBusUnixFileDescriptor &old_secret, const QDBusUnixFileDescriptor &new_secret)
    {
        if (!refused(QStringLiteral("ChangePassphrase")))
            secrets << drain(old_secret) << drain(new_secret);
    }
    void AddKey(const QDBusUnixFileDescriptor &existing, const QDBusUnixFileDescriptor &new_secret)
    {
        if (!refused(QStringLiteral("AddKey")))
            secrets << drain(existing) << drain(new_secret);
    }
    void RemoveKey(const QDBusUnixFileDescriptor &key)
    {
        if (!refused(QStringLiteral("RemoveKey")))
            secrets << drain(key);
    }
    void BackupHeader(const QDBusUnixFileDescriptor &out)
    {
        if (!refused(QStringLiteral("BackupHeader")))
            (void)!::write(out.fileDescriptor(), "HEADER", 6);
    }
    void Resize(qulonglong newSize, const QDBusUnixFileDescriptor &passphrase);

private:
    bool refused(const QString &method);
    FakeHelper *m_helper;
};

class FakeManager : public QObject, protected QDBusContext
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.coffer.Helper1.Manager")

public:
    explicit FakeManager(FakeHelper *helper) : m_helper(helper) {}

    struct Backing
    {
        Client::FileIdentity identity;
        int accessMode = -1; // O_RDONLY, O_RDWR
    };
    Backing lastBacking;
    QVariantMap lastOptions;
    QList<Received> secrets;
    qulonglong createdSize = 0;
    QList<QVariantMap> media; // what ListMedia answers
    // Called with the new job while CreateVault is answered (write a header into the file,
    // finish the job at once, ...).
    std::function<void(FakeJob *job)> onCreate;

public Q_SLOTS:
    QDBusObjectPath CreateVault(const QDBusUnixFileDescriptor &backing, qulonglong size,
                                const QDBusUnixFileDescriptor &passphrase, const QVariantMap &options);
    QDBusObjectPath Unlock(const QDBusUnixFileDescriptor &backing, const QDBusUnixFileDescriptor &passphrase,
                           const QVariantMap &options, QString &mount_point);
    QList<QDBusObjectPath> ListVaults();
    void LockAll();
    QList<QVariantMap> ListMedia();

Q_SIGNALS:
    void LockFailed(const QDBusObjectPath &vault, const QString &reason, const QString &message);
    void MediaAdded(const QVariantMap &medium);
    void MediaRemoved(const QVariantMap &medium);
    void VaultAdded(const QDBusObjectPath &vault);
    void VaultRemoved(const QDBusObjectPath &vault, const QString &reason);

private:
    bool refused(const QString &method);
    // What CreateVault and Unlock were given.
    void receive(const QDBusUnixFileDescriptor &backing, const QDBusUnixFileDescriptor &passphrase,
                 const QVariantMap &options);
    FakeHelper *m_helper;
};

// The fake org.coffer.Helper1 on its own connection: objects as the real helper has them, and
// knobs for the tests (an error for the next call of a method, the order of the calls).
class FakeHelper : public QObject
{
    Q_OBJECT

public:
    explicit FakeHelper(const QString &address)
        : m_connectionName(QStringLiteral("fake-helper-%1").arg(++s_count))
        , bus(QDBusConnection::connectToBus(address, m_connectionName))
        , manager(new FakeManager(this))
    {
        manager->setParent(this);
        bus.registerObject(QString::fromLatin1(Helper1::ManagerPath), manager,
                           QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals);
        appear();
    }
    ~FakeHelper() override
    {
        QDBusConnection::disconnectFromBus(m_connectionName);
    }

    void appear() { QVERIFY(bus.registerService(QString::fromLatin1(Helper1::Service))); }
    void vanish() { QVERIFY(bus.unregisterService(QString::fromLatin1(Helper1::Service))); }

    FakeVault *addVault(const Client::FileIdentity &identity, const QString &name, uint ownerUid = ::getuid())
    {
        auto *vault = new FakeVault(this);
        vault->setParent(this);
        const int n = ++m_vaultCount;
        // The LUKS UUID is the file's (its header's), the n-th file opened; the object path is
        // new at each unlock, as the real helper's counter makes it.
        const std::pair file(identity.device, identity.inode);
        const int nthFile = m_fileNumbers.try_emplace(file, int(m_fileNumbers.size()) + 1).first->second;
        vault->path = QLatin1String(Helper1::VaultPathPrefix) + QStringLiteral("0000000%1_aaaa").arg(n);
        vault->id = QStringLiteral("0000000%1-aaaa-bbbb-cccc-dddddddddddd").arg(nthFile);
        vault->name = name;
        vault->backingFile = QStringLiteral("/home/someone/%1.coffer").arg(name);
        vault->backingDevice = identity.device;
        vault->backingInode = identity.inode;
        vault->mountPoint = QStringLiteral("/run/coffer/%1/%2").arg(ownerUid).arg(name);
        vault->loopDevice = QStringLiteral("/dev/loop%1").arg(n);
        vault->mapperDevice = QStringLiteral("/dev/mapper/coffer-%1").arg(vault->id);
        vault->ownerUid = ownerUid;
        bus.registerObject(vault->path, vault, QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllProperties);
        vaults.append(vault);
        emit manager->VaultAdded(QDBusObjectPath(vault->path));
        return vault;
    }

    void removeVault(FakeVault *vault, const QString &reason)
    {
        bus.unregisterObject(vault->path);
        vaults.removeOne(vault);
        emit manager->VaultRemoved(QDBusObjectPath(vault->path), reason);
        vault->deleteLater();
    }

    FakeJob *addJob(const QString &operation)
    {
        auto *job = new FakeJob(bus, QLatin1String(Helper1::JobPathPrefix) + QString::number(++m_jobCount), operation);
        job->setParent(this);
        bus.registerObject(job->path, job,
                           QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals
                               | QDBusConnection::ExportAllProperties);
        jobs.append(job);
        return job;
    }

    // The error name the next call of `method` answers with, if the test asked for one.
    std::optional<QString> takeError(const QString &method)
    {
        calls << method;
        if (!errors.contains(method))
            return std::nullopt;
        return errors.take(method);
    }

    const QString m_connectionName;
    QDBusConnection bus;
    FakeManager *manager;
    QList<FakeVault *> vaults;
    QList<FakeJob *> jobs;
    QMap<QString, QString> errors;
    QMap<QString, QString> errorMessages; // the message of such an error (a vault's methods), if not the default
    QStringList calls;
    QVariantMap lastLockOptions; // of the last vault locked (the vault itself is gone then)

private:
    static inline int s_count = 0;
    int m_vaultCount = 0;
    std::map<std::pair<uint64_t, uint64_t>, int> m_fileNumbers; // device, inode -> n-th file
    int m_jobCount = 0;
};

// Records what a Request comes to.
struct RequestEnd
{
    explicit RequestEnd(Client::Request *request)
    {
        QObject::connect(request, &Client::Request::finished, &context, [this](const std::optional<Error> &e) {
            done = true;
            error = e;
        });
    }
    bool wait(int ms = waitMs) { return QTest::qWaitFor([this] { return done; }, ms); }
    ErrorCode code() const { return error ? error->code() : NoError; }

    QObject context;
    bool done = false;
    std::optional<Error> error;
};

// Records what a JobHandle says, signal by signal.
struct JobEnd
{
    explicit JobEnd(Client::JobHandle *job)
    {
        QObject::connect(job, &Client::JobHandle::started, &context, [this] { started = true; });
        QObject::connect(job, &Client::JobHandle::progressChanged, &context,
                         [this](const Client::JobProgress &p) { progress << p; });
        QObject::connect(job, &Client::JobHandle::cancelFailed, &context,
                         [this](const Error &e) { cancelErrors << e.code(); });
        QObject::connect(job, &Client::JobHandle::finished, &context,
                         [this](JobOutcome o, const std::optional<Error> &e, const Client::JobResult &r) {
            ++finishedCount;
            outcome = o;
            error = e;
            result = r;
        });
    }
    bool waitStarted() { return QTest::qWaitFor([this] { return started || finishedCount; }, waitMs); }
    bool wait() { return QTest::qWaitFor([this] { return finishedCount > 0; }, waitMs); }
    ErrorCode code() const { return error ? error->code() : NoError; }

    QObject context;
    bool started = false;
    int finishedCount = 0;
    QList<Client::JobProgress> progress;
    QList<ErrorCode> cancelErrors;
    JobOutcome outcome = JobOutcome::Running;
    std::optional<Error> error;
    Client::JobResult result;
};

// The client's handle of the vault in `file` (HelperClient::vault), or null when it failed.
Client::VaultHandle *lookUpVault(Client::HelperClient *client, const std::string &file);

} // namespace Coffer::Test
