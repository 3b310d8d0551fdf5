// The a{sv} codec of org.coffer.Helper1 (core/dbus/options.h): what a client encodes the helper
// decodes to the same request; unknown keys, wrong types and values out of range are refused;
// a sync's Result and a medium's facts survive a real D-Bus round trip (peer-to-peer connection),
// bytes intact.
#include "dbus/options.h"
#include "testerror.h"

#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCall>
#include <QDBusServer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Helper1;
using Coffer::Test::codeOf;

namespace {

// Echoes a dictionary back over the bus, so the reply's a{sv} has been marshalled and
// demarshalled the way a client receives a job's Result.
class Echo : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.coffer.Test.Echo")
public Q_SLOTS:
    QVariantMap Echo_(const QVariantMap &map) { return map; }
};

} // namespace

class TestDBusOptions : public QObject
{
    Q_OBJECT

    // Sends `in` to an echo object over a real peer-to-peer connection: `out` is the a{sv} as a
    // client receives it (structured values as QDBusArgument).
    void throughTheBus(const QVariantMap &in, QVariantMap &out)
    {
        QTemporaryDir dir;
        QDBusServer server(QStringLiteral("unix:path=") + dir.filePath(QStringLiteral("bus")));
        QVERIFY(server.isConnected());
        Echo echo;
        QDBusConnection *serverSide = nullptr;
        connect(&server, &QDBusServer::newConnection, this, [&](const QDBusConnection &c) {
            serverSide = new QDBusConnection(c);
            serverSide->registerObject(QStringLiteral("/echo"), &echo, QDBusConnection::ExportAllSlots);
        });
        QDBusConnection client = QDBusConnection::connectToPeer(server.address(), QStringLiteral("options-test"));
        QVERIFY(client.isConnected());
        QTRY_VERIFY(serverSide != nullptr);
        QDBusMessage call = QDBusMessage::createMethodCall(QString(), QStringLiteral("/echo"),
                                                           QStringLiteral("org.coffer.Test.Echo"),
                                                           QStringLiteral("Echo_"));
        call << in;
        QDBusPendingCall pending = client.asyncCall(call);
        QTRY_VERIFY(pending.isFinished());
        const QDBusMessage reply = pending.reply();
        QCOMPARE(reply.type(), QDBusMessage::ReplyMessage);
        out.clear();
        reply.arguments().first().value<QDBusArgument>() >> out;
        QDBusConnection::disconnectFromPeer(QStringLiteral("options-test"));
        delete serverSide;
    }

private Q_SLOTS:
    void createRoundTrip()
    {
        CreateOptions o;
        o.label = QStringLiteral("keys");
        o.pbkdf.memoryKiB = 16384;
        o.pbkdf.iterations = 4;
        const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        o.keyFile = QDBusUnixFileDescriptor(fd);
        ::close(fd);
        const CreateOptions back = decodeCreateOptions(encode(o));
        QCOMPARE(back.label, o.label);
        QCOMPARE(back.pbkdf.memoryKiB, 16384u);
        QCOMPARE(back.pbkdf.iterations, 4u);
        QCOMPARE(back.pbkdf.iterMs, 0u);
        QVERIFY(back.keyFile.isValid());
        QCOMPARE(decodeCreateOptions({}).label, QStringLiteral("vault"));
        QVERIFY(!decodeCreateOptions({}).keyFile.isValid());
    }

    void syncRoundTrip()
    {
        SyncOptions o;
        o.mode = Sync::Mode::Snapshot;
        o.excludes = {"*.tmp", "/build/"};
        o.dryRun = true;
        o.lockAfter = true;
        o.retention.keepLast = 3;
        o.retention.keepWeekly = 2;
        const SyncOptions back = decodeSyncOptions(encode(o));
        QVERIFY(back.mode == Sync::Mode::Snapshot);
        QCOMPARE(back.excludes, o.excludes);
        QVERIFY(back.dryRun && back.lockAfter && !back.checksum);
        QVERIFY(back.retention == o.retention);
        QVERIFY(decodeSyncOptions({}).mode == Sync::Mode::Mirror);
        QVERIFY(decodeLockOptions(encode(LockOptions{true})).force);
        QVERIFY(!decodeLockOptions({}).force);
        QVERIFY(decodeUnlockOptions(encode(UnlockOptions{true})).readOnly);
        QVERIFY(decodeUnlockOptions({}).lockOnSuspend);
        UnlockOptions leaveOpen;
        leaveOpen.lockOnSuspend = false;
        QVERIFY(!decodeUnlockOptions(encode(leaveOpen)).lockOnSuspend);
        QVERIFY(encode(UnlockOptions{}).isEmpty()); // the defaults travel as nothing
    }

