// A hostile destination: the vault is someone's file, so what the sync engine reads from it (the
// manifest of the last run) may have been written by an attacker. Whatever it says, the engine
// writes and deletes only beneath the destination. Plain directories on this host: no dm needed.

#include "block/uniquefd.h"
#include "forge.h"
#include "test_sync_util.h"

#include <QTest>

#include <fcntl.h>
#include <sys/stat.h>

using namespace Coffer;
using namespace SyncTest;

class TestSyncHostile : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::string base() const { return m_tmp.path().toStdString(); }

private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }
    void cleanupTestCase() { removeAll(base()); }

    // A manifest entry is a name in a directory: "../../../victim" from current/src/ is a file
    // next to the destination, "." and ".." are directories of the destination itself.
    void manifestNamesStayBeneathTheDestination_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::newRow("up and out") << QByteArray("../../../victim");
        QTest::newRow("down then out") << QByteArray("a/../../../../victim");
        QTest::newRow("dotdot") << QByteArray("..");
        QTest::newRow("dot") << QByteArray(".");
        QTest::newRow("absolute") << QByteArray("/victim");
    }
    void manifestNamesStayBeneathTheDestination()
    {
        QFETCH(QByteArray, name);
        const std::string root = base() + "/" + QTest::currentDataTag();
        for (const char *d : {"", "/src", "/src/a", "/dst", "/other"})
            QCOMPARE(::mkdir((root + d).c_str(), 0755), 0);
        writeFile(root + "/src/a/file", "data");
        writeFile(root + "/victim", "must survive");
        writeFile(root + "/other/keep", "another source's file");
        Sync::Options options = mirrorOptions(root + "/src", root + "/dst");
        options.sources.push_back({root + "/other", "other"});
        QCOMPARE(Sync::run(options).outcome, Sync::Outcome::Complete);

        // The attacker's manifest, valid in every other respect.
        UniqueFd meta(::open((root + "/dst/.coffer/sync").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QVERIFY(meta);
        QVERIFY(Test::addManifestEntry(meta.get(), "mirror-737263.manifest", name.toStdString()));

        const Sync::Result r = Sync::run(options);
        QCOMPARE(r.outcome, Sync::Outcome::Complete);
        QCOMPARE(readFile(root + "/victim"), std::string("must survive"));
        QCOMPARE(readFile(root + "/dst/current/other/keep"), std::string("another source's file"));
        QCOMPARE(r.filesDeleted, uint64_t(0));
        QVERIFY(!r.usedManifest); // refused: the destination was compared for real
        CompareOptions c;
        const auto diffs = compareTrees(root + "/src", root + "/dst/current/src", c);
        QVERIFY2(diffs.empty(), joinDiffs(diffs).c_str());
    }
};

QTEST_GUILESS_MAIN(TestSyncHostile)
#include "test_sync_hostile.moc"
