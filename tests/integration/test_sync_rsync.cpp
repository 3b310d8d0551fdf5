// The sync engine against real rsync -aHX --delete on seeded, reproducible hostile trees, round
// after round of mutations; plus manifest corruption/staleness, excludes, dry run, snapshots.

#include "test_sync_util.h"
#include "testerror.h"

#include <QStandardPaths>
#include <QTest>

#include <sys/stat.h>

using namespace Coffer;
using namespace SyncTest;

class TestSyncRsync : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::string base() const { return m_tmp.path().toStdString(); }

    // Runs our engine and rsync on src; compares both destinations with each other and with src.
    void syncAndCompare(const std::string &src, const std::string &ours, const std::string &ref,
                        const QString &round, Sync::Options opt = {})
    {
        if (opt.sources.empty())
            opt = mirrorOptions(src, ours);
        const Sync::Result r = Sync::run(opt);
        QVERIFY2(r.outcome == Sync::Outcome::Complete,
                 qPrintable(round + ": outcome " + QString::fromStdString(std::string(Sync::outcomeName(r.outcome)))
                            + (r.warnings.empty() ? QString() : " " + QString::fromStdString(r.warnings[0].path + ": " + r.warnings[0].message))));
        QVERIFY(r.durable);
        QCOMPARE(runRsync(src, ref), 0);
        const auto d = compareTrees(ours + "/current/src", ref);
        QVERIFY2(d.empty(), qPrintable(round + ": ours vs rsync:" + QString::fromStdString(joinDiffs(d))));
        const auto s = compareTrees(src, ours + "/current/src");
        QVERIFY2(s.empty(), qPrintable(round + ": source vs ours:" + QString::fromStdString(joinDiffs(s))));
        // No temp files left behind, anywhere.
        QProcess find;
        find.start("find", {QString::fromStdString(ours), "-name", ".coffer-*.tmp"});
        find.waitForFinished();
        QCOMPARE(find.readAllStandardOutput(), QByteArray());
    }

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("rsync").isEmpty())
            QSKIP("rsync is not installed (make deps installs it)");
        QVERIFY(m_tmp.isValid());
    }

    void cleanupTestCase() { removeAll(base()); }

    void differential_data()
    {
        QTest::addColumn<int>("seed");
        QTest::newRow("seed 1") << 1;
        QTest::newRow("seed 2") << 2;
        QTest::newRow("seed 3") << 3;
        QTest::newRow("seed 4") << 4;
    }

    void differential()
    {
        QFETCH(int, seed);
        const std::string root = base() + "/diff" + std::to_string(seed);
        const std::string src = root + "/src", ours = root + "/ours", ref = root + "/ref";
        ::mkdir(root.c_str(), 0755);
        ::mkdir(ours.c_str(), 0755);
        ::mkdir(ref.c_str(), 0755);
        TreeGen gen(src, uint64_t(seed));
        gen.generate(400);
        syncAndCompare(src, ours, ref, "first copy");

        // A no-change run takes the manifest path and writes nothing.
        Sync::Result again = Sync::run(mirrorOptions(src, ours));
        QVERIFY(again.usedManifest);
        QCOMPARE(again.filesCopied, 0u);
        QCOMPARE(again.filesDeleted, 0u);
        QCOMPARE(again.filesLinked, 0u);

        for (int round = 1; round <= 8; ++round) {
            gen.mutate(40);
            Sync::Options o = mirrorOptions(src, ours);
            o.checksum = round == 4; // one round reads everything back
            syncAndCompare(src, ours, ref, QString("round %1").arg(round), o);
            if (round % 3 == 0) {
                // The same without the manifest: both sides compared, same answer, nothing to do.
                Sync::Options o = mirrorOptions(src, ours);
                o.useManifest = false;
                const Sync::Result r = Sync::run(o);
                QVERIFY(!r.usedManifest);
                QCOMPARE(r.filesCopied, 0u);
                QCOMPARE(r.filesDeleted, 0u);
            }
        }
    }

    void manifestCorruptOrStale()
    {
        const std::string root = base() + "/manifest";
        const std::string src = root + "/src", ours = root + "/ours", ref = root + "/ref";
        ::mkdir(root.c_str(), 0755);
        ::mkdir(ours.c_str(), 0755);
        ::mkdir(ref.c_str(), 0755);
        TreeGen gen(src, 99);
        gen.generate(200);
        syncAndCompare(src, ours, ref, "first copy");
        const std::string manifest = ours + "/.coffer/sync/mirror-737263.manifest";
        QVERIFY(::access(manifest.c_str(), F_OK) == 0);

        // Flip one byte in the middle: detected by the checksum, full comparison, right result.
        std::string data = readFile(manifest);
        data[data.size() / 2] ^= 0x5a;
        writeFile(manifest, data);
        gen.mutate(20);
        const Sync::Result r1 = Sync::run(mirrorOptions(src, ours));
        QVERIFY(!r1.usedManifest);
        QCOMPARE(runRsync(src, ref), 0);
        auto d = compareTrees(ours + "/current/src", ref);
        QVERIFY2(d.empty(), qPrintable("corrupt manifest:" + QString::fromStdString(joinDiffs(d))));

        // Truncated manifest.
        data = readFile(manifest);
        writeFile(manifest, data.substr(0, data.size() / 3));
        QVERIFY(!Sync::run(mirrorOptions(src, ours)).usedManifest);
        QVERIFY(Sync::run(mirrorOptions(src, ours)).usedManifest);

        // Stale: someone deleted and added files in the destination behind our back.
        gen.rescan();
        const auto files = listDir(ours + "/current/src");
        int removed = 0;
        for (const std::string &n : files) {
            struct stat st;
            const std::string p = ours + "/current/src/" + n;
            if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && removed < 3) {
                ::unlink(p.c_str());
                ++removed;
            }
        }
        writeFile(ours + "/current/src/intruder", "not from the source");
        const Sync::Result r2 = Sync::run(mirrorOptions(src, ours));
        QVERIFY(!r2.usedManifest);
        d = compareTrees(ours + "/current/src", ref);
        QVERIFY2(d.empty(), qPrintable("stale manifest:" + QString::fromStdString(joinDiffs(d))));

        // A deeper directory changed behind our back (its ctime moves).
        const std::string deep = ours + "/current/src/deep0" + std::string(70, 'd');
        writeFile(deep + "/intruder2", "x");
        QVERIFY(!Sync::run(mirrorOptions(src, ours)).usedManifest);
        QVERIFY(::access((deep + "/intruder2").c_str(), F_OK) != 0);
    }

    void excludes()
    {
        const std::string root = base() + "/excl";
        const std::string src = root + "/src", ours = root + "/ours", ref = root + "/ref";
        for (const std::string &d : {root, src, ours, ref, src + "/build", src + "/a", src + "/a/build",
                                     src + "/cache", src + "/a/b", src + "/a/b/cache", src + "/x",
                                     src + "/x/a", src + "/x/a/bee"})
            ::mkdir(d.c_str(), 0755);
        for (const char *f : {"/k.tmp", "/a/k.tmp", "/build/1", "/a/build/1", "/cache/1",
                                     "/a/b/cache/1", "/a/b/keep", "/a/bz", "/x/a/bee/1", "/x/a/c", "/plain"})
            writeFile(src + f, f);
        const std::vector<std::string> patterns = {"*.tmp", "/build/", "**/cache/", "a/b*"};
        QStringList rsyncArgs;
        Sync::Options opt = mirrorOptions(src, ours);
        for (const std::string &p : patterns) {
            rsyncArgs << "--exclude" << QString::fromStdString(p);
            opt.excludes.push_back(p);
        }
        // Excluded entries already in the destination are kept (rsync without --delete-excluded).
        ::mkdir((ours + "/current").c_str(), 0755);
        ::mkdir((ours + "/current/src").c_str(), 0755);
        ::mkdir((ours + "/current/src/build").c_str(), 0755);
        writeFile(ours + "/current/src/build/old", "old");
        writeFile(ours + "/current/src/old.tmp", "old");
        ::mkdir((ref + "/build").c_str(), 0755);
        writeFile(ref + "/build/old", "old");
        writeFile(ref + "/old.tmp", "old");
        // The same times on both sides (created a clock tick apart, they could differ).
        const struct timespec t[2] = {{1600000000, 1}, {1600000000, 2}};
        for (const std::string &d : {ours + "/current/src", ref})
            for (const char *p : {"/build/old", "/old.tmp", "/build"})
                QVERIFY(::utimensat(AT_FDCWD, (d + p).c_str(), t, 0) == 0);
        const Sync::Result r = Sync::run(opt);
        QCOMPARE(r.outcome, Sync::Outcome::Complete);
        QCOMPARE(runRsync(src, ref, rsyncArgs), 0);
        CompareOptions co;
        co.rootMeta = false;
        auto d = compareTrees(ours + "/current/src", ref, co);
        QVERIFY2(d.empty(), qPrintable(QString::fromStdString(joinDiffs(d))));
        QVERIFY(::access((ours + "/current/src/a/b/keep").c_str(), F_OK) != 0); // a/b* excluded
        QVERIFY(::access((ours + "/current/src/build/old").c_str(), F_OK) == 0);
        QVERIFY(::access((ours + "/current/src/a/build/1").c_str(), F_OK) != 0); // a/b* (tail)
        QVERIFY(::access((ours + "/current/src/cache").c_str(), F_OK) != 0);     // **/cache/ at the top
        QVERIFY(::access((ours + "/current/src/a/k.tmp").c_str(), F_OK) != 0);
        QVERIFY(::access((ours + "/current/src/plain").c_str(), F_OK) == 0);
        QVERIFY(::access((ours + "/current/src/x/a/c").c_str(), F_OK) == 0);
        // Second run through the manifest: still the same.
        QVERIFY(Sync::run(opt).usedManifest);
        d = compareTrees(ours + "/current/src", ref, co);
        QVERIFY2(d.empty(), qPrintable(QString::fromStdString(joinDiffs(d))));
    }

    void dryRun()
    {
        const std::string root = base() + "/dry";
        const std::string src = root + "/src", ours = root + "/ours";
        ::mkdir(root.c_str(), 0755);
        ::mkdir(ours.c_str(), 0755);
        ::mkdir(src.c_str(), 0755);
        writeFile(src + "/a", std::string(1000, 'a'));
        writeFile(src + "/b", std::string(2000, 'b'));
        ::mkdir((src + "/d").c_str(), 0755);
        writeFile(src + "/d/c", std::string(300, 'c'));
        Sync::Options opt = mirrorOptions(src, ours);
        opt.dryRun = true;
        Sync::Result r = Sync::run(opt);
        QVERIFY(r.dryRun);
        QCOMPARE(r.plan.added, 4u); // a, b, d, d/c
        QCOMPARE(r.plan.bytesToWrite, 3300u);
        QVERIFY(r.plan.fits);
        QVERIFY(r.plan.bytesFree > 0);
        QCOMPARE(r.plan.items.size(), size_t(4));
        QVERIFY(listDir(ours).empty()); // nothing written, not even .coffer
        opt.dryRun = false;
        QCOMPARE(Sync::run(opt).filesCopied, 3u);

        // Now one change of each kind.
        writeFile(src + "/a", std::string(1500, 'A'));
        ::unlink((src + "/b").c_str());
        ::chmod((src + "/d/c").c_str(), 0600);
        writeFile(src + "/new", std::string(10, 'n'));
        opt.dryRun = true;
        r = Sync::run(opt);
        QCOMPARE(r.plan.added, 1u);
        QCOMPARE(r.plan.updated, 1u);
        QCOMPARE(r.plan.deleted, 1u);
        QCOMPARE(r.plan.metadataOnly, 1u);
        QCOMPARE(r.plan.bytesToWrite, 1510u);
        QCOMPARE(r.plan.bytesToDelete, 2000u);
        bool sawDelete = false;
        for (const Sync::PlanItem &i : r.plan.items)
            if (i.action == Sync::PlanAction::Delete && i.path == "src/b" && i.bytes == 2000)
                sawDelete = true;
        QVERIFY(sawDelete);
        QCOMPARE(readFile(ours + "/current/src/a"), std::string(1000, 'a')); // untouched
        // Round trip through JSON (what cofferctl --json and the helper pipe carry).
        const auto msg = Sync::parseJsonLine(Sync::toJsonLine(r));
        QVERIFY(std::holds_alternative<Sync::Result>(msg));
        QVERIFY(std::get<Sync::Result>(msg) == r);
    }

    void snapshots()
    {
        const std::string root = base() + "/snap";
        const std::string src = root + "/src", ours = root + "/ours", ref = root + "/ref";
        ::mkdir(root.c_str(), 0755);
        ::mkdir(ours.c_str(), 0755);
        ::mkdir(ref.c_str(), 0755);
        TreeGen gen(src, 7);
        gen.generate(150);
        Sync::Options opt = mirrorOptions(src, ours);
        opt.mode = Sync::Mode::Snapshot;
        opt.retention.keepLast = 2;
        std::vector<std::string> names;
        for (int round = 0; round < 3; ++round) {
            if (round > 0)
                gen.mutate(10);
            const Sync::Result r = Sync::run(opt);
            QCOMPARE(r.outcome, Sync::Outcome::Complete);
            QVERIFY(!r.snapshot.empty());
            names.push_back(r.snapshot);
            QCOMPARE(runRsync(src, ref), 0);
            const std::string snap = ours + "/snapshots/" + r.snapshot + "/src";
            CompareOptions co;
            auto d = compareTrees(snap, ref, co);
            QVERIFY2(d.empty(), qPrintable("snapshot vs rsync:" + QString::fromStdString(joinDiffs(d))));
            if (round > 0) {
                QVERIFY(r.filesLinked > 0);
                // Unchanged files share the inode of the previous snapshot.
                const std::string prev = ours + "/snapshots/" + names[size_t(round) - 1] + "/src";
                struct stat a, b;
                QVERIFY(::lstat((snap + "/deep0" + std::string(70, 'd')).c_str(), &a) == 0);
                int shared = 0;
                for (const std::string &n : listDir(snap)) {
                    if (::lstat((snap + "/" + n).c_str(), &a) == 0 && S_ISREG(a.st_mode)
                        && ::lstat((prev + "/" + n).c_str(), &b) == 0 && a.st_ino == b.st_ino)
                        ++shared;
                }
                QVERIFY(shared > 0);
            }
        }
        // keepLast = 2: the first one is gone, no partial left.
        const auto left = listDir(ours + "/snapshots");
        QCOMPARE(left.size(), size_t(2));
        QCOMPARE(left[0], names[1]);
        QCOMPARE(left[1], names[2]);
    }

    void multipleSources()
    {
        const std::string root = base() + "/multi";
        const std::string a = root + "/a", b = root + "/b", ours = root + "/ours";
        for (const std::string &d : {root, a, b, ours})
            ::mkdir(d.c_str(), 0755);
        writeFile(a + "/fa", "from a");
        writeFile(b + "/fb", "from b");
        // Hard links in both sources (each source has its own groups).
        writeFile(a + "/h1", "linked in a");
        QVERIFY(::link((a + "/h1").c_str(), (a + "/h2").c_str()) == 0);
        writeFile(b + "/g1", "linked in b");
        QVERIFY(::link((b + "/g1").c_str(), (b + "/g2").c_str()) == 0);
        Sync::Options opt;
        opt.destination = ours;
        opt.sources = {{a, "first"}, {b, "second"}};
        QCOMPARE(Sync::run(opt).outcome, Sync::Outcome::Complete);
        QCOMPARE(readFile(ours + "/current/first/fa"), std::string("from a"));
        QCOMPARE(readFile(ours + "/current/second/fb"), std::string("from b"));
        struct stat s1, s2;
        QVERIFY(::lstat((ours + "/current/first/h1").c_str(), &s1) == 0 && ::lstat((ours + "/current/first/h2").c_str(), &s2) == 0);
        QCOMPARE(s1.st_ino, s2.st_ino);
        QVERIFY(::lstat((ours + "/current/second/g1").c_str(), &s1) == 0 && ::lstat((ours + "/current/second/g2").c_str(), &s2) == 0);
        QCOMPARE(s1.st_ino, s2.st_ino);
        QVERIFY(Sync::run(opt).usedManifest);
        // Without the final flush: not reported durable; its manifest is trusted in this boot only.
        writeFile(a + "/unflushed", "u");
        opt.durable = false;
        const Sync::Result nf = Sync::run(opt);
        QVERIFY(!nf.durable);
        QCOMPARE(nf.filesCopied, 1u);
        opt.durable = true;
        QVERIFY(Sync::run(opt).usedManifest);
        // A run with one source leaves the other's copy alone.
        opt.sources = {{b, "second"}};
        writeFile(b + "/fb2", "more");
        QCOMPARE(Sync::run(opt).filesCopied, 1u);
        QCOMPARE(readFile(ours + "/current/first/fa"), std::string("from a"));
        // Bad names and duplicates are refused before anything is written.
        for (const std::string &bad : {std::string(""), std::string("."), std::string(".."), std::string("a/b")}) {
            opt.sources = {{a, bad}};
            QCOMPARE(Test::codeOf([&] { Sync::run(opt); }), ErrorCode::InvalidArgument);
        }
        opt.sources = {{a, "x"}, {b, "x"}};
        QCOMPARE(Test::codeOf([&] { Sync::run(opt); }), ErrorCode::InvalidArgument);
        // The destination inside the source is skipped, not copied into itself.
        const std::string home = root + "/home";
        ::mkdir(home.c_str(), 0755);
        ::mkdir((home + "/vault").c_str(), 0755);
        writeFile(home + "/doc", "doc");
        Sync::Options nested = mirrorOptions(home, home + "/vault", "home");
        const Sync::Result r = Sync::run(nested);
        QCOMPARE(r.outcome, Sync::Outcome::Complete);
        QCOMPARE(r.warnings.size(), size_t(1));
        QVERIFY(::access((home + "/vault/current/home/vault").c_str(), F_OK) != 0);
        QCOMPARE(readFile(home + "/vault/current/home/doc"), std::string("doc"));
    }

    void checksum()
    {
        const std::string root = base() + "/checksum";
        const std::string src = root + "/src", ours = root + "/ours";
        for (const std::string &d : {root, src, ours})
            ::mkdir(d.c_str(), 0755);
        writeFile(src + "/same-size", "aaaa");
        Sync::Options opt = mirrorOptions(src, ours);
        QCOMPARE(Sync::run(opt).filesCopied, 1u);
        // Same size and mtime, other content: the quick check cannot see it, --checksum does.
        struct stat st;
        QVERIFY(::stat((src + "/same-size").c_str(), &st) == 0);
        writeFile(src + "/same-size", "bbbb");
        const struct timespec t[2] = {st.st_atim, st.st_mtim};
        QVERIFY(::utimensat(AT_FDCWD, (src + "/same-size").c_str(), t, 0) == 0);
        opt.useManifest = false;
        QCOMPARE(Sync::run(opt).filesCopied, 0u);
        QCOMPARE(readFile(ours + "/current/src/same-size"), std::string("aaaa"));
        opt.checksum = true;
        const Sync::Result r = Sync::run(opt);
        QCOMPARE(r.outcome, Sync::Outcome::Complete);
        QCOMPARE(r.filesCopied, 1u);
        QCOMPARE(readFile(ours + "/current/src/same-size"), std::string("bbbb"));
        QCOMPARE(Sync::run(opt).filesCopied, 0u);
    }

    void sparseAndSpecial()
    {
        const std::string root = base() + "/sparse";
        const std::string src = root + "/src", ours = root + "/ours";
        ::mkdir(root.c_str(), 0755);
        ::mkdir(ours.c_str(), 0755);
        ::mkdir(src.c_str(), 0755);
        int fd = ::open((src + "/holes").c_str(), O_WRONLY | O_CREAT, 0644);
        QVERIFY(::ftruncate(fd, 256 << 20) == 0);
        QVERIFY(::pwrite(fd, "middle", 6, 100 << 20) == 6);
        ::close(fd);
        QVERIFY(::mknod((src + "/dev").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0);
        const Sync::Result r = Sync::run(mirrorOptions(src, ours));
        QCOMPARE(r.outcome, Sync::Outcome::Complete); // a skipped device is not a failure...
        QCOMPARE(r.warnings.size(), size_t(1));       // ...but it is reported
        QVERIFY(r.warnings[0].path == "src/dev");
        struct stat st;
        QVERIFY(::stat((ours + "/current/src/holes").c_str(), &st) == 0);
        QCOMPARE(st.st_size, off_t(256 << 20));
        QVERIFY2(st.st_blocks * 512 < (1 << 20), "holes stay holes");
        QVERIFY(r.bytesCopied < (1 << 20));
        QVERIFY(::lstat((ours + "/current/src/dev").c_str(), &st) != 0);
    }
};

QTEST_GUILESS_MAIN(TestSyncRsync)
#include "test_sync_rsync.moc"
