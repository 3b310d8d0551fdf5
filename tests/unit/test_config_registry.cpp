// L0: the registry of vaults (core/config) on real files in a temporary XDG config home — the
// JSON format both ways with hostile bytes, fields of a newer version kept, corrupt and
// unreadable files moved aside and reported (never reset), a newer file never written,
// staleness, and two processes writing and watching the same file (this test's own binary,
// started again as a writer).

#include "config/registry.h"
#include "error.h"
#include "testerror.h"

#include <QCoreApplication>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

#include <cstdlib>

using namespace Coffer;
using namespace Coffer::Config;
using Coffer::Test::codeOf;
using Coffer::Test::messageOf;

namespace {

const QDateTime noon = QDateTime::fromString(QStringLiteral("2025-01-31T12:00:00Z"), Qt::ISODate);

// A canonical LUKS UUID numbered n.
std::string uuidNo(int n)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "0b1e5a7c-3f2d-4c8e-9a61-%012x", n);
    return buf;
}

VaultEntry fullEntry(int n)
{
    VaultEntry v;
    v.luksUuid = uuidNo(n);
    v.name = "keys";
    v.medium = {"1234-ABCD", "4C530001", "MY STICK"};
    v.path = "backups/keys.coffer";
    v.sources = {"/home/alice/.ssh", "/home/alice/.gnupg"};
    v.excludes = {"*.tmp", "/cache/"};
    v.mode = Sync::Mode::Snapshot;
    v.retention = {10, 7, 4};
    v.trigger = Trigger::Backup;
    v.lock = {false, true, 15, false, 120};
    v.secretSource = SecretSource::KeyFile;
    v.keyFile = "/home/alice/.config/coffer/keys.key";
    v.staleAfterDays = 3;
    v.lastSync = SyncRecord{noon, Helper1::JobOutcome::Partial, 12345, 67};
    v.lastSuccess = noon;
    return v;
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeFile(const QString &path, const QByteArray &data)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(data), data.size());
}

// Started as this test's binary with COFFER_TEST_REGISTRY_WRITER="<path> <role> <count>":
// "put" adds vaults 1000*role + i and rewrites the shared vault 1's sources each time;
// "sync" records a sync of the shared vault each time.
int runWriter(const QString &spec)
{
    const QStringList parts = spec.split(QLatin1Char(' '));
    Registry registry(parts.value(0).toStdString());
    const int role = parts.value(1).toInt();
    const int count = parts.value(2).toInt();
    try {
        registry.load();
        for (int i = 0; i < count; ++i) {
            if (role == 1 || role == 3) {
                VaultEntry v = fullEntry(1000 * role + i);
                v.lastSync.reset();
                registry.putVault(v);
                VaultEntry shared = *registry.vault(uuidNo(1));
                shared.sources = {"/from/writer/" + std::to_string(role) + "/" + std::to_string(i)};
                registry.putVault(shared);
            } else {
                registry.recordSync(uuidNo(1), {noon.addSecs(i), Helper1::JobOutcome::Ok, uint64_t(i), 1});
            }
        }
    } catch (const Error &e) {
        std::fprintf(stderr, "writer: %s\n", e.what());
        return 1;
    }
    return 0;
}

} // namespace

class TestConfigRegistry : public QObject
{
    Q_OBJECT

    QTemporaryDir m_home;
    QString m_path;
    int m_run = 0;

    std::string path() const { return m_path.toStdString(); }
    QString dir() const { return QFileInfo(m_path).path(); }

    QStringList asideFiles() const
    {
        return QDir(dir()).entryList({QStringLiteral("vaults.json.corrupt-*")}, QDir::Files | QDir::Dirs);
    }

    // The registry file as another program left it.
    void writeRegistryFile(const QByteArray &text)
    {
        QDir().mkpath(dir());
        writeFile(m_path, text);
    }

    QProcess *startWriter(int role, int count)
    {
        auto *p = new QProcess(this);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("COFFER_TEST_REGISTRY_WRITER"),
                   QStringLiteral("%1 %2 %3").arg(m_path).arg(role).arg(count));
        p->setProcessEnvironment(env);
        p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p->start(QCoreApplication::applicationFilePath(), {});
        return p;
    }

