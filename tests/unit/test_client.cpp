// L0: core/client (HelperClient, VaultHandle, JobHandle) against a fake helper on a private
// dbus-daemon. The fake lives in this process and this thread: a call the client made blocking
// would never be answered, so every test here also shows that the client does not block. The
// real path runs in the VM (tests/examples/watchjob in helper-flow.sh, and cofferctl throughout).

#include "block/secretbuffer.h"
#include "block/vault.h"
#include "block/vaultinternal.h"
#include "client/helperclient.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "dbus/helper1interface.h"
#include "dbus/options.h"
#include "fakehelper.h"
#include "testerror.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusObjectPath>
#include <QFile>
#include <QMetaMethod>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QtTest>

#include <cerrno>
#include <fcntl.h>
#include <functional>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Test;
using Client::FileIdentity;
using Helper1::JobOutcome;

namespace {

Sync::Result sampleResult()
{
    Sync::Result r;
    r.filesScanned = 12;
    r.filesCopied = 3;
    r.bytesCopied = 3000;
    r.durable = true;
    return r;
}

QStringList namesOf(const QMetaObject &meta, int offset, const std::function<bool(const QMetaMethod &)> &want)
{
    QStringList names;
    for (int i = offset; i < meta.methodCount(); ++i) {
        if (want(meta.method(i)))
            names << QString::fromLatin1(meta.method(i).name());
    }
    names.removeDuplicates(); // the proxy has two Unlock()s: with and without the out argument
    names.sort();
    return names;
}

QStringList propertiesOf(const QMetaObject &meta)
{
    QStringList names;
    for (int i = meta.propertyOffset(); i < meta.propertyCount(); ++i)
        names << QString::fromLatin1(meta.property(i).name());
    names.sort();
    return names;
}

} // namespace

