// The helper's Manager on a private, real dbus-daemon (with the real bus policy of
// packaging/dbus), called by clients of several users through the generated proxies and raw
// messages. polkit is a fake (the Authority interface); the real polkitd, dm-crypt and mounts
// are the VM scenarios' (helper-flow, helper-attacks). This host has no device-mapper, so every
// unlock and create here ends at the kernel's step with NotSupported: what comes before it
// (identity, polkit, validation, limits, busy files, secrets off the event loop, hostile
// headers, state records, privacy of properties, introspection and signals) runs for real.
#include "block/vaultname.h"
#include "dbus/helper1.h"
#include "dbus/helper1interface.h"
#include "dbus/options.h"
#include "manager.h"
#include "polkitauthority.h"
#include "runtimestate.h"
#include "settings.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusPendingCall>
#include <QDBusPendingReply>
#include <QDBusReply>
#include <QDBusUnixFileDescriptor>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <fcntl.h>
#include <pwd.h>
#include <csignal>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Helper;

namespace {

// Four users the test's clients are. dbus-daemon lets only users with an entry in the user
// database connect, so these are accounts every Debian system has (base-passwd), found in
// initTestCase.
uid_t Alice, Bob, Mallory, Admin;
constexpr uid_t Root = 0;
const QString Service = QString::fromLatin1(Helper1::Service);
const QString ManagerPath = QString::fromLatin1(Helper1::ManagerPath);

// polkit as the test wants it: Mallory may do nothing, Admin everything, everyone else all but
// manage-other-users. Answers later, on the event loop (like polkitd), or when released.
class FakeAuthority : public QObject, public Authority
{
public:
    QHash<QString, uid_t> uidOfName;
    bool hold = false;
    std::vector<std::function<void()>> held;
    QStringList asked; // "uid action"

    void check(const QString &actionId, const QString &sender, Done done) override
    {
        const uid_t uid = uidOfName.value(sender, uid_t(-1));
        asked << QStringLiteral("%1 %2").arg(uid).arg(actionId);
        const bool allowed = uid == Admin
                             || (uid != Mallory && uid != uid_t(-1) && actionId != QLatin1String("org.coffer.helper.manage-other-users"));
        auto answer = [done, allowed] { done(allowed, allowed ? QString() : QStringLiteral("not allowed by the test")); };
        if (hold)
            held.push_back(answer);
        else
            QTimer::singleShot(0, this, answer);
    }
    void release()
    {
        hold = false;
        for (auto &answer : std::exchange(held, {}))
            answer();
    }
};

struct Pipe
{
    int read = -1, write = -1;
    Pipe()
    {
        int p[2];
        if (pipe2(p, O_CLOEXEC) == 0) {
            read = p[0];
            write = p[1];
        }
    }
    ~Pipe()
    {
        closeWrite();
        if (read >= 0)
            ::close(read);
    }
    void closeWrite()
    {
        if (write >= 0)
            ::close(write);
        write = -1;
    }
    // A secret written and the pipe closed, as a client does.
    static QDBusUnixFileDescriptor with(const QByteArray &secret)
    {
        Pipe p;
        (void)!::write(p.write, secret.constData(), size_t(secret.size()));
        p.closeWrite();
        return QDBusUnixFileDescriptor(p.read);
    }
};

QString errorName(const QDBusMessage &reply)
{
    return reply.type() == QDBusMessage::ErrorMessage ? reply.errorName() : QStringLiteral("(no error)");
}

QString helperError(const char *name)
{
    return QStringLiteral("org.coffer.Helper1.Error.") + QLatin1String(name);
}

} // namespace

// Every signal of one kind a connection receives from the helper, on any object path.
class SignalRecorder : public QObject
{
    Q_OBJECT
public:
    SignalRecorder(QDBusConnection connection, const QString &interface, const QString &member)
    {
        connection.connect(Service, QString(), interface, member, this, SLOT(record(QDBusMessage)));
    }
    QList<QDBusMessage> received;
public Q_SLOTS:
    void record(const QDBusMessage &message) { received << message; }
};