    void badOptionsAreRefused_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QVariantMap>("options");
        const auto k = [](const char *key) { return QString::fromLatin1(key); };
        QTest::newRow("unknown key") << "Sync" << QVariantMap{{"bogus", true}};
        QTest::newRow("fsck is not an option") << "Unlock" << QVariantMap{{"fsck", false}};
        QTest::newRow("name is not an option") << "CreateVault" << QVariantMap{{"name", "x"}};
        QTest::newRow("lock-on-suspend as string") << "Unlock" << QVariantMap{{k(Key::LockOnSuspend), "no"}};
        QTest::newRow("bool as string") << "Lock" << QVariantMap{{k(Key::Force), "yes"}};
        QTest::newRow("number as string") << "CreateVault" << QVariantMap{{k(Key::PbkdfIterations), "4"}};
        QTest::newRow("negative") << "CreateVault" << QVariantMap{{k(Key::PbkdfMemoryKiB), -1}};
        QTest::newRow("too much memory") << "CreateVault" << QVariantMap{{k(Key::PbkdfMemoryKiB), 5u << 20}};
        QTest::newRow("too little memory") << "CreateVault" << QVariantMap{{k(Key::PbkdfMemoryKiB), 4u}};
        QTest::newRow("too many iterations") << "CreateVault" << QVariantMap{{k(Key::PbkdfIterations), 1001u}};
        // Each within its range, together beyond what a header may cost (core/block/kdflimits.h).
        QTest::newRow("iterations x memory") << "CreateVault"
                                             << QVariantMap{{k(Key::PbkdfIterations), 1000u},
                                                            {k(Key::PbkdfMemoryKiB), 4u << 20}};
        QTest::newRow("keyfile not an fd") << "CreateVault" << QVariantMap{{k(Key::KeyFile), 3}};
        QTest::newRow("invalid fd") << "CreateVault"
                                    << QVariantMap{{k(Key::KeyFile), QVariant::fromValue(QDBusUnixFileDescriptor())}};
        QTest::newRow("label with NUL") << "CreateVault" << QVariantMap{{k(Key::Label), QString(QChar(0))}};
        QTest::newRow("label of 5000 chars") << "CreateVault" << QVariantMap{{k(Key::Label), QString(5000, 'a')}};
        QTest::newRow("bad mode") << "Sync" << QVariantMap{{k(Key::Mode), "copy"}};
        QTest::newRow("exclude not a list") << "Sync" << QVariantMap{{k(Key::Exclude), "*.tmp"}};
        QTest::newRow("empty exclude") << "Sync" << QVariantMap{{k(Key::Exclude), QStringList{QString()}}};
        QTest::newRow("too many excludes") << "Sync" << QVariantMap{{k(Key::Exclude), QStringList(1025, "x")}};
        QTest::newRow("keep too large") << "Sync" << QVariantMap{{k(Key::KeepLast), 10001u}};
    }

    void badOptionsAreRefused()
    {
        QFETCH(QString, method);
        QFETCH(QVariantMap, options);
        const auto decode = [&] {
            if (method == QLatin1String("CreateVault"))
                decodeCreateOptions(options);
            else if (method == QLatin1String("Unlock"))
                decodeUnlockOptions(options);
            else if (method == QLatin1String("Lock"))
                decodeLockOptions(options);
            else
                decodeSyncOptions(options);
        };
        QCOMPARE(codeOf(decode), ErrorCode::InvalidArgument);
    }

    void everyEncodedKeyIsInTheSpecs()
    {
        SyncOptions s;
        s.excludes = {"x"};
        s.checksum = s.dryRun = s.lockAfter = true;
        s.retention = {1, 2, 3};
        CreateOptions c;
        c.pbkdf = {8, 9, 10, 0};
        const std::pair<const char *, QVariantMap> encoded[] = {
            {"Sync", encode(s)}, {"CreateVault", encode(c)}, {"Lock", encode(LockOptions{true})},
            {"Unlock", encode(UnlockOptions{true})}, {"SyncResult", encodeSyncResult({})},
            {"Medium", encodeMedium({})}};
        for (const auto &[dictionary, map] : encoded) {
            for (const QString &key : map.keys()) {
                const QByteArray k = key.toUtf8();
                bool found = false;
                for (const OptionSpec &spec : optionSpecs(dictionary))
                    found = found || spec.key == std::string_view(k.constData(), size_t(k.size()));
                QVERIFY2(found, qPrintable(QString::fromLatin1(dictionary) + ": " + key));
            }
        }
    }

    void jobOutcomeNames()
    {
        for (const JobOutcome o : {JobOutcome::Running, JobOutcome::Ok, JobOutcome::Partial,
                                   JobOutcome::Failed, JobOutcome::Cancelled})
            QVERIFY(jobOutcomeFromName(jobOutcomeName(o)) == o);
        QCOMPARE(jobOutcomeName(JobOutcome::Partial), QStringLiteral("partial"));
        QVERIFY(jobOutcomeFromName(QStringLiteral("bogus")) == JobOutcome::Failed);
    }

    void syncResultSurvivesTheBus()
    {
        Sync::Result r;
        r.dryRun = true;
        r.snapshot = "2026-12-02T101500Z";
        r.filesScanned = 12;
        r.bytesCopied = 1ull << 40;
        r.warnings = {{"ssh/\xff-not-utf8", "Permission denied", 13}};
        r.snapshotsRemoved = {"2026-11-01T000000Z"};
        r.plan.added = 2;
        r.plan.deleted = 1;
        r.plan.bytesToWrite = 4096;
        r.plan.bytesFree = 1 << 20;
        r.plan.fits = false;
        r.plan.items = {{Sync::PlanAction::Add, 'f', "ssh/id_ed25519", 411},
                        {Sync::PlanAction::Delete, 'd', std::string("gnupg/\x01\x80", 8), 0}};

        // Without a bus: the values as they were put in.
        Sync::Result local = decodeSyncResult(encodeSyncResult(r));
        QVERIFY(local == r);

        // Through a real connection: structs arrive as QDBusArgument and are demarshalled.
        QVariantMap map;
        throughTheBus(encodeSyncResult(r), map);
        const Sync::Result remote = decodeSyncResult(map);
        QVERIFY(remote == r);
    }

    void mediumSurvivesTheBus()
    {
        Media::Medium m;
        m.devNode = "/dev/sdb1";
        m.devnum = makedev(8, 17);
        m.fsUuid = "1234-ABCD";
        m.label = std::string("\xff\nlabel\0x", 9); // a FAT label need not be UTF-8
        m.fsType = "vfat";
        m.serial = "4C530001";
        m.vendor = "SanDisk";
        m.model = "Cruzer Blade";
        m.size = 16ull << 30;
        m.removable = true;
        m.mountPoints = {"/media/alice/MY STICK", std::string("/media/alice/\xfe\n", 15)};
        m.freeBytes = 1ull << 33;
        QCOMPARE(decodeMedium(encodeMedium(m)), m);
        QVariantMap map;
        throughTheBus(encodeMedium(m), map);
        QCOMPARE(decodeMedium(map), m);

        // Not mounted: no free space, and none invented on the way.
        m.mountPoints.clear();
        m.freeBytes.reset();
        QVERIFY(!encodeMedium(m).contains(QLatin1String(Key::FreeBytes)));
        throughTheBus(encodeMedium(m), map);
        QCOMPARE(decodeMedium(map), m);
    }

    void mediumFactsAreShownSafely()
    {
        Media::Medium m;
        m.vendor = "Evil\xe2\x80\xae\n";
        m.fsUuid = "\xff";
        const QVariantMap map = encodeMedium(m);
        QCOMPARE(map.value(QLatin1String(Key::Vendor)).toString(), QStringLiteral("Evil\uFFFD\uFFFD"));
        QCOMPARE(map.value(QLatin1String(Key::FsUuid)).toString(), QString(QChar::ReplacementCharacter));
    }

    void badMediaAreRefused()
    {
        QVariantMap map = encodeMedium({});
        map.insert(QStringLiteral("vaults"), QStringList{QStringLiteral("keys.coffer")}); // no file names
        QCOMPARE(codeOf([&] { decodeMedium(map); }), ErrorCode::InvalidArgument);
        map = encodeMedium({});
        map.insert(QLatin1String(Key::Label), QStringLiteral("a string, not bytes"));
        QCOMPARE(codeOf([&] { decodeMedium(map); }), ErrorCode::InvalidArgument);
        map = encodeMedium({});
        map.insert(QLatin1String(Key::Label), QByteArray(100000, 'x'));
        QCOMPARE(codeOf([&] { decodeMedium(map); }), ErrorCode::InvalidArgument);
        map = encodeMedium({});
        map.insert(QLatin1String(Key::MountPoints), QStringList{QStringLiteral("/media")});
        QCOMPARE(codeOf([&] { decodeMedium(map); }), ErrorCode::InvalidArgument);
        map = encodeMedium({});
        map.insert(QLatin1String(Key::MountPoints), QVariant::fromValue(QList<QByteArray>(65, "/m")));
        QCOMPARE(codeOf([&] { decodeMedium(map); }), ErrorCode::InvalidArgument);
        map = encodeMedium({});
        map.insert(QLatin1String(Key::Size), -1);
        QCOMPARE(codeOf([&] { decodeMedium(map); }), ErrorCode::InvalidArgument);
    }

    void resultItemsAreCapped()
    {
        Sync::Result r;
        r.plan.items.resize(maxResultItems + 5, {Sync::PlanAction::Add, 'f', "x", 1});
        const QVariantMap map = encodeSyncResult(r);
        QCOMPARE(map.value(QLatin1String(Key::PlanItemsDropped)).toULongLong(), 5ull);
        const Sync::Result decoded = decodeSyncResult(map);
        QCOMPARE(decoded.plan.items.size(), maxResultItems);
        QCOMPARE(decoded.plan.itemsDropped, 5ull);
        // Sent on again (the app hands a dry run to its preview), the count is not lost.
        QCOMPARE(encodeSyncResult(decoded).value(QLatin1String(Key::PlanItemsDropped)).toULongLong(), 5ull);
    }
};

QTEST_GUILESS_MAIN(TestDBusOptions)
#include "test_dbus_options.moc"