private Q_SLOTS:
    void init()
    {
        // A config home of its own for every test function and data row.
        const QString config = m_home.filePath(QString::number(++m_run));
        m_path = config + QStringLiteral("/coffer/vaults.json");
    }

    void defaultPathFollowsXdg()
    {
        const QByteArray xdg = qgetenv("XDG_CONFIG_HOME"), home = qgetenv("HOME");
        qputenv("XDG_CONFIG_HOME", "/srv/conf");
        QCOMPARE(Registry::defaultPath(), std::string("/srv/conf/coffer/vaults.json"));
        qputenv("XDG_CONFIG_HOME", "relative/conf"); // the XDG spec: relative values are ignored
        qputenv("HOME", "/home/alice");
        QCOMPARE(Registry::defaultPath(), std::string("/home/alice/.config/coffer/vaults.json"));
        qunsetenv("XDG_CONFIG_HOME");
        QCOMPARE(Registry::defaultPath(), std::string("/home/alice/.config/coffer/vaults.json"));
        qputenv("HOME", home);
        if (!xdg.isNull())
            qputenv("XDG_CONFIG_HOME", xdg);
    }

    void missingFileIsAnEmptyRegistry()
    {
        Registry r(path());
        r.load();
        QVERIFY(r.vaults().empty());
        QVERIFY(r.problems().empty());
        QVERIFY(!QFile::exists(m_path)); // reading creates nothing
        QCOMPARE(r.settings().staleAfterDays, 7);
    }

    void everyFieldRoundTrips()
    {
        Registry r(path());
        r.load();
        const VaultEntry v = fullEntry(1);
        r.putVault(v);
        r.recordSync(v.luksUuid, *v.lastSync);
        Registry again(path());
        again.load();
        QCOMPARE(again.vaults().size(), size_t(1));
        QVERIFY(again.vaults().front().sameFields(v));

        // The file says what the documentation in registrydocument.h says.
        const QJsonObject root = QJsonDocument::fromJson(readFile(m_path)).object();
        QCOMPARE(root.value(QStringLiteral("version")).toInt(), 1);
        const QJsonObject e = root.value(QStringLiteral("vaults")).toObject().value(QString::fromStdString(v.luksUuid)).toObject();
        QCOMPARE(e.value(QStringLiteral("trigger")).toString(), QStringLiteral("backup"));
        QCOMPARE(e.value(QStringLiteral("mode")).toString(), QStringLiteral("snapshot"));
        QCOMPARE(e.value(QStringLiteral("secret")).toObject().value(QStringLiteral("source")).toString(),
                 QStringLiteral("key-file"));
        QCOMPARE(e.value(QStringLiteral("last-sync")).toObject().value(QStringLiteral("outcome")).toString(),
                 QStringLiteral("partial"));
        QCOMPARE(e.value(QStringLiteral("last-success")).toString(), QStringLiteral("2025-01-31T12:00:00Z"));
        QCOMPARE(e.value(QStringLiteral("medium")).toObject().value(QStringLiteral("label")).toString(),
                 QStringLiteral("MY STICK"));

        // Defaults: the optional policies are absent (they follow the application's settings).
        VaultEntry plain;
        plain.luksUuid = uuidNo(2);
        r.putVault(plain);
        const QJsonObject p = QJsonDocument::fromJson(readFile(m_path))
                                  .object()
                                  .value(QStringLiteral("vaults"))
                                  .toObject()
                                  .value(QString::fromStdString(plain.luksUuid))
                                  .toObject();
        QVERIFY(!p.contains(QStringLiteral("stale-after-days")));
        QVERIFY(!p.contains(QStringLiteral("last-sync")));
        QVERIFY(!p.value(QStringLiteral("lock")).toObject().contains(QStringLiteral("idle-minutes")));
        QVERIFY(!p.value(QStringLiteral("lock")).toObject().contains(QStringLiteral("max-open-minutes")));
        QCOMPARE(e.value(QStringLiteral("lock")).toObject().value(QStringLiteral("max-open-minutes")).toInt(), 120);
        QVERIFY(r.vault(plain.luksUuid)->sameFields(plain));
    }

    void bytesComeBackByteForByte()
    {
        const std::string cases[] = {"plain", "Schl\xc3\xbcssel", "\xff\xfe not utf-8", std::string("nul\0inside", 10),
                                     "new\nline", "\xef\xbb\xbf" "bom first", "\xed\xa0\x80 surrogate", ""};
        for (const std::string &s : cases) {
            const QJsonValue j = bytesToJson(s);
            QCOMPARE(bytesFromJson(j), s);
        }
        QVERIFY(bytesToJson("plain").isString());
        QVERIFY(bytesToJson("\xff").isObject());
        QCOMPARE(codeOf([] { bytesFromJson(QJsonValue(3)); }), ErrorCode::Failed);
        QCOMPARE(codeOf([] { bytesFromJson(QJsonObject{{"base64", "!!!"}}); }), ErrorCode::Failed);
        QCOMPARE(codeOf([] { bytesFromJson(QJsonObject{{"base64", "AA=="}, {"x", 1}}); }), ErrorCode::Failed);

        Registry r(path());
        VaultEntry v = fullEntry(1);
        v.path = "\xff\n/../keys \x01.coffer";
        v.medium.label = "\xe9t\xe9"; // latin-1 bytes from an old FAT label
        v.sources = {"/home/alice/\x80\x81"};
        v.name = std::string(300, '\xfe');
        r.putVault(v);
        Registry again(path());
        again.load();
        QVERIFY(again.vault(v.luksUuid)->sameFields(v));
    }

    void unknownFieldsSurvive()
    {
        const QByteArray text = "{\n"
            "          \"version\": 1,\n"
            "          \"from-the-future\": {\"a\": [1, 2, 3]},\n"
            "          \"settings\": {\"stale-after-days\": 5, \"theme\": \"dark\"},\n"
            "          \"vaults\": {\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000001\": {\n"
            "              \"name\": \"keys\", \"color\": \"red\",\n"
            "              \"medium\": {\"fs-uuid\": \"1234-ABCD\", \"bus\": \"usb\"},\n"
            "              \"lock\": {\"on-suspend\": false, \"on-hibernate\": true},\n"
            "              \"last-sync\": {\"time\": \"2025-01-30T10:00:00Z\", \"outcome\": \"ok\", \"bytes\": 1, \"files\": 1, \"took-ms\": 99},\n"
            "              \"last-success\": \"2025-01-30T10:00:00Z\"\n"
            "            }\n"
            "          }\n"
            "        }";
        writeRegistryFile(text);
        Registry r(path());
        r.load();
        QCOMPARE(r.settings().staleAfterDays, 5);
        QVERIFY(!r.vault(uuidNo(1))->lock.onSuspend);
        r.recordSync(uuidNo(1), {noon, Helper1::JobOutcome::Failed, 0, 0});
        VaultEntry v = *r.vault(uuidNo(1));
        v.sources = {"/home/alice/docs"};
        r.putVault(v);
        Settings s = r.settings();
        s.notifications = false;
        s.maxOpenMinutes = 90;
        r.setSettings(s);

        const QJsonObject root = QJsonDocument::fromJson(readFile(m_path)).object();
        QCOMPARE(root.value(QStringLiteral("from-the-future")).toObject().value(QStringLiteral("a")).toArray().size(), 3);
        QCOMPARE(root.value(QStringLiteral("settings")).toObject().value(QStringLiteral("theme")).toString(),
                 QStringLiteral("dark"));
        QCOMPARE(root.value(QStringLiteral("settings")).toObject().value(QStringLiteral("notifications")).toBool(true),
                 false);
        QCOMPARE(root.value(QStringLiteral("settings")).toObject().value(QStringLiteral("max-open-minutes")).toInt(), 90);
        Registry reread(path());
        reread.load();
        QCOMPARE(reread.settings().maxOpenMinutes, 90);
        const QJsonObject e = root.value(QStringLiteral("vaults")).toObject().value(QString::fromStdString(uuidNo(1))).toObject();
        QCOMPARE(e.value(QStringLiteral("color")).toString(), QStringLiteral("red"));
        QCOMPARE(e.value(QStringLiteral("medium")).toObject().value(QStringLiteral("bus")).toString(), QStringLiteral("usb"));
        QCOMPARE(e.value(QStringLiteral("lock")).toObject().value(QStringLiteral("on-hibernate")).toBool(), true);
        const QJsonObject last = e.value(QStringLiteral("last-sync")).toObject();
        QCOMPARE(last.value(QStringLiteral("took-ms")).toInt(), 99);
        QCOMPARE(last.value(QStringLiteral("outcome")).toString(), QStringLiteral("failed"));
        // A failed sync is recorded, but the last success stays the one before it.
        QCOMPARE(e.value(QStringLiteral("last-success")).toString(), QStringLiteral("2025-01-30T10:00:00Z"));
    }

    void unreadableEntriesAreKeptNotUsed()
    {
        const QByteArray text = "{\"version\": 1, \"vaults\": {\n"
            "            \"not-a-uuid\": {\"name\": \"x\"},\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000001\": {\"name\": \"good\"},\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000002\": {\"mode\": 5},\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000003\": \"a string\",\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000004\": {\"last-sync\": {\"time\": \"yesterday\", \"outcome\": \"ok\"}},\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000005\": {\"last-sync\": {\"time\": \"2025-01-30T10:00:00Z\", \"outcome\": \"running\"}},\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000006\": {\"retention\": {\"keep-last\": -1}},\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000007\": {\"sources\": [\"/a\", 7]},\n"
            "            \"0b1e5a7c-3f2d-4c8e-9a61-000000000008\": {\"trigger\": \"sometimes\"}\n"
            "          }, \"settings\": {\"stale-after-days\": \"seven\", \"idle-lock-minutes\": 1.5}}";
        writeRegistryFile(text);
        Registry r(path());
        r.load();
        QCOMPARE(r.vaults().size(), size_t(1));
        QCOMPARE(r.vaults().front().name, std::string("good"));
        QCOMPARE(r.problems().size(), size_t(10)); // eight entries and two settings
        QCOMPARE(r.settings().staleAfterDays, 7);
        QCOMPARE(r.settings().idleLockMinutes, 0);
        QVERIFY(asideFiles().isEmpty()); // bad entries are not a corrupt file
        // A write keeps the unreadable entries exactly as they were.
        r.recordSync(uuidNo(1), {noon, Helper1::JobOutcome::Ok, 1, 1});
        const QJsonObject vaults = QJsonDocument::fromJson(readFile(m_path)).object().value(QStringLiteral("vaults")).toObject();
        QCOMPARE(vaults.size(), 9);
        QCOMPARE(vaults.value(QStringLiteral("not-a-uuid")).toObject().value(QStringLiteral("name")).toString(),
                 QStringLiteral("x"));
        QCOMPARE(vaults.value(QString::fromStdString(uuidNo(3))).toString(), QStringLiteral("a string"));
    }

    void corruptFilesAreSetAside_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("garbage") << QByteArray("\x00\xff garbage", 10);
        QTest::newRow("truncated") << QByteArray("{\"version\": 1, \"vaults\": {\"0b1e5a7c-3f2d");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("array") << QByteArray("[1, 2]");
        QTest::newRow("no version") << QByteArray("{\"vaults\": {}}");
        QTest::newRow("version a string") << QByteArray("{\"version\": \"1\"}");
        QTest::newRow("vaults a list") << QByteArray("{\"version\": 1, \"vaults\": []}");
        QTest::newRow("settings a number") << QByteArray("{\"version\": 1, \"settings\": 3}");
        QTest::newRow("too large") << QByteArray(17 << 20, ' ');
    }

    void corruptFilesAreSetAside()
    {
        QFETCH(QByteArray, content);
        writeRegistryFile(content);
        Registry r(path());
        const std::string message = messageOf([&] { r.load(); });
        QCOMPARE(codeOf([&] { Registry(path()).load(); }), Test::NoError); // the file is gone now: empty
        QVERIFY2(message.find(".corrupt-") != std::string::npos, message.c_str());
        QVERIFY(message.find(path()) != std::string::npos);
        QVERIFY(r.vaults().empty());
        QVERIFY(!QFile::exists(m_path));
        const QStringList aside = asideFiles();
        QCOMPARE(aside.size(), 1);
        QCOMPARE(readFile(dir() + QLatin1Char('/') + aside.front()), content); // kept byte for byte
        // The registry goes on with a new file; the old one stays where it was put.
        r.putVault(fullEntry(1));
        QVERIFY(QFile::exists(m_path));
        QCOMPARE(asideFiles(), aside);
    }

    void unreadableFileIsSetAsideToo()
    {
        QDir().mkpath(m_path); // a directory where the file should be
        Registry r(path());
        const std::string message = messageOf([&] { r.load(); });
        QVERIFY2(message.find("cannot be read") != std::string::npos, message.c_str());
        QCOMPARE(asideFiles().size(), 1);
        r.putVault(fullEntry(1));
        Registry again(path());
        again.load();
        QCOMPARE(again.vaults().size(), size_t(1));
    }

    void twoCorruptFilesInOneSecond()
    {
        for (int i = 0; i < 3; ++i) {
            writeRegistryFile("broken " + QByteArray::number(i));
            Registry r(path());
            QCOMPARE(codeOf([&] { r.load(); }), ErrorCode::Failed);
        }
        // Whatever the clock did, three files were set aside and none overwrote another.
        QStringList contents;
        for (const QString &f : asideFiles())
            contents << QString::fromLatin1(readFile(dir() + QLatin1Char('/') + f));
        contents.sort();
        QCOMPARE(contents, (QStringList{"broken 0", "broken 1", "broken 2"}));
    }

    void aNewerFileIsReadNeverWritten()
    {
        const QByteArray text = "{\"version\": 2, \"vaults\": {\"0b1e5a7c-3f2d-4c8e-9a61-000000000001\": {\"name\": \"keys\", \"new-thing\": 1}}}";
        writeRegistryFile(text);
        Registry r(path());
        r.load();
        QVERIFY(r.readOnly());
        QCOMPARE(r.vaults().size(), size_t(1));
        QCOMPARE(codeOf([&] { r.putVault(fullEntry(2)); }), ErrorCode::NotSupported);
        QCOMPARE(codeOf([&] { r.recordSync(uuidNo(1), {noon, Helper1::JobOutcome::Ok, 0, 0}); }),
                 ErrorCode::NotSupported);
        QCOMPARE(readFile(m_path), text);

        // A structure this version cannot read at all is the newer version's business: kept.
        const QByteArray odd = "{\"version\": 3, \"vaults\": [\"a\", \"list\"]}";
        writeRegistryFile(odd);
        Registry r3(path());
        r3.load();
        QVERIFY(r3.readOnly());
        QVERIFY(r3.vaults().empty());
        QCOMPARE(r3.problems().size(), size_t(1));
        QVERIFY(asideFiles().isEmpty());
        QCOMPARE(readFile(m_path), odd);
    }

    void writesArePrivateAndLeaveNothingBehind()
    {
        Registry r(path());
        r.putVault(fullEntry(1));
        r.putVault(fullEntry(2));
        struct stat st;
        QCOMPARE(::stat(path().c_str(), &st), 0);
        QCOMPARE(st.st_mode & 07777, mode_t(0600));
        QCOMPARE(::stat(QFile::encodeName(dir()).constData(), &st), 0);
        QCOMPARE(st.st_mode & 07777, mode_t(0700));
        QCOMPARE(QDir(dir()).entryList(QDir::Files | QDir::Hidden | QDir::System),
                 (QStringList{"vaults.json", "vaults.json.lock"}));
        QVERIFY(r.removeVault(uuidNo(1)));
        QVERIFY(!r.removeVault(uuidNo(1)));
        QCOMPARE(r.vaults().size(), size_t(1));
        QCOMPARE(codeOf([&] {
                     VaultEntry bad;
                     bad.luksUuid = "../../etc";
                     r.putVault(bad);
                 }),
                 ErrorCode::InvalidArgument);
    }

    void putKeepsTheSyncHistory()
    {
        Registry r(path());
        VaultEntry v = fullEntry(1);
        v.lastSync.reset();
        v.lastSuccess.reset();
        r.putVault(v);
        QCOMPARE(codeOf([&] { r.recordSync(uuidNo(9), {noon, Helper1::JobOutcome::Ok, 0, 0}); }), ErrorCode::NotFound);
        r.recordSync(uuidNo(1), {noon, Helper1::JobOutcome::Ok, 10, 2});
        // Another process (here: another object) still has the entry as it was before the sync.
        v.sources = {"/home/alice/new"};
        Registry other(path());
        other.putVault(v);
        other.load();
        const VaultEntry now = *other.vault(uuidNo(1));
        QCOMPARE(now.sources, v.sources);
        QVERIFY(now.lastSync && now.lastSync->bytes == 10);
        QCOMPARE(*now.lastSuccess, noon);
        // Upper-case UUIDs name the same vault.
        VaultEntry upper = v;
        upper.luksUuid = QString::fromStdString(v.luksUuid).toUpper().toStdString();
        other.putVault(upper);
        QCOMPARE(other.vaults().size(), size_t(1));
        QVERIFY(other.vault(upper.luksUuid));
    }

    void staleness_data()
    {
        QTest::addColumn<QString>("lastSuccess"); // empty: never
        QTest::addColumn<int>("ownPolicy");       // 0: the application's (7 days)
        QTest::addColumn<bool>("stale");
        QTest::newRow("never synced") << QString() << 0 << true;
        QTest::newRow("an hour ago") << "2025-01-31T11:00:00Z" << 0 << false;
        QTest::newRow("six days") << "2025-01-25T12:00:00Z" << 0 << false;
        QTest::newRow("seven days exactly") << "2025-01-24T12:00:00Z" << 0 << true;
        QTest::newRow("a month") << "2024-12-31T12:00:00Z" << 0 << true;
        QTest::newRow("own policy: 3 days, 4 ago") << "2025-01-27T12:00:00Z" << 3 << true;
        QTest::newRow("own policy: 30 days, 8 ago") << "2025-01-23T12:00:00Z" << 30 << false;
        QTest::newRow("in the future (clock went back)") << "2025-03-01T00:00:00Z" << 0 << false;
    }

    void staleness()
    {
        QFETCH(QString, lastSuccess);
        QFETCH(int, ownPolicy);
        QFETCH(bool, stale);
        VaultEntry v;
        if (!lastSuccess.isEmpty())
            v.lastSuccess = QDateTime::fromString(lastSuccess, Qt::ISODate);
        if (ownPolicy)
            v.staleAfterDays = ownPolicy;
        const Staleness s = Config::staleness(v, Settings{}, noon);
        QCOMPARE(s.stale, stale);
        QCOMPARE(s.neverSynced, lastSuccess.isEmpty());
        QCOMPARE(s.limitDays, ownPolicy ? ownPolicy : 7);
        QVERIFY(s.ageSeconds >= 0);
    }

    void aFailedSyncDoesNotFreshen()
    {
        Registry r(path());
        VaultEntry v = fullEntry(1);
        v.staleAfterDays.reset();
        r.putVault(v);
        r.recordSync(v.luksUuid, {noon.addDays(-10), Helper1::JobOutcome::Ok, 1, 1});
        r.recordSync(v.luksUuid, {noon, Helper1::JobOutcome::Failed, 0, 0});
        QVERIFY(r.staleness(*r.vault(v.luksUuid), noon).stale);
        r.recordSync(v.luksUuid, {noon, Helper1::JobOutcome::Cancelled, 0, 0});
        QVERIFY(r.staleness(*r.vault(v.luksUuid), noon).stale);
        r.recordSync(v.luksUuid, {noon, Helper1::JobOutcome::Partial, 0, 0});
        QVERIFY(!r.staleness(*r.vault(v.luksUuid), noon).stale);
        Settings s = r.settings();
        s.staleAfterDays = 1;
        r.setSettings(s);
        QVERIFY(r.staleness(*r.vault(v.luksUuid), noon.addDays(2)).stale);
    }

    void vaultsOnAMedium()
    {
        Registry r(path());
        VaultEntry a = fullEntry(1);                          // fs UUID 1234-ABCD
        VaultEntry b = fullEntry(2);
        b.medium = {"", "SERIAL-B", "NOUUID"};               // a filesystem without a UUID
        VaultEntry c = fullEntry(3);
        c.medium = {"", "", "MY STICK"};                      // a label alone never matches
        r.putVault(a);
        r.putVault(b);
        r.putVault(c);
        Media::Medium m;
        m.fsUuid = "1234-ABCD";
        m.serial = "4C530001";
        m.label = "MY STICK";
        QCOMPARE(r.vaultsOn(m).size(), size_t(1));
        QCOMPARE(r.vaultsOn(m).front().luksUuid, a.luksUuid);
        m.fsUuid = "9999-0000"; // reformatted: same stick, another filesystem
        QVERIFY(r.vaultsOn(m).empty());
        m = {};
        m.serial = "SERIAL-B";
        m.label = "NOUUID";
        QCOMPARE(r.vaultsOn(m).size(), size_t(1));
        QCOMPARE(r.vaultsOn(m).front().luksUuid, b.luksUuid);
        m.label = "RENAMED";
        QVERIFY(r.vaultsOn(m).empty());
    }

    // Two processes change the same file at once (one adds vaults and edits the shared one's
    // folders, the other records syncs of it): nothing is lost.
    void concurrentWritersLoseNothing()
    {
        Registry r(path());
        VaultEntry shared = fullEntry(1);
        shared.lastSync.reset();
        r.putVault(shared);
        constexpr int count = 40;
        QProcess *a = startWriter(1, count);
        QProcess *b = startWriter(2, count);
        QProcess *c = startWriter(3, count);
        for (QProcess *p : {a, b, c}) {
            QVERIFY(p->waitForFinished(120000));
            QCOMPARE(p->exitStatus(), QProcess::NormalExit);
            QCOMPARE(p->exitCode(), 0);
        }
        r.load();
        QVERIFY(r.problems().empty());
        QCOMPARE(r.vaults().size(), size_t(1 + 2 * count));
        const VaultEntry now = *r.vault(uuidNo(1));
        QVERIFY(now.lastSync);
        QCOMPARE(now.lastSync->bytes, uint64_t(count - 1)); // the sync writer's last record
        QCOMPARE(*now.lastSuccess, noon.addSecs(count - 1));
        QCOMPARE(now.sources.size(), size_t(1));
        QVERIFY(now.sources.front() == "/from/writer/1/" + std::to_string(count - 1)
                || now.sources.front() == "/from/writer/3/" + std::to_string(count - 1));
    }

    void anotherProcessIsNoticed()
    {
        Registry r(path());
        r.load();
        r.watch();
        QSignalSpy changed(&r, &Registry::changed);
        QSignalSpy failed(&r, &Registry::loadFailed);

        // Our own write: one changed(), not a second one from the watcher.
        r.putVault(fullEntry(1));
        QCOMPARE(changed.count(), 1);
        QTest::qWait(200);
        QCOMPARE(changed.count(), 1);

        // Another process's write is noticed and read.
        changed.clear();
        QProcess *writer = startWriter(3, 1);
        QVERIFY(writer->waitForFinished(60000));
        QCOMPARE(writer->exitCode(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(r.vault(uuidNo(3000)).has_value(), 10000);
        QVERIFY(changed.count() >= 1);

        // An edit in place (an editor, a script) is noticed too.
        changed.clear();
        QByteArray text = readFile(m_path);
        text.replace("\"keys\"", "\"renamed\"");
        {
            QFile f(m_path);
            QVERIFY(f.open(QIODevice::ReadWrite));
            QCOMPARE(f.write(text), text.size());
            f.resize(text.size());
        }
        QTRY_VERIFY_WITH_TIMEOUT(r.vault(uuidNo(1))->name == "renamed", 10000);

        // Garbage written by someone else (or an edit caught half-way) is reported; what was
        // last read stays in use and the file is left alone.
        writeFile(m_path, "not json");
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
        QVERIFY(r.vault(uuidNo(1)));
        QVERIFY(asideFiles().isEmpty());
        QCOMPARE(readFile(m_path), QByteArray("not json"));
        // The next change sets it aside, says where, and goes on with a new list.
        r.putVault(fullEntry(5));
        QCOMPARE(failed.count(), 2);
        QVERIFY(failed.back().front().toString().contains(QStringLiteral(".corrupt-")));
        QCOMPARE(asideFiles().size(), 1);
        QCOMPARE(r.vaults().size(), size_t(1));
        QVERIFY(r.vault(uuidNo(5)));
    }
};

int main(int argc, char **argv)
{
    if (const char *writer = std::getenv("COFFER_TEST_REGISTRY_WRITER"))
        return runWriter(QString::fromLocal8Bit(writer));
    QCoreApplication app(argc, argv);
    TestConfigRegistry test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_config_registry.moc"