class TestHelperManager : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
    QThread m_helperThread;
    FakeAuthority *m_authority = nullptr;
    RuntimeState *m_state = nullptr;
    Manager *m_manager = nullptr;
    QMap<uid_t, QDBusConnection> m_clients;
    int m_files = 0;

    QDBusConnection client(uid_t uid) { return m_clients.value(uid, QDBusConnection(QString())); }

    // A connection whose peer credentials are `uid`'s: the bus takes them from the socket at
    // connect time, so the process is that uid while it connects (keeping root as its saved uid
    // to come back).
    QDBusConnection connectAs(uid_t uid, const QString &name)
    {
        if (setresuid(uid, uid, 0) != 0)
            qFatal("cannot become uid %u", uid);
        QDBusConnection connection = QDBusConnection::connectToBus(m_address, name);
        if (setresuid(0, 0, 0) != 0)
            qFatal("cannot become root again");
        m_authority->uidOfName.insert(connection.baseService(), uid);
        return connection;
    }

    // A new file of `owner`'s, `size` bytes (sparse).
    QString newFile(uid_t owner, qint64 size, const QString &dir = {})
    {
        const QString path = (dir.isEmpty() ? m_dir.path() : dir) + QStringLiteral("/file%1.img").arg(++m_files);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || !file.resize(size))
            qFatal("cannot make %s", qPrintable(path));
        file.close();
        if (chown(path.toLocal8Bit().constData(), owner, owner) != 0)
            qFatal("cannot chown %s", qPrintable(path));
        return path;
    }

    QDBusUnixFileDescriptor openFd(const QString &path, int flags = O_RDWR)
    {
        const int fd = ::open(path.toLocal8Bit().constData(), flags | O_CLOEXEC);
        QDBusUnixFileDescriptor out(fd);
        ::close(fd);
        return out;
    }

    // A LUKS header in a file of `owner`'s (the cryptsetup CLI; light key derivation).
    QString newLuksFile(uid_t owner, const char *type, const QString &dir = {})
    {
        const QString path = newFile(owner, 20 << 20, dir);
        QProcess format;
        format.start(QStringLiteral("/usr/sbin/cryptsetup"),
                     {QStringLiteral("luksFormat"), QStringLiteral("--type"), QLatin1String(type),
                      QStringLiteral("--pbkdf"), QStringLiteral("pbkdf2"), QStringLiteral("--pbkdf-force-iterations"), QStringLiteral("1000"), QStringLiteral("--batch-mode"),
                      QStringLiteral("--key-file=-"), path});
        format.write("test passphrase");
        format.closeWriteChannel();
        if (!format.waitForFinished(60000) || format.exitCode() != 0)
            qFatal("cryptsetup luksFormat failed: %s", format.readAllStandardError().constData());
        return path;
    }

    QDBusMessage unlockCall(const QDBusUnixFileDescriptor &backing, const QDBusUnixFileDescriptor &secret,
                            const QVariantMap &options = {})
    {
        QDBusMessage call = QDBusMessage::createMethodCall(Service, ManagerPath,
                                                           QString::fromLatin1(Helper1::ManagerInterface),
                                                           QStringLiteral("Unlock"));
        call << QVariant::fromValue(backing) << QVariant::fromValue(secret) << options;
        return call;
    }

    QDBusMessage introspect(uid_t uid, const QString &path)
    {
        return client(uid).call(QDBusMessage::createMethodCall(Service, path,
                                                               QStringLiteral("org.freedesktop.DBus.Introspectable"),
                                                               QStringLiteral("Introspect")));
    }

    QDBusMessage getAll(uid_t uid, const QString &path, const char *interface)
    {
        QDBusMessage call = QDBusMessage::createMethodCall(Service, path, QStringLiteral("org.freedesktop.DBus.Properties"),
                                                           QStringLiteral("GetAll"));
        call << QString::fromLatin1(interface);
        return client(uid).call(call);
    }

    std::vector<StateRecord> records()
    {
        return m_state->load();
    }

    // Runs f on the helper's thread and waits for it.
    void onHelper(const std::function<void()> &f)
    {
        QMetaObject::invokeMethod(m_authority, f, Qt::BlockingQueuedConnection);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("the helper works as root; its clients connect as other users");
        uid_t *users[] = {&Alice, &Bob, &Mallory, &Admin};
        const char *names[] = {"daemon", "bin", "sys", "nobody"};
        for (int i = 0; i < 4; ++i) {
            const struct passwd *pw = getpwnam(names[i]);
            QVERIFY2(pw, names[i]);
            *users[i] = pw->pw_uid;
        }
        const QString config = m_dir.filePath(QStringLiteral("bus.conf"));
        QFile conf(config);
        QVERIFY(conf.open(QIODevice::WriteOnly));
        // The system bus's default policy with the helper's own (the file's @HELPER_POLICY@).
        QFile model(QStringLiteral(COFFER_SOURCE_DIR "/tests/integration/test_helper_manager.bus.conf"));
        QVERIFY(model.open(QIODevice::ReadOnly));
        conf.write(model.readAll().replace("@HELPER_POLICY@", COFFER_SOURCE_DIR "/packaging/dbus/org.coffer.Helper1.conf"));
        conf.close();
        // The bus goes with the test, however the test ends.
        m_daemon.setChildProcessModifier([] { prctl(PR_SET_PDEATHSIG, SIGKILL); });
        m_daemon.start(QStringLiteral("/usr/bin/dbus-daemon"),
                       {QStringLiteral("--config-file=") + config, QStringLiteral("--nofork"), QStringLiteral("--nopidfile"),
                        QStringLiteral("--print-address=1")});
        QVERIFY(m_daemon.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(m_daemon.canReadLine(), 30000);
        m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
        QVERIFY(!m_address.isEmpty());

        m_authority = new FakeAuthority;
        for (uid_t uid : {Alice, Bob, Mallory, Admin, Root})
            m_clients.insert(uid, connectAs(uid, QStringLiteral("client%1").arg(uid)));
        for (const QDBusConnection &c : m_clients)
            QVERIFY2(c.isConnected(), qPrintable(c.lastError().message() + QString::fromUtf8(m_daemon.readAllStandardError())));

        QDBusConnection helperBus = QDBusConnection::connectToBus(m_address, QStringLiteral("helper"));
        QVERIFY(helperBus.isConnected());
        m_authority->moveToThread(&m_helperThread);
        m_helperThread.start();
        Settings settings;
        settings.runtimeDir = m_dir.filePath(QStringLiteral("run/coffer")).toStdString();
        m_state = new RuntimeState(settings.runtimeDir);
        bool registered = false;
        onHelper([&] {
            m_manager = new Manager(helperBus, m_authority, m_state, settings);
            m_manager->reconcile();
            registered = m_manager->registerOnBus() && helperBus.registerService(Service);
        });
        QVERIFY(registered);
    }

    void cleanupTestCase()
    {
        if (m_manager)
            onHelper([this] { delete m_manager; });
        m_helperThread.quit();
        m_helperThread.wait();
        delete m_authority;
        delete m_state;
        for (const QString &name : {QStringLiteral("helper")})
            QDBusConnection::disconnectFromBus(name);
        m_daemon.kill();
        m_daemon.waitForFinished();
    }

    void managerIsIntrospectable()
    {
        const QDBusMessage reply = introspect(Alice, ManagerPath);
        QCOMPARE(errorName(reply), QStringLiteral("(no error)"));
        const QString xml = reply.arguments().value(0).toString();
        QVERIFY(xml.contains(QLatin1String("<interface name=\"org.coffer.Helper1.Manager\">")));
        QVERIFY(xml.contains(QLatin1String("<method name=\"Unlock\">")));
        QVERIFY(xml.contains(QLatin1String("<signal name=\"VaultAdded\">")));
        QVERIFY(xml.contains(QLatin1String("<node name=\"vault\"/>")));
        QVERIFY(xml.contains(QLatin1String("<node name=\"job\"/>")));
        // The bus policy lets nobody send it anything else.
        QDBusMessage foreign = QDBusMessage::createMethodCall(Service, ManagerPath, QStringLiteral("org.example.Other"),
                                                              QStringLiteral("Poke"));
        QCOMPARE(errorName(client(Alice).call(foreign)), QStringLiteral("org.freedesktop.DBus.Error.AccessDenied"));
    }

    void deniedCallsChangeNothing()
    {
        const QString path = newFile(Mallory, 0);
        OrgCofferHelper1ManagerInterface manager(Service, ManagerPath, client(Mallory));
        QDBusPendingReply<QDBusObjectPath> job = manager.CreateVault(openFd(path), 64 << 20, Pipe::with("pw"), {});
        job.waitForFinished();
        QCOMPARE(job.error().name(), helperError("NotAuthorized"));
        QCOMPARE(QFileInfo(path).size(), 0);
        QDBusPendingReply<QList<QDBusObjectPath>> list = manager.ListVaults();
        list.waitForFinished();
        QCOMPARE(list.error().name(), helperError("NotAuthorized"));
        QVERIFY(records().empty());
    }

    // A creation's job through the generated proxies, as a client sees it: the job path, its
    // properties, Completed; its owner sees it, nobody else does (properties, Introspect,
    // signals), an administrator may read it.
    void createJobLifeCycleThroughTheProxies()
    {
        const QString path = newFile(Alice, 0);
        const QString properties = QStringLiteral("org.freedesktop.DBus.Properties");
        const QString jobInterface = QString::fromLatin1(Helper1::JobInterface);
        SignalRecorder aliceCompleted(client(Alice), jobInterface, QStringLiteral("Completed"));
        SignalRecorder aliceChanged(client(Alice), properties, QStringLiteral("PropertiesChanged"));
        SignalRecorder bobCompleted(client(Bob), jobInterface, QStringLiteral("Completed"));
        SignalRecorder bobChanged(client(Bob), properties, QStringLiteral("PropertiesChanged"));
        // Bob has talked to the helper too: it knows his connection, and must still tell him nothing.
        QCOMPARE(errorName(introspect(Bob, ManagerPath)), QStringLiteral("(no error)"));
        OrgCofferHelper1ManagerInterface manager(Service, ManagerPath, client(Alice));
        Helper1::CreateOptions options;
        options.label = QStringLiteral("keys");
        options.pbkdf.memoryKiB = 8192;
        options.pbkdf.iterations = 4;
        QDBusPendingReply<QDBusObjectPath> reply =
            manager.CreateVault(openFd(path), 64 << 20, Pipe::with("a passphrase"), Helper1::encode(options));
        reply.waitForFinished();
        QVERIFY2(!reply.isError(), qPrintable(reply.error().message()));
        const QString jobPath = reply.value().path();
        QVERIFY(jobPath.startsWith(QLatin1String(Helper1::JobPathPrefix)));

        OrgCofferHelper1JobInterface job(Service, jobPath, client(Alice));
        QCOMPARE(job.operation(), QStringLiteral("create"));
        QCOMPARE(job.startedByUid(), uint(Alice));
        QVERIFY(!job.cancelable());
        QTRY_COMPARE_WITH_TIMEOUT(aliceCompleted.received.size(), 1, 120000);
        const QDBusMessage completed = aliceCompleted.received.first();
        QCOMPARE(completed.path(), jobPath);
        QVERIFY(!completed.arguments().value(0).toBool());
        // No device-mapper here: the kernel's step fails, and the file is left as it was.
        QCOMPARE(completed.arguments().value(1).toString(), helperError("NotSupported"));
        QVERIFY(!aliceChanged.received.isEmpty());
        QCOMPARE(aliceChanged.received.last().arguments().value(0).toString(), jobInterface);
        QVERIFY(job.finished());
        QCOMPARE(job.outcome(), QStringLiteral("failed"));
        QCOMPARE(job.errorName(), helperError("NotSupported"));
        QVERIFY(!job.success());
        QCOMPARE(QFileInfo(path).size(), 0);
        QDBusPendingReply<> cancel = job.Cancel();
        cancel.waitForFinished();
        QCOMPARE(cancel.error().name(), helperError("NotFound"));

        // Bob: not his; he reads nothing, lists nothing, heard nothing.
        QCOMPARE(errorName(getAll(Bob, jobPath, Helper1::JobInterface)), helperError("NotAuthorized"));
        QDBusMessage get = QDBusMessage::createMethodCall(Service, jobPath, QStringLiteral("org.freedesktop.DBus.Properties"),
                                                          QStringLiteral("Get"));
        get << QString::fromLatin1(Helper1::JobInterface) << QStringLiteral("CurrentItem");
        QCOMPARE(errorName(client(Bob).call(get)), helperError("NotAuthorized"));
        const QString jobs = QString::fromLatin1(Helper1::JobPathPrefix).chopped(1);
        const QString number = jobPath.mid(jobs.size() + 1);
        QVERIFY(!introspect(Bob, jobs).arguments().value(0).toString().contains(QLatin1String("<node name=")));
        QVERIFY(!introspect(Bob, jobPath).arguments().value(0).toString().contains(QLatin1String("org.coffer.Helper1.Job")));
        QVERIFY(introspect(Alice, jobs).arguments().value(0).toString().contains(QStringLiteral("<node name=\"%1\"/>").arg(number)));
        QVERIFY(introspect(Alice, jobPath).arguments().value(0).toString().contains(QLatin1String("<interface name=\"org.coffer.Helper1.Job\">")));
        // Root lists every path (coffer-helper's prerm locks every vault before a removal).
        QVERIFY(introspect(Root, jobs).arguments().value(0).toString().contains(QStringLiteral("<node name=\"%1\"/>").arg(number)));
        // After a round trip of Bob's own, anything the helper had sent him would be here.
        QCOMPARE(errorName(introspect(Bob, ManagerPath)), QStringLiteral("(no error)"));
        QCoreApplication::processEvents();
        QVERIFY(bobCompleted.received.isEmpty());
        QVERIFY(bobChanged.received.isEmpty());

        // An administrator may read it (polkit's manage-other-users).
        const QDBusMessage admin = getAll(Admin, jobPath, Helper1::JobInterface);
        QCOMPARE(errorName(admin), QStringLiteral("(no error)"));
        QVariantMap props;
        admin.arguments().value(0).value<QDBusArgument>() >> props;
        QCOMPARE(props.value(QStringLiteral("Operation")).toString(), QStringLiteral("create"));
        QCOMPARE(props.value(QStringLiteral("Outcome")).toString(), QStringLiteral("failed"));
    }

    // Two calls on one file: the second is Busy; in-flight unlocks count against the per-user
    // limit; and while one user's calls wait on pipes never closed, another user is answered at
    // once (the secrets are read on workers, never on the event loop).
    void busyFilesLimitsAndSecretsOffTheEventLoop()
    {
        std::vector<std::unique_ptr<Pipe>> pipes;
        std::vector<QString> files;
        std::vector<QDBusPendingCall> calls;
        for (int i = 0; i < Limits::maxOpenVaultsPerUser; ++i) {
            files.push_back(newFile(Alice, 1 << 20));
            pipes.push_back(std::make_unique<Pipe>());
            calls.push_back(client(Alice).asyncCall(
                unlockCall(openFd(files.back()), QDBusUnixFileDescriptor(pipes.back()->read)), 120000));
        }
        // The 17th: refused at once, though none of the 16 is open yet.
        Pipe extra;
        QDBusMessage refused = client(Alice).call(unlockCall(openFd(newFile(Alice, 1 << 20)), QDBusUnixFileDescriptor(extra.read)));
        QCOMPARE(errorName(refused), helperError("Busy"));
        // The same file twice: Busy.
        QDBusMessage twice = client(Alice).call(unlockCall(openFd(files[0]), Pipe::with("pw")));
        QCOMPARE(errorName(twice), helperError("Busy"));

        // Bob gets his answer (no LUKS header here: NotSupported) while all of Alice's wait.
        const QDBusMessage bobs = client(Bob).call(unlockCall(openFd(newFile(Bob, 1 << 20)), Pipe::with("pw")));
        QCOMPARE(errorName(bobs), helperError("NotSupported"));
        for (const QDBusPendingCall &call : calls)
            QVERIFY(!call.isFinished());

        // Alice closes her pipes: every call is answered (her files hold no LUKS header).
        for (auto &pipe : pipes)
            pipe->closeWrite();
        for (QDBusPendingCall &call : calls) {
            call.waitForFinished();
            QCOMPARE(call.error().name(), helperError("NotSupported"));
        }
        QVERIFY(records().empty());
        QVERIFY(QDir(m_dir.filePath(QStringLiteral("run/coffer/%1").arg(Alice))).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).isEmpty());
    }

    // A header is someone's file: a UUID that is not 8-4-4-4-12 hex is refused before anything
    // is derived from it; no state file, no mount point, nothing outside the runtime directory.
    void hostileHeaderUuidsAreRefused_data()
    {
        QTest::addColumn<QString>("type");
        QTest::newRow("LUKS2") << "luks2";
        QTest::newRow("LUKS1") << "luks1";
    }

    void hostileHeaderUuidsAreRefused()
    {
        QFETCH(QString, type);
        // What a "../victim" UUID would have overwritten, then deleted, as <uuid>.json in state/.
        const QString victim = m_dir.filePath(QStringLiteral("run/coffer/victim.json"));
        QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("run/coffer"))));
        QFile v(victim);
        QVERIFY(v.open(QIODevice::WriteOnly));
        v.write("precious");
        v.close();
        const QString path = newLuksFile(Alice, qPrintable(type));
        QProcess patch;
        patch.start(QStringLiteral("/usr/bin/python3"),
                    {QStringLiteral(COFFER_SOURCE_DIR "/tests/vm/tools-helper/luks-set-uuid.py"), path, QStringLiteral("../victim")});
        QVERIFY(patch.waitForFinished(60000));
        QCOMPARE(patch.exitCode(), 0);
        const QDBusMessage reply = client(Alice).call(unlockCall(openFd(path), Pipe::with("test passphrase")));
        QVERIFY2(errorName(reply) == helperError("NotSupported") || errorName(reply) == helperError("InvalidArgument"),
                 qPrintable(errorName(reply) + QLatin1Char(' ') + reply.errorMessage()));
        QVERIFY(v.open(QIODevice::ReadOnly));
        QCOMPARE(v.readAll(), QByteArray("precious"));
        v.close();
        QVERIFY(records().empty());
        QVERIFY(QDir(m_dir.filePath(QStringLiteral("run/coffer/%1").arg(Alice))).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).isEmpty());
    }

    // Bob unlocks a copy of Alice's open vault (same UUID): his failed unlock leaves her record
    // and her mount point alone (records are the backing files', not the UUID's).
    void aCopyOfAnOpenVaultTouchesNothingOfIt()
    {
        const QString original = newLuksFile(Alice, "luks2");
        const QString copy = newFile(Bob, 0);
        QVERIFY(QFile::remove(copy) && QFile::copy(original, copy));
        QCOMPARE(chown(copy.toLocal8Bit().constData(), Bob, Bob), 0);
        struct stat st {};
        QCOMPARE(stat(original.toLocal8Bit().constData(), &st), 0);
        // Alice's vault as the helper recorded it when it opened it.
        QProcess uuid;
        uuid.start(QStringLiteral("/usr/sbin/cryptsetup"), {QStringLiteral("luksUUID"), original});
        QVERIFY(uuid.waitForFinished(60000));
        const std::string luksUuid = uuid.readAllStandardOutput().trimmed().toStdString();
        QVERIFY(Vault::isCanonicalLuksUuid(luksUuid));
        const std::string mountPoint = m_state->makeMountPoint(Alice, "vault");
        m_state->save({luksUuid, Alice, "vault", mountPoint, {st.st_dev, st.st_ino}, true});

        const QDBusMessage reply = client(Bob).call(unlockCall(openFd(copy), Pipe::with("test passphrase")));
        QCOMPARE(errorName(reply), helperError("NotSupported")); // no device-mapper here
        const std::vector<StateRecord> left = records();
        QCOMPARE(left.size(), size_t(1));
        QCOMPARE(left[0].uid, Alice);
        QVERIFY(left[0].open);
        QCOMPARE(left[0].mountPoint, mountPoint);
        QVERIFY(QFileInfo(QString::fromStdString(mountPoint)).isDir());
        m_state->remove(left[0].backing);
        m_state->removeMountPoint(mountPoint);
    }

    // A sparse vault must be able to grow to its size on its drive, or it opens read-only only.
    void unlockNeedsRoomToGrow()
    {
        const QString small = m_dir.filePath(QStringLiteral("small"));
        QVERIFY(QDir().mkpath(small));
        QCOMPARE(mount("tmpfs", small.toLocal8Bit().constData(), "tmpfs", 0, "size=24m,mode=0755"), 0);
        const QString path = newLuksFile(Alice, "luks2", small); // 20 MiB, 16 MiB of it written
        QVERIFY(QFile(path).resize(64 << 20));                   // and sparse up to 64 MiB
        Pipe open; // never closed: the check comes before the secret
        const QDBusMessage reply = client(Alice).call(unlockCall(openFd(path), QDBusUnixFileDescriptor(open.read)));
        QCOMPARE(errorName(reply), helperError("NoSpace"));
        QVERIFY(reply.errorMessage().contains(QLatin1String("read-only")));
        Helper1::UnlockOptions readOnly;
        readOnly.readOnly = true;
        const QDBusMessage ro = client(Alice).call(unlockCall(openFd(path), Pipe::with("test passphrase"), Helper1::encode(readOnly)));
        QCOMPARE(errorName(ro), helperError("NotSupported")); // past the check: the kernel's step
        QCOMPARE(umount2(small.toLocal8Bit().constData(), MNT_DETACH), 0);
    }

    // A caller gone while polkit decides gets nothing done.
    void aCallerThatLeavesDuringPolkitGetsNothing()
    {
        const QString path = newFile(Alice, 0);
        const QString jobs = QString::fromLatin1(Helper1::JobPathPrefix).chopped(1);
        const qsizetype jobsBefore = introspect(Alice, jobs).arguments().value(0).toString().count(QLatin1String("<node name="));
        onHelper([this] { m_authority->hold = true; });
        const std::shared_ptr<void> release(nullptr, [this](void *) { onHelper([this] { m_authority->release(); }); });
        QString leaving;
        {
            QDBusConnection connection = connectAs(Alice, QStringLiteral("leaving"));
            leaving = connection.baseService();
            QDBusMessage create = QDBusMessage::createMethodCall(
                Service, ManagerPath, QString::fromLatin1(Helper1::ManagerInterface), QStringLiteral("CreateVault"));
            create << QVariant::fromValue(openFd(path)) << qulonglong(64 << 20) << QVariant::fromValue(Pipe::with("pw"))
                   << QVariantMap();
            connection.asyncCall(create);
        }
        size_t held = 0;
        QTRY_VERIFY_WITH_TIMEOUT((onHelper([&] { held = m_authority->held.size(); }), held == 1), 30000);
        // The last reference is gone: this closes the connection.
        QDBusConnection::disconnectFromBus(QStringLiteral("leaving"));
        QTRY_VERIFY_WITH_TIMEOUT(!client(Alice).interface()->isServiceRegistered(leaving).value(), 30000);
        onHelper([this] { m_authority->release(); });
        // A round trip through the helper: whatever it would have done with the call is done.
        QCOMPARE(errorName(introspect(Alice, ManagerPath)), QStringLiteral("(no error)"));
        QCOMPARE(QFileInfo(path).size(), 0);
        QCOMPARE(introspect(Alice, jobs).arguments().value(0).toString().count(QLatin1String("<node name=")), jobsBefore);
    }

    void lockAllAndListWithNothingOpen()
    {
        OrgCofferHelper1ManagerInterface manager(Service, ManagerPath, client(Bob));
        QDBusPendingReply<QList<QDBusObjectPath>> list = manager.ListVaults();
        list.waitForFinished();
        QVERIFY(!list.isError());
        QVERIFY(list.value().isEmpty());
        QDBusPendingReply<> lockAll = manager.LockAll();
        lockAll.waitForFinished();
        QVERIFY(!lockAll.isError());
        QCOMPARE(errorName(getAll(Bob, ManagerPath, Helper1::ManagerInterface)), QStringLiteral("(no error)"));
        QDBusMessage unknown = QDBusMessage::createMethodCall(Service, QString::fromLatin1(Helper1::VaultPathPrefix) + QStringLiteral("99"),
                                                              QString::fromLatin1(Helper1::VaultInterface), QStringLiteral("Lock"));
        unknown << QVariantMap();
        QCOMPARE(errorName(client(Bob).call(unknown)), QStringLiteral("org.freedesktop.DBus.Error.UnknownObject"));
    }

    // Records of vaults the kernel does not have (a helper killed mid-unlock) are forgotten and
    // their mount points removed; a file that is not a record of ours goes too.
    void reconcileForgetsWhatTheKernelDoesNotHave()
    {
        QTemporaryDir run;
        RuntimeState state(run.filePath(QStringLiteral("coffer")).toStdString());
        const std::string mountPoint = state.makeMountPoint(Alice, "keys");
        state.save({"3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7b", Alice, "keys", mountPoint, {7, 8}, false});
        QFile stray(run.filePath(QStringLiteral("coffer/state/not-ours.json")));
        QVERIFY(stray.open(QIODevice::WriteOnly));
        stray.write("{\"uuid\":\"x\"}");
        stray.close();
        Manager manager(client(Admin), m_authority, &state, Settings());
        manager.reconcile();
        QVERIFY(state.load().empty());
        QVERIFY(!QFile::exists(stray.fileName()));
        QVERIFY(!QFileInfo::exists(QString::fromStdString(mountPoint)));
        QVERIFY(manager.isIdle());
    }
};

QTEST_GUILESS_MAIN(TestHelperManager)
#include "test_helper_manager.moc"
