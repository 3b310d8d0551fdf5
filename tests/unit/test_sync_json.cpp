// JSON lines of the sync engine: what cofferctl --json prints and the helper's child pipe carries.

#include "sync/syncengine.h"

#include <QJsonDocument>
#include <QJsonObject>
#include "testerror.h"

#include <QTest>

using namespace Coffer;
using namespace Coffer::Sync;


class TestSyncJson : public QObject
{
    Q_OBJECT

private slots:
    void progressRoundTrip()
    {
        Progress p;
        p.phase = Phase::Copy;
        p.filesDone = 3;
        p.filesTotal = 100000000000ull;
        p.bytesDone = 1ull << 62;
        p.bytesTotal = ~0ull;
        p.currentItem = std::string("src/new\nline \"q\" \\ \xc3\xa9 bad\xff\xfe end\x01", 30);
        const std::string line = toJsonLine(p);
        QVERIFY(line.back() == '\n');
        QCOMPARE(std::count(line.begin(), line.end(), '\n'), 1);
        const Message m = parseJsonLine(line);
        QVERIFY(std::holds_alternative<Progress>(m));
        QVERIFY(std::get<Progress>(m) == p);
        // Valid UTF-8 JSON that a stock parser reads.
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(line));
        QVERIFY(doc.isObject());
        QCOMPARE(doc.object().value("phase").toString(), QString("copy"));
    }

    void resultRoundTrip()
    {
        Result r;
        r.outcome = Outcome::Partial;
        r.dryRun = true;
        r.durable = true;
        r.usedManifest = true;
        r.snapshot = "2026-11-22T101010Z";
        r.filesScanned = 10;
        r.filesCopied = 5;
        r.filesLinked = 2;
        r.filesDeleted = 1;
        r.itemsUpdated = 4;
        r.bytesCopied = 12345;
        r.warningsDropped = 7;
        r.warnings.push_back({"src/a\xff", "Cannot open the file: Permission denied", 13});
        r.warnings.push_back({"", "no path", 0});
        r.snapshotsRemoved = {"2026-01-01T000000Z"};
        r.plan.added = 1;
        r.plan.updated = 2;
        r.plan.metadataOnly = 3;
        r.plan.deleted = 4;
        r.plan.unchanged = 5;
        r.plan.bytesToWrite = 6;
        r.plan.bytesToDelete = 7;
        r.plan.bytesFree = 8;
        r.plan.fits = false;
        r.plan.items.push_back({PlanAction::Delete, 'd', "src/old dir", 0});
        r.plan.items.push_back({PlanAction::Add, 'h', "src/link", 0});
        r.plan.items.push_back({PlanAction::Update, 'f', "src/\xe6\x97\xa5", 99});
        const Message m = parseJsonLine(toJsonLine(r));
        QVERIFY(std::holds_alternative<Result>(m));
        QVERIFY(std::get<Result>(m) == r);
    }

    void errorAndOptionsRoundTrip()
    {
        const ErrorReport e = errorReport(Error::fromErrno(28, "Cannot write src/x"));
        QCOMPARE(e.code, ErrorCode::NoSpace);
        const Message m = parseJsonLine(toJsonLine(e));
        QVERIFY(std::holds_alternative<ErrorReport>(m));
        QVERIFY(std::get<ErrorReport>(m) == e);
        for (const ErrorKind &kind : errorKinds) {
            const ErrorReport each{kind.code, 0, "x"};
            QVERIFY(std::get<ErrorReport>(parseJsonLine(toJsonLine(each))) == each);
        }
        // A code this side does not know is a plain failure, its message kept.
        std::string unknown = toJsonLine(ErrorReport{ErrorCode::Busy, 0, "why"});
        unknown.replace(unknown.find("\"Busy\""), 6, "\"Later\"");
        const ErrorReport later = std::get<ErrorReport>(parseJsonLine(unknown));
        QCOMPARE(later.code, ErrorCode::Failed);
        QCOMPARE(later.message, std::string("why"));

        Options o;
        o.sources = {{"/home/a/b\xff", "b\xff"}, {"/x", "x"}};
        o.destination = "/run/coffer/1000/vault";
        o.mode = Mode::Snapshot;
        o.excludes = {"*.tmp", "/build/"};
        o.dryRun = true;
        o.checksum = true;
        o.xattrs = false;
        o.durable = false;
        o.useManifest = false;
        o.retention = {3, 7, 4};
        o.progressIntervalMs = 250;
        const Message mo = parseJsonLine(toJsonLine(o));
        QVERIFY(std::holds_alternative<Options>(mo));
        QVERIFY(std::get<Options>(mo) == o);
    }

    void rejectsGarbage_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::newRow("empty") << QByteArray("");
        QTest::newRow("not json") << QByteArray("hello");
        QTest::newRow("array") << QByteArray("[1,2]");
        QTest::newRow("unknown type") << QByteArray("{\"type\":\"x\"}");
        QTest::newRow("unterminated") << QByteArray("{\"type\":\"progress\",\"phase\":\"copy");
        QTest::newRow("bad phase") << QByteArray("{\"type\":\"progress\",\"phase\":\"zzz\"}");
        QTest::newRow("negative count") << QByteArray("{\"type\":\"progress\",\"phase\":\"copy\",\"filesDone\":-1}");
        QTest::newRow("string count") << QByteArray("{\"type\":\"progress\",\"phase\":\"copy\",\"filesDone\":\"1\"}");
        QTest::newRow("lone surrogate") << QByteArray("{\"type\":\"progress\",\"phase\":\"copy\",\"item\":\"\\ud800\"}");
        QTest::newRow("trailing") << QByteArray("{\"type\":\"error\"} x");
        QTest::newRow("deep") << QByteArray(100, '[');
    }
    void rejectsGarbage()
    {
        QFETCH(QByteArray, line);
        QVERIFY(Coffer::Test::throwsError([&] { parseJsonLine(line.toStdString()); }));
    }
};

QTEST_GUILESS_MAIN(TestSyncJson)
#include "test_sync_json.moc"
