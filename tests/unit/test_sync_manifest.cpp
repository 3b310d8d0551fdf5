// The sync manifest format (core/sync/tree.h): round trip, corruption detection, layout.

#include "block/uniquefd.h"
#include "forge.h"
#include "sync/tree.h"

#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Sync;

namespace {

uint32_t add(Tree &t, uint32_t parent, std::string_view name, mode_t mode, std::string_view target = {})
{
    Node n;
    n.parent = parent;
    n.mode = mode;
    n.nameLen = uint16_t(name.size());
    n.nameOff = t.names.add(name, target);
    n.size = S_ISLNK(mode) ? target.size() : 1234;
    n.mtimeNs = -5; // before 1970 is fine
    n.ctimeNs = 1700000000123456789;
    n.ino = 42;
    n.destIno = 77;
    n.uid = 1000;
    n.gid = 100;
    n.nlink = 2;
    n.destCtimeNs = 9;
    return t.nodes.push(n);
}

// root: a/ (x, y -> "tgt"), b, c/ (z/ (deep))
void build(Tree &t)
{
    Node root;
    root.mode = S_IFDIR | 0755;
    t.nodes.push(root);
    t.nodes[0].firstChild = 1;
    t.nodes[0].childCount = 3;
    const uint32_t a = add(t, 0, "a", S_IFDIR | 0700);
    add(t, 0, "b", S_IFREG | 0644);
    const uint32_t c = add(t, 0, "c", S_IFDIR | 0755);
    t.nodes[a].firstChild = t.nodes.size();
    t.nodes[a].childCount = 2;
    add(t, a, "x", S_IFREG | 0600);
    add(t, a, "y\n\xff", S_IFLNK | 0777, "tgt/with\nnewline");
    t.nodes[c].firstChild = t.nodes.size();
    t.nodes[c].childCount = 1;
    const uint32_t z = add(t, c, "z", S_IFDIR | 0755);
    t.nodes[z].firstChild = t.nodes.size();
    t.nodes[z].childCount = 1;
    add(t, z, "deep", S_IFREG | 0644);
}

} // namespace

class TestSyncManifest : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    UniqueFd dirFd() { return UniqueFd(::open(m_dir.path().toLocal8Bit().constData(), O_RDONLY | O_DIRECTORY)); }