class TestClient : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    QTemporaryDir m_dir{QDir::tempPath() + QStringLiteral("/coffer-client-XXXXXX")};
    // Each test's fake helper and client, made afresh by init().
    std::unique_ptr<FakeHelper> m_fake;
    std::unique_ptr<Client::HelperClient> m_client;

    QDBusConnection clientBus() { return m_bus.connect(); }

    // A file the tests name as a vault file.
    std::string newFile(const QString &name)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write("not really a vault");
        return QFile::encodeName(path).toStdString();
    }

    // A vault handle through the client, for a vault the fake has unlocked.
    Client::VaultHandle *openVault(const std::string &file, FakeVault **fakeVault = nullptr)
    {
        FakeVault *v = m_fake->addVault(Client::identify(file), QStringLiteral("keys"));
        if (fakeVault)
            *fakeVault = v;
        return lookUp(file);
    }

    Client::VaultHandle *lookUp(const std::string &file) { return lookUpVault(m_client.get(), file); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
    }

    void init()
    {
        m_fake = std::make_unique<FakeHelper>(m_bus.address());
        m_client = std::make_unique<Client::HelperClient>(clientBus());
    }

    void cleanup()
    {
        m_client.reset();
        m_fake.reset();
    }

    void cleanupTestCase()
    {
        // Join the worker threads of the locked-vault key operations: libcryptsetup's OpenSSL
        // keeps per-thread state that is freed only when its thread exits.
        QThreadPool::globalInstance()->waitForDone();
    }

    // The fake mirrors the contract (the generated proxies are the XML), so what passes here
    // is what the real helper offers.
    void fakeHasTheInterfacesOfTheXml_data()
    {
        QTest::addColumn<const QMetaObject *>("fake");
        QTest::addColumn<const QMetaObject *>("proxy");
        QTest::newRow("Manager") << &FakeManager::staticMetaObject << &OrgCofferHelper1ManagerInterface::staticMetaObject;
        QTest::newRow("Vault") << &FakeVault::staticMetaObject << &OrgCofferHelper1VaultInterface::staticMetaObject;
        QTest::newRow("Job") << &FakeJob::staticMetaObject << &OrgCofferHelper1JobInterface::staticMetaObject;
    }

    void fakeHasTheInterfacesOfTheXml()
    {
        QFETCH(const QMetaObject *, fake);
        QFETCH(const QMetaObject *, proxy);
        const auto slots_ = [](const QMetaMethod &m) {
            return m.methodType() == QMetaMethod::Slot && m.access() == QMetaMethod::Public;
        };
        const auto signals_ = [](const QMetaMethod &m) { return m.methodType() == QMetaMethod::Signal; };
        QCOMPARE(namesOf(*fake, fake->methodOffset(), slots_), namesOf(*proxy, proxy->methodOffset(), slots_));
        QCOMPARE(namesOf(*fake, fake->methodOffset(), signals_), namesOf(*proxy, proxy->methodOffset(), signals_));
        QCOMPARE(propertiesOf(*fake), propertiesOf(*proxy));
    }

    // Every property of the XML's Vault lands in VaultInfo.
    void vaultInfoReadsEveryProperty()
    {
        const QMetaObject &vault = OrgCofferHelper1VaultInterface::staticMetaObject;
        for (int i = vault.propertyOffset(); i < vault.propertyCount(); ++i) {
            const QMetaProperty p = vault.property(i);
            QVariant value = p.metaType() == QMetaType::fromType<QString>() ? QVariant(QStringLiteral("x")) : QVariant(7);
            QVERIFY(value.convert(p.metaType()));
            const QVariantMap one{{QString::fromLatin1(p.name()), value}};
            QVERIFY2(!(Client::vaultInfoFrom({}, one) == Client::VaultInfo()), p.name());
        }
    }

    // ---- jobs -----------------------------------------------------------------------------

    void jobReportsProgressThenItsResult()
    {
        FakeVault *fv = nullptr;
        Client::VaultHandle *vault = openVault(newFile("progress.coffer"), &fv);
        QVERIFY(vault && vault->isUnlocked());

        Helper1::SyncOptions options;
        options.mode = Sync::Mode::Snapshot;
        options.excludes = {"*.tmp"};
        options.retention.keepLast = 3;
        JobEnd end(vault->sync({QStringLiteral("relative/dir"), QStringLiteral("/abs/dir")}, options));
        QVERIFY(end.waitStarted());
        QVERIFY(end.started);
        // Sources are made absolute here; options went through the codec.
        QCOMPARE(fv->syncSources, (QStringList{QDir::current().absoluteFilePath(QStringLiteral("relative/dir")),
                                               QStringLiteral("/abs/dir")}));
        const Helper1::SyncOptions sent = Helper1::decodeSyncOptions(fv->syncOptions);
        QCOMPARE(sent.mode, Sync::Mode::Snapshot);
        QCOMPARE(sent.excludes, options.excludes);
        QCOMPARE(sent.retention.keepLast, 3);

        FakeJob *job = m_fake->jobs.last();
        QTRY_VERIFY_WITH_TIMEOUT(!end.progress.isEmpty(), waitMs); // GetAll's state
        job->setProgress(0.5, 4, 8, QStringLiteral("data/blob"));
        QTRY_VERIFY_WITH_TIMEOUT(!end.progress.isEmpty() && end.progress.last().fraction == 0.5, waitMs);
        QCOMPARE(end.progress.last().filesDone, quint64(4));
        QCOMPARE(end.progress.last().filesTotal, quint64(8));
        QCOMPARE(end.progress.last().currentItem, QStringLiteral("data/blob"));
        QCOMPARE(end.finishedCount, 0);

        job->finish(JobOutcome::Ok, {}, {}, Helper1::encodeSyncResult(sampleResult()));
        QVERIFY(end.wait());
        QCOMPARE(end.outcome, JobOutcome::Ok);
        QVERIFY(!end.error);
        QVERIFY(end.result.sync);
        QCOMPARE(end.result.sync->filesCopied, uint64_t(3));
        QCOMPARE(end.result.sync->filesScanned, uint64_t(12));
        QVERIFY(end.result.sync->durable);
        QTest::qWait(50);
        QCOMPARE(end.finishedCount, 1); // once, though both PropertiesChanged and Completed came
    }

    // The job ends before the client has subscribed: nothing it would hear; GetAll tells.
    // The sync's phase arrives typed, the final flush as a phase of its own.
    void jobPhaseArrivesTyped()
    {
        Client::VaultHandle *vault = openVault(newFile("phase.coffer"));
        QVERIFY(vault);
        JobEnd end(vault->sync({QStringLiteral("/abs/dir")}, {}));
        QVERIFY(end.waitStarted());
        FakeJob *job = m_fake->jobs.last();
        QTRY_VERIFY_WITH_TIMEOUT(!end.progress.isEmpty(), waitMs);
        QVERIFY(!end.progress.last().phase); // nothing reported yet
        job->setPhase(QStringLiteral("copy"), 1, 2, 100, 200, QStringLiteral("dir/a"));
        QTRY_VERIFY_WITH_TIMEOUT(end.progress.last().phase == Sync::Phase::Copy, waitMs);
        QCOMPARE(end.progress.last().bytesDone, quint64(100));
        job->setPhase(QStringLiteral("flush"), 2, 2, 200, 200);
        QTRY_VERIFY_WITH_TIMEOUT(end.progress.last().phase == Sync::Phase::Flush, waitMs);
        job->setPhase(QStringLiteral("no-such-phase"), 2, 2, 200, 200);
        QTRY_VERIFY_WITH_TIMEOUT(!end.progress.last().phase, waitMs);
        job->finish(JobOutcome::Ok);
        QVERIFY(end.wait());
    }

    void jobFinishedBeforeGetAllIsSeen()
    {
        FakeVault *fv = nullptr;
        Client::VaultHandle *vault = openVault(newFile("early.coffer"), &fv);
        QVERIFY(vault);
        Sync::Result plan = sampleResult();
        plan.dryRun = true;
        plan.plan.added = 2;
        plan.plan.bytesToWrite = 5000;
        plan.plan.bytesFree = 100;
        plan.plan.fits = false;
        plan.plan.items.push_back({Sync::PlanAction::Add, 'f', "data/big\xff", 5000});
        fv->onSync = [&](FakeJob *job) { job->finish(JobOutcome::Ok, {}, {}, Helper1::encodeSyncResult(plan)); };
        Helper1::SyncOptions options;
        options.dryRun = true;
        JobEnd end(vault->sync({QStringLiteral("/src")}, options));
        QVERIFY(end.wait());
        QCOMPARE(end.outcome, JobOutcome::Ok);
        QVERIFY(end.result.sync);
        QVERIFY(end.result.sync->dryRun);
        QCOMPARE(end.result.sync->plan.fits, false);
        QCOMPARE(end.result.sync->plan.bytesToWrite, uint64_t(5000));
        QCOMPARE(end.result.sync->plan.items.size(), size_t(1));
        QCOMPARE(end.result.sync->plan.items[0].path, std::string("data/big\xff")); // bytes, not UTF-8
    }

    void eachOutcomeArrivesTyped_data()
    {
        QTest::addColumn<int>("outcome");
        QTest::addColumn<QString>("errorName");
        QTest::addColumn<QString>("message");
        QTest::addColumn<int>("code");
        const auto name = [](ErrorCode c) { return DBusErrors::errorName(c); };
        QTest::newRow("ok") << int(JobOutcome::Ok) << QString() << QString() << int(Test::NoError);
        QTest::newRow("partial") << int(JobOutcome::Partial) << QString()
                                 << QStringLiteral("partial: the sync finished, but 2 items could not be read")
                                 << int(Test::NoError);
        QTest::newRow("failed") << int(JobOutcome::Failed) << name(ErrorCode::NoSpace)
                                << QStringLiteral("The vault is full.") << int(ErrorCode::NoSpace);
        QTest::newRow("medium gone") << int(JobOutcome::Failed) << name(ErrorCode::MediumGone)
                                     << QStringLiteral("The drive went away.") << int(ErrorCode::MediumGone);
        QTest::newRow("cancelled") << int(JobOutcome::Cancelled) << name(ErrorCode::Cancelled)
                                   << QStringLiteral("Cancelled.") << int(ErrorCode::Cancelled);
    }

    void eachOutcomeArrivesTyped()
    {
        QFETCH(int, outcome);
        QFETCH(QString, errorName);
        QFETCH(QString, message);
        QFETCH(int, code);
        Client::VaultHandle *vault = openVault(newFile("outcome.coffer"));
        QVERIFY(vault);
        JobEnd end(vault->sync({QStringLiteral("/src")}, {}));
        QVERIFY(end.waitStarted());
        Sync::Result partial = sampleResult();
        partial.warnings = {{"data/unreadable", "Permission denied", EACCES}, {"data/gone", "vanished", ENOENT}};
        const bool ran = JobOutcome(outcome) == JobOutcome::Ok || JobOutcome(outcome) == JobOutcome::Partial;
        m_fake->jobs.last()->finish(JobOutcome(outcome), errorName, message,
                                 ran ? Helper1::encodeSyncResult(partial) : QVariantMap());
        QVERIFY(end.wait());
        QCOMPARE(int(end.outcome), outcome);
        QCOMPARE(int(end.code()), code);
        if (end.error)
            QCOMPARE(QString::fromStdString(end.error->message()), message);
        else
            QCOMPARE(end.result.message, message);
        QCOMPARE(bool(end.result.sync), ran);
        if (ran)
            QCOMPARE(end.result.sync->warnings.size(), size_t(2));
    }

    void cancelAsksTheHelperAndEndsCancelled()
    {
        Client::VaultHandle *vault = openVault(newFile("cancel.coffer"));
        QVERIFY(vault);
        Client::JobHandle *job = vault->sync({QStringLiteral("/src")}, {});
        JobEnd end(job);
        job->cancel(); // before the helper has even answered: sent once it has
        QVERIFY(end.wait());
        QCOMPARE(m_fake->jobs.last()->cancelCalls, 1);
        QCOMPARE(end.outcome, JobOutcome::Cancelled);
        QCOMPARE(end.code(), ErrorCode::Cancelled);
        QVERIFY(!end.result.sync);
    }

    void cancelRefusedIsSaid()
    {
        Client::VaultHandle *vault = openVault(newFile("nocancel.coffer"));
        QVERIFY(vault);
        Client::JobHandle *job = vault->sync({QStringLiteral("/src")}, {});
        JobEnd end(job);
        QVERIFY(end.waitStarted());
        m_fake->jobs.last()->cancelable = false;
        job->cancel();
        QTRY_COMPARE_WITH_TIMEOUT(end.cancelErrors, QList<ErrorCode>{ErrorCode::NotSupported}, waitMs);
        QCOMPARE(end.finishedCount, 0);
        m_fake->jobs.last()->finish(JobOutcome::Ok, {}, {}, Helper1::encodeSyncResult(sampleResult()));
        QVERIFY(end.wait());
        QCOMPARE(end.outcome, JobOutcome::Ok);
    }

    void refusedJobFailsWithTheHelpersError()
    {
        Client::VaultHandle *vault = openVault(newFile("busy.coffer"));
        QVERIFY(vault);
        m_fake->errors[QStringLiteral("Sync")] = DBusErrors::errorName(ErrorCode::Busy);
        JobEnd end(vault->sync({QStringLiteral("/src")}, {}));
        QVERIFY(end.wait());
        QVERIFY(!end.started);
        QCOMPARE(end.outcome, JobOutcome::Failed);
        QCOMPARE(end.code(), ErrorCode::Busy);
        QVERIFY(m_fake->jobs.isEmpty());
    }

    void helperVanishingMidJobFailsIt()
    {
        QTRY_VERIFY_WITH_TIMEOUT(m_client->isHelperRunning(), waitMs);
        int appeared = 0, vanished = 0;
        QObject context;
        connect(m_client.get(), &Client::HelperClient::helperAppeared, &context, [&] { ++appeared; });
        connect(m_client.get(), &Client::HelperClient::helperVanished, &context, [&] { ++vanished; });
        Client::VaultHandle *vault = openVault(newFile("vanish.coffer"));
        QVERIFY(vault);
        JobEnd end(vault->sync({QStringLiteral("/src")}, {}));
        QVERIFY(end.waitStarted());
        m_fake->vanish();
        QVERIFY(end.wait());
        QCOMPARE(end.outcome, JobOutcome::Failed);
        QCOMPARE(end.code(), ErrorCode::Failed);
        QVERIFY(end.error->message().find("helper stopped") != std::string::npos);
        QCOMPARE(vanished, 1);
        QVERIFY(!m_client->isHelperRunning());
        // Open vaults stay open: a restarted helper adopts them.
        QVERIFY(vault->isUnlocked());
        m_fake->appear();
        QTRY_COMPARE_WITH_TIMEOUT(appeared, 1, waitMs);
        QVERIFY(m_client->isHelperRunning());
    }

    void createVaultCreatesTheFileAndRemovesItOnFailure()
    {
        const std::string file = QFile::encodeName(m_dir.filePath(QStringLiteral("new.coffer"))).toStdString();
        Helper1::CreateOptions options;
        options.label = QStringLiteral("keys");
        options.pbkdf.iterations = 4;
        JobEnd end(m_client->createVault(file, 64 << 20, Client::Secret::passphrase(SecretBuffer::fromString("pw")), options));
        QVERIFY(end.waitStarted());
        struct stat st {};
        QCOMPARE(::stat(file.c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);
        QCOMPARE(st.st_size, off_t(0));
        QCOMPARE(m_fake->manager->lastBacking.identity, Client::identify(file));
        QCOMPARE(m_fake->manager->lastBacking.accessMode, O_RDWR);
        QCOMPARE(m_fake->manager->createdSize, qulonglong(64 << 20));
        QCOMPARE(Helper1::decodeCreateOptions(m_fake->manager->lastOptions).label, QStringLiteral("keys"));
        QCOMPARE(Helper1::decodeCreateOptions(m_fake->manager->lastOptions).pbkdf.iterations, 4u);
        m_fake->jobs.last()->finish(JobOutcome::Failed, DBusErrors::errorName(ErrorCode::NoSpace), QStringLiteral("Full."));
        QVERIFY(end.wait());
        QCOMPARE(end.code(), ErrorCode::NoSpace);
        QTRY_COMPARE_WITH_TIMEOUT(::access(file.c_str(), F_OK), -1, waitMs);

        // Done: the file stays.
        JobEnd ok(m_client->createVault(file, 64 << 20, Client::Secret::passphrase(SecretBuffer::fromString("pw")), options));
        QVERIFY(ok.waitStarted());
        m_fake->jobs.last()->finish(JobOutcome::Ok);
        QVERIFY(ok.wait());
        QCOMPARE(ok.outcome, JobOutcome::Ok);
        QTest::qWait(50);
        QCOMPARE(::access(file.c_str(), F_OK), 0);

        // A file that exists already is refused and left alone.
        const std::string existing = newFile("existing.coffer");
        JobEnd refused(m_client->createVault(existing, 64 << 20, Client::Secret::passphrase(SecretBuffer::fromString("pw")), options));
        QVERIFY(refused.wait());
        QCOMPARE(refused.code(), ErrorCode::InvalidArgument);
        QFile kept(QString::fromStdString(existing));
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QCOMPARE(kept.readAll(), QByteArray("not really a vault"));
    }

    // ---- requests and errors -------------------------------------------------------------------

    void unlockSendsAClosedPipeAndTheUsersFile()
    {
        const std::string file = newFile("unlock.coffer");
        Client::VaultHandle *vault = lookUp(file);
        QVERIFY(vault);
        QVERIFY(!vault->isUnlocked());
        int added = 0;
        connect(m_client.get(), &Client::HelperClient::vaultAdded, this, [&](Client::VaultHandle *v) {
            QCOMPARE(v, vault);
            ++added;
        });
        Helper1::UnlockOptions options;
        options.readOnly = true;
        RequestEnd end(vault->unlock(Client::Secret::passphrase(SecretBuffer::fromString("correct horse")), options));
        QVERIFY(end.wait());
        QVERIFY(!end.error);
        QCOMPARE(m_fake->manager->secrets.size(), 1);
        QCOMPARE(m_fake->manager->secrets[0].bytes, QByteArray("correct horse"));
        QVERIFY(m_fake->manager->secrets[0].closed); // written and closed before the call
        QCOMPARE(m_fake->manager->lastBacking.identity, Client::identify(file));
        QCOMPARE(m_fake->manager->lastBacking.accessMode, O_RDWR);
        QVERIFY(Helper1::decodeUnlockOptions(m_fake->manager->lastOptions).readOnly);
        QVERIFY(vault->isUnlocked());
        QCOMPARE(vault->info().mountPoint, m_fake->vaults.last()->mountPoint);
        QCOMPARE(vault->info().name, QStringLiteral("keys"));
        QCOMPARE(m_client->vaults(), QList<Client::VaultHandle *>{vault});
        QTest::qWait(50);
        QCOMPARE(added, 1); // the reply and VaultAdded are one event

        // A key file goes as the file itself, opened here.
        RequestEnd locked(vault->lock());
        QVERIFY(locked.wait());
        QVERIFY(!vault->isUnlocked());
        const std::string keyFile = newFile("key.bin");
        RequestEnd withKey(vault->unlock(Client::Secret::keyFile(keyFile)));
        QVERIFY(withKey.wait());
        QVERIFY(!withKey.error);
        QCOMPARE(m_fake->manager->secrets.last().bytes, QByteArray("not really a vault"));
    }

    void badFilesAreRefusedHere()
    {
        RequestEnd missing(m_client->vault("/nonexistent/vault.coffer"));
        QVERIFY(missing.wait());
        QCOMPARE(missing.code(), ErrorCode::NotFound);

        const std::string file = newFile("target.coffer");
        const std::string link = QFile::encodeName(m_dir.filePath(QStringLiteral("link.coffer"))).toStdString();
        QCOMPARE(::symlink(file.c_str(), link.c_str()), 0);
        Client::VaultHandle *vault = lookUp(link);
        QVERIFY(vault);
        RequestEnd symlinked(vault->unlock(Client::Secret::passphrase(SecretBuffer::fromString("pw"))));
        QVERIFY(symlinked.wait());
        QCOMPARE(symlinked.code(), ErrorCode::InvalidArgument); // ELOOP: O_NOFOLLOW
        Client::VaultHandle *target = lookUp(file);
        QCOMPARE(target, vault); // the same file, however it is named
        RequestEnd noKey(target->unlock(Client::Secret::keyFile("/nonexistent/key")));
        QVERIFY(noKey.wait());
        QCOMPARE(noKey.code(), ErrorCode::NotFound);
        RequestEnd dirKey(target->unlock(Client::Secret::keyFile(QFile::encodeName(m_dir.path()).toStdString())));
        QVERIFY(dirKey.wait());
        QCOMPARE(dirKey.code(), ErrorCode::InvalidArgument);
        QVERIFY(!m_fake->calls.contains(QStringLiteral("Unlock"))); // none of these reached the helper
    }

    void helperErrorsMapToErrorCodes_data()
    {
        QTest::addColumn<QString>("errorName");
        QTest::addColumn<int>("code");
        for (const ErrorKind &kind : errorKinds)
            QTest::newRow(kind.name.data()) << DBusErrors::errorName(kind.code) << int(kind.code);
        QTest::newRow("unknown of ours") << QStringLiteral("org.coffer.Helper1.Error.Bogus") << int(ErrorCode::Failed);
        QTest::newRow("bus policy") << QStringLiteral("org.freedesktop.DBus.Error.AccessDenied")
                                    << int(ErrorCode::NotAuthorized);
        QTest::newRow("no reply") << QStringLiteral("org.freedesktop.DBus.Error.NoReply") << int(ErrorCode::Failed);
    }

    void helperErrorsMapToErrorCodes()
    {
        QFETCH(QString, errorName);
        QFETCH(int, code);
        Client::VaultHandle *vault = lookUp(newFile("errors.coffer"));
        QVERIFY(vault);
        m_fake->errors[QStringLiteral("Unlock")] = errorName;
        RequestEnd end(vault->unlock(Client::Secret::passphrase(SecretBuffer::fromString("pw"))));
        QVERIFY(end.wait());
        QCOMPARE(int(end.code()), code);
        QCOMPARE(QString::fromStdString(end.error->message()), QStringLiteral("The fake helper refuses Unlock."));
        QVERIFY(!vault->isUnlocked());
    }

    void noHelperOnTheBusIsNotFound()
    {
        // The bus drops the name once it has seen the disconnect; a call before that would go to
        // the dying connection (NoReply) instead of finding nobody. So the client must first have
        // seen the helper come (it starts out "not running"), then go.
        QTRY_VERIFY_WITH_TIMEOUT(m_client->isHelperRunning(), waitMs);
        m_fake.reset();
        QTRY_VERIFY_WITH_TIMEOUT(!m_client->isHelperRunning(), waitMs);
        RequestEnd end(m_client->refreshVaults());
        QVERIFY(end.wait());
        QVERIFY2(end.code() == ErrorCode::NotFound, end.error ? end.error->what() : "no error"); // ServiceUnknown: nothing to activate
        QVERIFY(!m_client->isHelperRunning());
    }

    void requestsFinishOnlyFromTheEventLoop()
    {
        bool finished = false;
        Client::Request *request = m_client->vault("/nonexistent/vault.coffer"); // fails before any call
        connect(request, &Client::Request::finished, this, [&] { finished = true; });
        QVERIFY(!finished);
        QTRY_VERIFY_WITH_TIMEOUT(finished, waitMs);
    }

    // ---- the user's vaults ----------------------------------------------------------------------

    // The same in a process of its own, where nothing used QDBusObjectPath before the client
    // connected to VaultAdded(o) (QtDBus then dropped the signal without a word).
    void vaultAddedReachesAFreshProcess()
    {
        if (qEnvironmentVariableIsSet("COFFER_TEST_CHILD"))
            QSKIP("already the child");
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("COFFER_TEST_CHILD"), QStringLiteral("1"));
        child.setProcessEnvironment(env);
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("vaultAddedAndRemovedReachTheHandles")});
        QVERIFY(child.waitForFinished(120000));
        QCOMPARE(child.exitCode(), 0);
    }

    void vaultAddedAndRemovedReachTheHandles()
    {
        QList<Client::VaultHandle *> added;
        QList<QPair<Client::VaultHandle *, QString>> removed;
        connect(m_client.get(), &Client::HelperClient::vaultAdded, this, [&](Client::VaultHandle *v) { added << v; });
        connect(m_client.get(), &Client::HelperClient::vaultRemoved, this,
                [&](Client::VaultHandle *v, const QString &reason) { removed << qMakePair(v, reason); });
        QTRY_VERIFY_WITH_TIMEOUT(m_client->isHelperRunning(), waitMs);

        // Unlocked elsewhere (another cofferctl): announced with its properties.
        const std::string file = newFile("elsewhere.coffer");
        FakeVault *fv = m_fake->addVault(Client::identify(file), QStringLiteral("docs"));
        QTRY_COMPARE_WITH_TIMEOUT(added.size(), 1, waitMs);
        Client::VaultHandle *vault = added[0];
        QVERIFY(vault->isUnlocked());
        QCOMPARE(vault->info().name, QStringLiteral("docs"));
        QCOMPARE(vault->info().path, fv->path);
        QCOMPARE(vault->info().mountPoint, fv->mountPoint);
        QCOMPARE(m_client->vaults(), QList<Client::VaultHandle *>{vault});
        // Looking the file up finds the same handle.
        QCOMPARE(lookUp(file), vault);

        // Another user's vault is not this client's.
        m_fake->addVault({1, 2}, QStringLiteral("theirs"), ::getuid() + 1);
        QTest::qWait(100);
        QCOMPARE(added.size(), 1);

        m_fake->removeVault(fv, QStringLiteral("locked"));
        QTRY_COMPARE_WITH_TIMEOUT(removed.size(), 1, waitMs);
        QCOMPARE(removed[0].first, vault);
        QCOMPARE(removed[0].second, QStringLiteral("locked"));
        QVERIFY(!vault->isUnlocked());
        QVERIFY(m_client->vaults().isEmpty());
    }

    void refreshForgetsVaultsTheHelperNoLongerHas()
    {
        Client::VaultHandle *a = openVault(newFile("a.coffer"));
        Client::VaultHandle *b = openVault(newFile("b.coffer"));
        QVERIFY(a && b);
        QCOMPARE(m_client->vaults().size(), 2);
        // Gone without a signal (a helper that restarted without it).
        m_fake->bus.unregisterObject(m_fake->vaults.first()->path);
        delete m_fake->vaults.takeFirst();
        RequestEnd end(m_client->refreshVaults());
        QVERIFY(end.wait());
        QCOMPARE(m_client->vaults(), QList<Client::VaultHandle *>{b});
        QVERIFY(!a->isUnlocked());
    }

    void lockAllLocksThemAll()
    {
        QVERIFY(openVault(newFile("x.coffer")));
        QVERIFY(openVault(newFile("y.coffer")));
        RequestEnd end(m_client->lockAll());
        QVERIFY(end.wait());
        QVERIFY(!end.error);
        QVERIFY(m_client->vaults().isEmpty());
        QVERIFY(m_fake->vaults.isEmpty());
    }

    // ListMedia's a{sv}s arrive as the media they describe.
    void listMediaGivesTheDrives()
    {
        Media::Medium stick;
        stick.devNode = "/dev/sdb1";
        stick.devnum = makedev(8, 17);
        stick.fsUuid = "1234-ABCD";
        stick.label = "caf\xe9\n";
        stick.fsType = "vfat";
        stick.size = 128 << 20;
        stick.mountPoints = {"/media/alice/STICK"};
        stick.freeBytes = 1 << 20;
        m_fake->manager->media = {Helper1::encodeMedium(stick)};
        Client::MediaRequest *request = m_client->listMedia();
        std::vector<Media::Medium> media; // the request is gone after finished()
        QObject::connect(request, &Client::Request::finished, request, [&] { media = request->media(); });
        RequestEnd end(request);
        QVERIFY(end.wait());
        QVERIFY(!end.error);
        QCOMPARE(media.size(), size_t(1));
        QCOMPARE(media[0], stick);

        m_fake->errors[QStringLiteral("ListMedia")] = DBusErrors::errorName(ErrorCode::NotAuthorized);
        RequestEnd refused(m_client->listMedia());
        QVERIFY(refused.wait());
        QCOMPARE(refused.code(), ErrorCode::NotAuthorized);
    }

    void lockFailedNamesTheVault()
    {
        FakeVault *fv = nullptr;
        Client::VaultHandle *vault = openVault(newFile("busy.coffer"), &fv);
        QVERIFY(vault);
        QSignalSpy failed(m_client.get(), &Client::HelperClient::lockFailed);
        emit m_fake->manager->LockFailed(QDBusObjectPath(fv->path), QStringLiteral("suspend"), QStringLiteral("in use"));
        QVERIFY(failed.wait());
        QCOMPARE(failed.at(0).at(0).value<Client::VaultHandle *>(), vault);
        QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("suspend"));
        QVERIFY(vault->isUnlocked());
    }

    void lockGoesWithItsOptions()
    {
        FakeVault *fv = nullptr;
        Client::VaultHandle *vault = openVault(newFile("force.coffer"), &fv);
        QVERIFY(vault);
        m_fake->errors[QStringLiteral("Lock")] = DBusErrors::errorName(ErrorCode::Busy);
        RequestEnd busy(vault->lock());
        QVERIFY(busy.wait());
        QCOMPARE(busy.code(), ErrorCode::Busy);
        QVERIFY(vault->isUnlocked());
        Helper1::LockOptions force;
        force.force = true;
        RequestEnd end(vault->lock(force));
        QVERIFY(end.wait());
        QVERIFY(!end.error);
        QVERIFY(!vault->isUnlocked());
        RequestEnd again(vault->lock());
        QVERIFY(again.wait());
        QCOMPARE(again.code(), ErrorCode::NotFound);
    }

    // ---- key management, header, resize ----------------------------------------------------------

    void keyManagementOfAnUnlockedVaultGoesToTheHelper()
    {
        FakeVault *fv = nullptr;
        Client::VaultHandle *vault = openVault(newFile("keys.coffer"), &fv);
        QVERIFY(vault);
        const auto pass = [](const char *text) { return Client::Secret::passphrase(SecretBuffer::fromString(text)); };
        RequestEnd changed(vault->changePassphrase(pass("old"), pass("new")));
        QVERIFY(changed.wait());
        QVERIFY(!changed.error);
        const std::string keyFile = newFile("added.key");
        RequestEnd added(vault->addKey(pass("new"), Client::Secret::keyFile(keyFile)));
        QVERIFY(added.wait());
        QVERIFY(!added.error);
        RequestEnd removed(vault->removeKey(Client::Secret::keyFile(keyFile)));
        QVERIFY(removed.wait());
        QVERIFY(!removed.error);
        QCOMPARE(fv->secrets.size(), 5);
        QCOMPARE(fv->secrets[0].bytes, QByteArray("old"));
        QCOMPARE(fv->secrets[1].bytes, QByteArray("new"));
        QVERIFY(fv->secrets[0].closed && fv->secrets[1].closed);
        QCOMPARE(fv->secrets[3].bytes, QByteArray("not really a vault"));
        QCOMPARE(fv->secrets[4].bytes, QByteArray("not really a vault"));
        QVERIFY(m_fake->calls.contains(QStringLiteral("RemoveKey")));

        const QString out = m_dir.filePath(QStringLiteral("header.bak"));
        RequestEnd saved(vault->backupHeader(QFile::encodeName(out).toStdString()));
        QVERIFY(saved.wait());
        QVERIFY(!saved.error);
        QFile header(out);
        QVERIFY(header.open(QIODevice::ReadOnly));
        QCOMPARE(header.readAll(), QByteArray("HEADER"));
        QCOMPARE(QFileInfo(out).permissions() & (QFile::ReadGroup | QFile::ReadOther), QFile::Permissions());

        // Refused: the new file goes again; an existing one is never touched.
        m_fake->errors[QStringLiteral("BackupHeader")] = DBusErrors::errorName(ErrorCode::Failed);
        const QString out2 = m_dir.filePath(QStringLiteral("header2.bak"));
        RequestEnd refused(vault->backupHeader(QFile::encodeName(out2).toStdString()));
        QVERIFY(refused.wait());
        QCOMPARE(refused.code(), ErrorCode::Failed);
        QVERIFY(!QFile::exists(out2));
        RequestEnd exists(vault->backupHeader(QFile::encodeName(out).toStdString()));
        QVERIFY(exists.wait());
        QCOMPARE(exists.code(), ErrorCode::InvalidArgument);
        QVERIFY(QFile::exists(out));

        RequestEnd resized(vault->resize(96 << 20, pass("new")));
        QVERIFY(resized.wait());
        QVERIFY(!resized.error);
        QCOMPARE(fv->resizedTo, qulonglong(96 << 20));
        QVERIFY(vault->isUnlocked());
    }

    void resizeOfALockedVaultUnlocksAndLocksAgain_data()
    {
        QTest::addColumn<QString>("resizeError");
        QTest::addColumn<int>("code");
        QTest::newRow("grown") << QString() << int(Test::NoError);
        QTest::newRow("no space") << DBusErrors::errorName(ErrorCode::NoSpace) << int(ErrorCode::NoSpace);
    }

    void resizeOfALockedVaultUnlocksAndLocksAgain()
    {
        QFETCH(QString, resizeError);
        QFETCH(int, code);
        Client::VaultHandle *vault = lookUp(newFile("grow.coffer"));
        QVERIFY(vault && !vault->isUnlocked());
        if (!resizeError.isEmpty())
            m_fake->errors[QStringLiteral("Resize")] = resizeError;
        m_fake->calls.clear();
        RequestEnd end(vault->resize(128 << 20, Client::Secret::passphrase(SecretBuffer::fromString("pw"))));
        QVERIFY(end.wait());
        QCOMPARE(int(end.code()), code);
        QCOMPARE(m_fake->calls, (QStringList{QStringLiteral("Unlock"), QStringLiteral("Resize"), QStringLiteral("Lock")}));
        QCOMPARE(m_fake->manager->secrets.last().bytes, QByteArray("pw"));
        QVERIFY(!vault->isUnlocked());
        QVERIFY(m_fake->vaults.isEmpty());
    }

    // A locked vault's keys and header are changed here, on the user's own file, with the real
    // libcryptsetup (the header is in the file; no device-mapper needed).
    void keyManagementOfALockedVaultWorksOnTheFile()
    {
        const QString path = m_dir.filePath(QStringLiteral("real.coffer"));
        const std::string file = QFile::encodeName(path).toStdString();
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QVERIFY(f.resize(32 << 20));
        }
        Vault::CreateOptions o;
        o.name = "real";
        o.pbkdf = {8192, 0, 4, 1};
        Vault::formatLuks2(file, Vault::randomKey(64), SecretBuffer::fromString("first"), o);
        Client::VaultHandle *vault = lookUp(file);
        QVERIFY(vault && !vault->isUnlocked());
        const auto pass = [](const char *text) { return Client::Secret::passphrase(SecretBuffer::fromString(text)); };

        // New key slots get cryptsetup's benchmarked key derivation: seconds each on a busy machine.
        constexpr int slotMs = 300000;
        RequestEnd wrong(vault->changePassphrase(pass("not it"), pass("second")));
        QVERIFY(wrong.wait());
        QCOMPARE(wrong.code(), ErrorCode::BadPassphrase);
        RequestEnd changed(vault->changePassphrase(pass("first"), pass("second")));
        QVERIFY(changed.wait(slotMs));
        QVERIFY2(!changed.error, changed.error ? changed.error->what() : "");

        const std::string keyFile = newFile("real.key");
        RequestEnd added(vault->addKey(pass("second"), Client::Secret::keyFile(keyFile)));
        QVERIFY(added.wait(slotMs));
        QVERIFY2(!added.error, added.error ? added.error->what() : "");

        // A key file's slot goes again.
        const std::string spareKey = QFile::encodeName(m_dir.filePath(QStringLiteral("spare.key"))).toStdString();
        {
            QFile f(QFile::decodeName(spareKey.c_str()));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("a spare key");
        }
        RequestEnd spare(vault->addKey(pass("second"), Client::Secret::keyFile(spareKey)));
        QVERIFY(spare.wait(slotMs));
        RequestEnd removed(vault->removeKey(Client::Secret::keyFile(spareKey)));
        QVERIFY(removed.wait());
        QVERIFY2(!removed.error, removed.error ? removed.error->what() : "");

        const std::string out = QFile::encodeName(m_dir.filePath(QStringLiteral("real-header.bak"))).toStdString();
        RequestEnd saved(vault->backupHeader(out));
        QVERIFY(saved.wait());
        QVERIFY2(!saved.error, saved.error ? saved.error->what() : "");
        QVERIFY(!m_fake->calls.contains(QStringLiteral("ChangePassphrase"))); // the helper was not asked

        const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        QCOMPARE(Test::codeOf([&] { Vault::checkPassphrase(fd.get(), SecretBuffer::fromString("first")); }),
                 ErrorCode::BadPassphrase);
        QCOMPARE(Test::codeOf([&] { Vault::checkPassphrase(fd.get(), SecretBuffer::fromString("second")); }),
                 Test::NoError);
        QCOMPARE(Test::codeOf([&] { Vault::checkPassphrase(fd.get(), SecretBuffer::fromString("not really a vault")); }),
                 Test::NoError);
        QCOMPARE(Test::codeOf([&] { Vault::checkPassphrase(fd.get(), SecretBuffer::fromString("a spare key")); }),
                 ErrorCode::BadPassphrase);
        const UniqueFd header(::open(out.c_str(), O_RDONLY | O_CLOEXEC));
        QCOMPARE(QString::fromStdString(Vault::headerInfo(header.get()).label), QStringLiteral("coffer:real"));

        // Not a vault: the header backup fails and leaves no file behind.
        const QString plain = m_dir.filePath(QStringLiteral("plain.img"));
        {
            QFile f(plain);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QVERIFY(f.resize(1 << 20));
        }
        Client::VaultHandle *notVault = lookUp(QFile::encodeName(plain).toStdString());
        QVERIFY(notVault);
        const std::string out2 = QFile::encodeName(m_dir.filePath(QStringLiteral("plain-header.bak"))).toStdString();
        RequestEnd failed(notVault->backupHeader(out2));
        QVERIFY(failed.wait());
        QCOMPARE(failed.code(), ErrorCode::NotSupported);
        QCOMPARE(::access(out2.c_str(), F_OK), -1);
    }
};

QTEST_GUILESS_MAIN(TestClient)
#include "test_client.moc"