private slots:
    void roundTrip()
    {
        Tree t;
        build(t);
        ManifestHeader h{"src\xff", "2026-11-22T000000Z", 0x1234567890abcdefull, 2049, 131, "boot-id"};
        UniqueFd fd = dirFd();
        writeManifest(fd.get(), "m", h, t);
        ManifestHeader h2;
        Tree t2;
        QVERIFY(readManifest(fd.get(), "m", h2, t2));
        QCOMPARE(h2.sourceName, h.sourceName);
        QCOMPARE(h2.snapshot, h.snapshot);
        QCOMPARE(h2.optionsHash, h.optionsHash);
        QCOMPARE(h2.rootDev, h.rootDev);
        QCOMPARE(h2.rootIno, h.rootIno);
        QCOMPARE(h2.unflushedBootId, h.unflushedBootId);
        QVERIFY(!currentBootId().empty());
        QCOMPARE(t2.nodes.size(), t.nodes.size());
        // Same paths and fields, found by name.
        for (const char *p : {"a", "b", "c"})
            QVERIFY(t2.child(0, p) != NoNode);
        const uint32_t a = t2.child(0, "a");
        const uint32_t y = t2.child(a, "y\n\xff");
        QVERIFY(y != NoNode);
        QCOMPARE(t2.symlinkTarget(t2.nodes[y]), std::string_view("tgt/with\nnewline"));
        const uint32_t z = t2.child(t2.child(0, "c"), "z");
        const uint32_t deep = t2.child(z, "deep");
        QVERIFY(deep != NoNode);
        QCOMPARE(t2.path(deep), std::string("c/z/deep"));
        const Node &n = t2.nodes[deep];
        QCOMPARE(n.mtimeNs, int64_t(-5));
        QCOMPARE(n.ctimeNs, int64_t(1700000000123456789));
        QCOMPARE(n.ino, uint64_t(42));
        QCOMPARE(n.destIno, uint64_t(77));
        QCOMPARE(n.uid, 1000u);
        QCOMPARE(n.nlink, 2u);
        QCOMPARE(t2.nodes[z].destCtimeNs, int64_t(9));
        QCOMPARE(n.size, uint64_t(1234));
        QVERIFY(::faccessat(fd.get(), "m.tmp", F_OK, 0) != 0);
    }

    void everyCorruptionIsDetected()
    {
        Tree t;
        build(t);
        UniqueFd fd = dirFd();
        writeManifest(fd.get(), "m", ManifestHeader{"s", "", 1, 2, 3, ""}, t);
        const QString path = m_dir.path() + "/m";
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray good = f.readAll();
        f.close();
        for (int i = 0; i < good.size(); ++i) {
            for (int bit : {0, 3, 7}) {
                QByteArray bad = good;
                bad[i] = char(bad[i] ^ (1 << bit));
                QFile w(path);
                QVERIFY(w.open(QIODevice::WriteOnly | QIODevice::Truncate));
                w.write(bad);
                w.close();
                ManifestHeader h;
                Tree t2;
                QVERIFY2(!readManifest(fd.get(), "m", h, t2), qPrintable(QString("byte %1 bit %2").arg(i).arg(bit)));
                QCOMPARE(t2.nodes.size(), 0u);
            }
        }
        // Truncations and a missing file.
        for (int len : {0, 8, 15, int(good.size()) - 1}) {
            QFile w(path);
            QVERIFY(w.open(QIODevice::WriteOnly | QIODevice::Truncate));
            w.write(good.left(len));
            w.close();
            ManifestHeader h;
            Tree t2;
            QVERIFY(!readManifest(fd.get(), "m", h, t2));
        }
        ManifestHeader h;
        Tree t2;
        QVERIFY(!readManifest(fd.get(), "missing", h, t2));
    }

    // The manifest is read from the destination, which may be someone else's: a name that is
    // not one plain entry name makes the whole manifest untrustworthy.
    void namesThatLeaveTheirDirectoryAreRefused()
    {
        UniqueFd fd = dirFd();
        for (const char *name : {"../x", "..", ".", "a/b", "/abs", "x\0y"}) {
            Tree t;
            build(t);
            writeManifest(fd.get(), "hostile", ManifestHeader{"s", "", 1, 2, 3, ""}, t);
            ManifestHeader h;
            Tree t2;
            QVERIFY(readManifest(fd.get(), "hostile", h, t2));
            const std::string bad = std::string(name) == "x\0y" ? std::string("x\0y", 3) : std::string(name);
            QVERIFY(Coffer::Test::addManifestEntry(fd.get(), "hostile", bad));
            QVERIFY2(!readManifest(fd.get(), "hostile", h, t2), name);
            QCOMPARE(t2.nodes.size(), 0u);
        }
        // The same manifest with a plain name is read.
        Tree t;
        build(t);
        writeManifest(fd.get(), "plain", ManifestHeader{"s", "", 1, 2, 3, ""}, t);
        QVERIFY(Coffer::Test::addManifestEntry(fd.get(), "plain", "..."));
        ManifestHeader h;
        Tree t2;
        QVERIFY(readManifest(fd.get(), "plain", h, t2));
        QVERIFY(t2.child(0, "...") != NoNode);
    }

    void nodeIsCompact()
    {
        // design.md 7: well under 300 bytes per file, for the source tree and a manifest together.
        QVERIFY(sizeof(Node) <= 104);
    }
};

QTEST_GUILESS_MAIN(TestSyncManifest)
#include "test_sync_manifest.moc"
