// Faults and hostile trees: vanished and unreadable sources, files changing while copied, a full
// destination, symlink swaps on either side, cancellation (engine and cofferctl SIGINT).

#include "test_sync_util.h"

#include <QStandardPaths>
#include <QTest>

#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>

using namespace Coffer;
using namespace SyncTest;

namespace {

const std::string Cofferctl = COFFER_BINARY_DIR "/app/cofferctl/cofferctl";

std::vector<std::string> findTemps(const std::string &root)
{
    std::vector<std::string> out;
    std::vector<std::string> stack{root};
    while (!stack.empty()) {
        const std::string d = stack.back();
        stack.pop_back();
        for (const std::string &n : listDir(d)) {
            const std::string p = d + "/" + n;
            struct stat st;
            if (::lstat(p.c_str(), &st) != 0)
                continue;
            if (n.rfind(".coffer-", 0) == 0 && n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0)
                out.push_back(p);
            if (S_ISDIR(st.st_mode))
                stack.push_back(p);
        }
    }
    return out;
}

bool treeContains(const std::string &root, const std::string &needle)
{
    std::vector<std::string> stack{root};
    while (!stack.empty()) {
        const std::string d = stack.back();
        stack.pop_back();
        for (const std::string &n : listDir(d)) {
            const std::string p = d + "/" + n;
            struct stat st;
            if (::lstat(p.c_str(), &st) != 0)
                continue;
            if (S_ISDIR(st.st_mode))
                stack.push_back(p);
            else if (S_ISREG(st.st_mode) && readFile(p).find(needle) != std::string::npos)
                return true;
            if (n.find(needle) != std::string::npos)
                return true;
        }
    }
    return false;
}

} // namespace

class TestSyncFaults : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::string base() const { return m_tmp.path().toStdString(); }
    std::string fresh(const std::string &name)
    {
        const std::string root = base() + "/" + name;
        ::mkdir(root.c_str(), 0755);
        ::mkdir((root + "/src").c_str(), 0755);
        ::mkdir((root + "/dst").c_str(), 0755);
        return root;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        ::chmod(m_tmp.path().toLocal8Bit().constData(), 0755);
    }
    void cleanupTestCase() { removeAll(base()); }

    void vanishedSourceFile()
    {
        const std::string root = fresh("vanish");
        for (int i = 0; i < 20; ++i)
            writeFile(root + "/src/f" + std::to_string(10 + i), "file " + std::to_string(i));
        bool done = false;
        const Sync::Result r = Sync::run(mirrorOptions(root + "/src", root + "/dst"),
                                         [&](const Sync::Progress &p) {
                                             if (p.phase == Sync::Phase::Copy && !done) {
                                                 ::unlink((root + "/src/f29").c_str());
                                                 done = true;
                                             }
                                         });
        QCOMPARE(r.outcome, Sync::Outcome::Partial);
        QCOMPARE(r.warnings.size(), size_t(1));
        QCOMPARE(r.warnings[0].path, std::string("src/f29"));
        QCOMPARE(r.filesCopied, 19u);
        QCOMPARE(readFile(root + "/dst/current/src/f28"), std::string("file 18"));
        // A partial run leaves no manifest: the next run compares both sides.
        QVERIFY(::access((root + "/dst/.coffer/sync/mirror-737263.manifest").c_str(), F_OK) != 0);
        const Sync::Result again = Sync::run(mirrorOptions(root + "/src", root + "/dst"));
        QCOMPARE(again.outcome, Sync::Outcome::Complete);
        QVERIFY(!again.usedManifest);
        QVERIFY(compareTrees(root + "/src", root + "/dst/current/src").empty());
    }

    void unreadableAsUser()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to switch to an unprivileged user");
        if (QStandardPaths::findExecutable("setpriv").isEmpty())
            QSKIP("setpriv (util-linux) is missing");
        const std::string root = fresh("unreadable");
        const std::string src = root + "/src";
        writeFile(src + "/ok", "readable");
        writeFile(src + "/secret", "private");
        ::chmod((src + "/secret").c_str(), 0000);
        ::mkdir((src + "/closed").c_str(), 0700);
        writeFile(src + "/closed/inner", "x");
        ::mkdir((src + "/ro").c_str(), 0755);
        writeFile(src + "/ro/file", "in a read-only directory");
        ::chmod((src + "/ro").c_str(), 0555);
        for (const std::string &p : {src, src + "/ok", src + "/secret", src + "/ro", src + "/ro/file", root + "/dst"})
            QVERIFY(::lchown(p.c_str(), 65534, 65534) == 0);
        // "closed" stays root's and 0700: the user cannot read it.
        auto runAsNobody = [&](QByteArray &out) {
            QProcess p;
            p.start("setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups",
                                QString::fromStdString(Cofferctl), "sync", "--into",
                                QString::fromStdString(root + "/dst"), "--source",
                                QString::fromStdString(src), "--json"});
            p.waitForFinished(60000);
            out = p.readAllStandardOutput();
            return p.exitCode();
        };
        QByteArray out;
        QCOMPARE(runAsNobody(out), 3); // partial
        const QList<QByteArray> lines = out.trimmed().split('\n');
        const auto msg = Sync::parseJsonLine(lines.last().toStdString());
        QVERIFY(std::holds_alternative<Sync::Result>(msg));
        const Sync::Result r = std::get<Sync::Result>(msg);
        QCOMPARE(r.outcome, Sync::Outcome::Partial);
        QVERIFY2(r.warnings.size() == 2, qPrintable(QString::fromUtf8(out)));
        QCOMPARE(readFile(root + "/dst/current/src/ok"), std::string("readable"));
        QCOMPARE(readFile(root + "/dst/current/src/ro/file"), std::string("in a read-only directory"));
        struct stat st;
        QVERIFY(::stat((root + "/dst/current/src/ro").c_str(), &st) == 0);
        QCOMPARE(st.st_mode & 07777, mode_t(0555));
        QCOMPARE(st.st_uid, uid_t(65534));
        QVERIFY(::access((root + "/dst/current/src/secret").c_str(), F_OK) != 0);
        // A change inside the read-only directory reaches the destination on the next run.
        ::chmod((src + "/ro").c_str(), 0755);
        writeFile(src + "/ro/file", "changed inside a read-only directory");
        ::chmod((src + "/ro").c_str(), 0555);
        QCOMPARE(runAsNobody(out), 3);
        QCOMPARE(readFile(root + "/dst/current/src/ro/file"), std::string("changed inside a read-only directory"));
        QVERIFY(::stat((root + "/dst/current/src/ro").c_str(), &st) == 0);
        QCOMPARE(st.st_mode & 07777, mode_t(0555));
    }

    // A user at their process limit: no scan, copy or writeback thread can start, and the run
    // still completes on the calling thread alone.
    void noThreadToSpare()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to switch to an unprivileged user");
        if (QStandardPaths::findExecutable("prlimit").isEmpty() || QStandardPaths::findExecutable("setpriv").isEmpty())
            QSKIP("prlimit or setpriv (util-linux) is missing");
        const std::string root = fresh("nothreads");
        const std::string src = root + "/src";
        std::vector<std::string> owned{src, root + "/dst"};
        for (const char *d : {"/a", "/a/b", "/c"}) {
            ::mkdir((src + d).c_str(), 0755);
            owned.push_back(src + d);
        }
        for (int i = 0; i < 300; ++i) {
            owned.push_back(src + (i % 3 == 0 ? "/a/f" : i % 3 == 1 ? "/a/b/f" : "/c/f") + std::to_string(i));
            writeFile(owned.back(), std::string(size_t(i) * 37, char('a' + i % 26)));
        }
        for (const std::string &p : owned)
            QVERIFY(::lchown(p.c_str(), 65534, 65534) == 0);
        // The limit counts every process of the user: allow what runs as nobody now, plus one.
        int running = 0;
        for (const std::string &pid : listDir("/proc")) {
            struct stat st;
            if (pid.find_first_not_of("0123456789") == std::string::npos
                && ::stat(("/proc/" + pid).c_str(), &st) == 0 && st.st_uid == 65534)
                ++running;
        }
        QProcess p;
        // Under the sanitizers: LeakSanitizer's check at exit needs a thread of its own.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("ASAN_OPTIONS", env.value("ASAN_OPTIONS") + ":detect_leaks=0");
        p.setProcessEnvironment(env);
        p.start("prlimit", {QString("--nproc=%1").arg(running + 1), "setpriv", "--reuid=65534",
                            "--regid=65534", "--clear-groups", QString::fromStdString(Cofferctl), "sync",
                            "--into", QString::fromStdString(root + "/dst"), "--source",
                            QString::fromStdString(src)});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QVERIFY(compareTrees(src, root + "/dst/current/src").empty());
    }

    void fileChangesWhileCopied()
    {
        const std::string root = fresh("changing");
        const std::string big = root + "/src/big";
        writeFile(big, std::string(40 << 20, 'a'));
        // Changed once during the copy: copied again, the result is the final content.
        bool changed = false;
        Sync::Result r = Sync::run(mirrorOptions(root + "/src", root + "/dst"), [&](const Sync::Progress &p) {
            if (p.phase == Sync::Phase::Copy && p.bytesDone > 0 && !changed) {
                int fd = ::open(big.c_str(), O_WRONLY | O_APPEND);
                QVERIFY(::write(fd, "tail", 4) == 4);
                ::close(fd);
                changed = true;
            }
        });
        QVERIFY(changed);
        QCOMPARE(r.outcome, Sync::Outcome::Complete);
        QCOMPARE(readFile(root + "/dst/current/src/big"), readFile(big));

        // Changing all the time: flagged, the previous version stays.
        const std::string before = readFile(big);
        {
            int fd = ::open(big.c_str(), O_WRONLY);
            QVERIFY(::pwrite(fd, "c", 1, 1) == 1);
            ::close(fd);
            struct timespec t[2] = {{0, UTIME_OMIT}, {1600000000, 5}};
            ::utimensat(AT_FDCWD, big.c_str(), t, 0);
        }
        r = Sync::run(mirrorOptions(root + "/src", root + "/dst"), [&](const Sync::Progress &p) {
            if (p.phase == Sync::Phase::Copy && p.bytesDone > 0) {
                int fd = ::open(big.c_str(), O_WRONLY);
                QVERIFY(::pwrite(fd, "b", 1, 0) == 1);
                struct timespec t[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
                ::futimens(fd, t);
                ::close(fd);
            }
        }, nullptr);
        QCOMPARE(r.outcome, Sync::Outcome::Partial);
        QCOMPARE(r.warnings.size(), size_t(1));
        QVERIFY(r.warnings[0].message.find("kept changing") != std::string::npos);
        QCOMPARE(readFile(root + "/dst/current/src/big"), before);
        QVERIFY(findTemps(root + "/dst").empty());
    }

    void destinationFull()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to mount a small tmpfs");
        const std::string root = fresh("full");
        const std::string dst = root + "/dst";
        if (::mount("tmpfs", dst.c_str(), "tmpfs", 0, "size=3m") != 0)
            QSKIP("cannot mount a tmpfs here");
        auto unmount = qScopeGuard([&] { ::umount2(dst.c_str(), MNT_DETACH); });
        const std::string src = root + "/src";
        for (int i = 0; i < 10; ++i)
            writeFile(src + "/f" + std::to_string(i), std::string(100 << 10, char('a' + i)));
        QCOMPARE(Sync::run(mirrorOptions(src, dst)).outcome, Sync::Outcome::Complete);
        // New versions of everything plus a file that cannot fit.
        for (int i = 0; i < 10; ++i) {
            writeFile(src + "/f" + std::to_string(i), std::string(100 << 10, char('A' + i)));
            struct timespec t[2] = {{0, UTIME_OMIT}, {1700000000 + i, 0}};
            ::utimensat(AT_FDCWD, (src + "/f" + std::to_string(i)).c_str(), t, 0);
        }
        writeFile(src + "/f5-big", std::string(3 << 20, 'x'));

        // The dry run says it does not fit.
        Sync::Options dry = mirrorOptions(src, dst);
        dry.dryRun = true;
        QVERIFY(!Sync::run(dry).plan.fits);

        bool threw = false;
        try {
            Sync::run(mirrorOptions(src, dst));
        } catch (const Error &e) {
            threw = true;
            QCOMPARE(e.code(), ErrorCode::NoSpace);
            QVERIFY(e.message().find("f5-big") != std::string::npos);
        }
        QVERIFY(threw);
        // Every file is its old or its new version; nothing half-written under a final name.
        for (int i = 0; i < 10; ++i) {
            const std::string got = readFile(dst + "/current/src/f" + std::to_string(i));
            QVERIFY(got == std::string(100 << 10, char('a' + i)) || got == std::string(100 << 10, char('A' + i)));
        }
        QVERIFY(::access((dst + "/current/src/f5-big").c_str(), F_OK) != 0);
        QVERIFY(findTemps(dst).empty());
        // cofferctl says so with exit code 8.
        QProcess p;
        p.start(QString::fromStdString(Cofferctl), {"sync", "--into", QString::fromStdString(dst), "--source", QString::fromStdString(src)});
        p.waitForFinished(60000);
        QCOMPARE(p.exitCode(), 8);
        QVERIFY(p.readAllStandardError().contains("No space left"));
        // With room again, the next run completes and is right.
        ::unlink((src + "/f5-big").c_str());
        const Sync::Result r = Sync::run(mirrorOptions(src, dst));
        QCOMPARE(r.outcome, Sync::Outcome::Complete);
        CompareOptions co;
        co.rootMeta = false;
        const auto d = compareTrees(src, dst + "/current/src", co);
        QVERIFY2(d.empty(), qPrintable(QString::fromStdString(joinDiffs(d))));
    }

    void sourceSymlinkSwap()
    {
        const std::string root = fresh("swap");
        const std::string src = root + "/src", outside = root + "/outside";
        ::mkdir(outside.c_str(), 0755);
        writeFile(outside + "/TOPSECRET", "TOPSECRET content");
        ::mkdir((src + "/d").c_str(), 0755);
        for (int i = 0; i < 30; ++i)
            writeFile(src + "/d/f" + std::to_string(i), "ordinary");
        writeFile(src + "/e", "ordinary");
        bool swapped = false;
        // After the scan, before the copy: the directory and a file become symlinks to outside.
        const Sync::Result r = Sync::run(mirrorOptions(src, root + "/dst"), [&](const Sync::Progress &p) {
            if (p.phase == Sync::Phase::Copy && !swapped) {
                QVERIFY(::rename((src + "/d").c_str(), (src + "/d.moved").c_str()) == 0);
                QVERIFY(::symlink(outside.c_str(), (src + "/d").c_str()) == 0);
                ::unlink((src + "/e").c_str());
                QVERIFY(::symlink((outside + "/TOPSECRET").c_str(), (src + "/e").c_str()) == 0);
                swapped = true;
            }
        });
        QVERIFY(swapped);
        QCOMPARE(r.outcome, Sync::Outcome::Partial);
        QVERIFY(!treeContains(root + "/dst", "TOPSECRET"));
    }

    void destinationSymlinks()
    {
        const std::string root = fresh("dstlinks");
        const std::string src = root + "/src", dst = root + "/dst", outside = root + "/outside";
        ::mkdir(outside.c_str(), 0755);
        ::mkdir((src + "/d").c_str(), 0755);
        writeFile(src + "/d/f", "into d");
        writeFile(src + "/x", "x content");
        // The destination has symlinks where the source has a directory and a file.
        ::mkdir((dst + "/current").c_str(), 0755);
        ::mkdir((dst + "/current/src").c_str(), 0755);
        QVERIFY(::symlink(outside.c_str(), (dst + "/current/src/d").c_str()) == 0);
        QVERIFY(::symlink((outside + "/x").c_str(), (dst + "/current/src/x").c_str()) == 0);
        QCOMPARE(Sync::run(mirrorOptions(src, dst)).outcome, Sync::Outcome::Complete);
        QVERIFY(listDir(outside).empty());
        QVERIFY(compareTrees(src, dst + "/current/src").empty());

        // The source's own directory in the destination is a symlink.
        const std::string dst2 = root + "/dst2";
        ::mkdir(dst2.c_str(), 0755);
        ::mkdir((dst2 + "/current").c_str(), 0755);
        QVERIFY(::symlink(outside.c_str(), (dst2 + "/current/src").c_str()) == 0);
        QCOMPARE(Sync::run(mirrorOptions(src, dst2)).outcome, Sync::Outcome::Complete);
        QVERIFY(listDir(outside).empty());
        QVERIFY(compareTrees(src, dst2 + "/current/src").empty());
    }

    void cancelKeepsConsistent()
    {
        const std::string root = fresh("cancel");
        const std::string src = root + "/src", dst = root + "/dst";
        for (int i = 0; i < 200; ++i)
            writeFile(src + "/f" + std::to_string(1000 + i), "old " + std::to_string(i));
        QCOMPARE(Sync::run(mirrorOptions(src, dst)).outcome, Sync::Outcome::Complete);
        for (int i = 0; i < 200; ++i) {
            const std::string p = src + "/f" + std::to_string(1000 + i);
            writeFile(p, "new version " + std::to_string(i));
        }
        std::atomic<bool> cancel{false};
        const Sync::Result r = Sync::run(mirrorOptions(src, dst), [&](const Sync::Progress &p) {
            if (p.phase == Sync::Phase::Copy && p.filesDone >= 50)
                cancel = true;
        }, &cancel);
        QCOMPARE(r.outcome, Sync::Outcome::Cancelled);
        QVERIFY(r.filesCopied >= 50 && r.filesCopied < 200);
        int oldCount = 0, newCount = 0;
        for (int i = 0; i < 200; ++i) {
            const std::string got = readFile(dst + "/current/src/f" + std::to_string(1000 + i));
            if (got == "old " + std::to_string(i))
                ++oldCount;
            else if (got == "new version " + std::to_string(i))
                ++newCount;
        }
        QCOMPARE(oldCount + newCount, 200);
        QVERIFY(oldCount > 0 && newCount > 0);
        QVERIFY(findTemps(dst).empty());
        const Sync::Result again = Sync::run(mirrorOptions(src, dst));
        QCOMPARE(again.outcome, Sync::Outcome::Complete);
        QVERIFY(!again.usedManifest);
        QVERIFY(compareTrees(src, dst + "/current/src").empty());
    }

    void cancelSnapshot()
    {
        const std::string root = fresh("cancelsnap");
        const std::string src = root + "/src", dst = root + "/dst";
        for (int i = 0; i < 100; ++i)
            writeFile(src + "/f" + std::to_string(i), "content");
        Sync::Options opt = mirrorOptions(src, dst);
        opt.mode = Sync::Mode::Snapshot;
        std::atomic<bool> cancel{false};
        const Sync::Result r = Sync::run(opt, [&](const Sync::Progress &p) {
            if (p.phase == Sync::Phase::Copy && p.filesDone >= 20)
                cancel = true;
        }, &cancel);
        QCOMPARE(r.outcome, Sync::Outcome::Cancelled);
        QVERIFY(listDir(dst + "/snapshots").empty()); // no half-built snapshot under any name
    }

    void cofferctlSigint()
    {
        const std::string root = fresh("sigint");
        const std::string src = root + "/src", dst = root + "/dst";
        // 1 GiB of allocated (not sparse) data: long enough to interrupt.
        for (int i = 0; i < 2; ++i) {
            int fd = ::open((src + "/big" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT, 0644);
            QVERIFY(::posix_fallocate(fd, 0, off_t(512) << 20) == 0);
            ::close(fd);
        }
        QProcess p;
        p.start(QString::fromStdString(Cofferctl), {"sync", "--into", QString::fromStdString(dst), "--source", QString::fromStdString(src), "--json"});
        QVERIFY(p.waitForStarted());
        bool sawCopy = false;
        QByteArray all;
        while (!sawCopy && p.waitForReadyRead(30000)) {
            all += p.readAllStandardOutput();
            sawCopy = all.contains("\"phase\":\"copy\"");
        }
        QVERIFY(sawCopy);
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000));
        all += p.readAllStandardOutput();
        QCOMPARE(p.exitCode(), 7);
        const QList<QByteArray> lines = all.trimmed().split('\n');
        for (const QByteArray &line : lines)
            Sync::parseJsonLine(line.toStdString()); // every line parses
        const auto last = Sync::parseJsonLine(lines.last().toStdString());
        QVERIFY(std::holds_alternative<Sync::Result>(last));
        QCOMPARE(std::get<Sync::Result>(last).outcome, Sync::Outcome::Cancelled);
        QVERIFY(findTemps(dst).empty());
    }

    void oneRunPerDestination()
    {
        const std::string root = fresh("busy");
        writeFile(root + "/src/f", "x");
        QCOMPARE(Sync::run(mirrorOptions(root + "/src", root + "/dst")).outcome, Sync::Outcome::Complete);
        // Another run holds the destination's lock.
        const int fd = ::open((root + "/dst/.coffer/sync").c_str(), O_RDONLY | O_DIRECTORY);
        QVERIFY(fd >= 0);
        QVERIFY(::flock(fd, LOCK_EX) == 0);
        bool busy = false;
        try {
            Sync::run(mirrorOptions(root + "/src", root + "/dst"));
        } catch (const Error &e) {
            busy = e.code() == ErrorCode::Busy;
        }
        QVERIFY(busy);
        // A dry run only reads: allowed.
        Sync::Options dry = mirrorOptions(root + "/src", root + "/dst");
        dry.dryRun = true;
        QCOMPARE(Sync::run(dry).outcome, Sync::Outcome::Complete);
        ::close(fd);
        QCOMPARE(Sync::run(mirrorOptions(root + "/src", root + "/dst")).outcome, Sync::Outcome::Complete);
    }

    // The engine's own directories in a vault are the owner's only (other local users must not
    // read backed-up secrets while the vault is open), also where an older run made them 0755.
    void ownDirectoriesArePrivate()
    {
        const std::string root = fresh("private");
        writeFile(root + "/src/secret", "x");
        auto mode = [](const std::string &path) {
            struct stat st;
            return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 01000;
        };
        QCOMPARE(Sync::run(mirrorOptions(root + "/src", root + "/dst")).outcome, Sync::Outcome::Complete);
        Sync::Options snap = mirrorOptions(root + "/src", root + "/dst");
        snap.mode = Sync::Mode::Snapshot;
        const Sync::Result r = Sync::run(snap);
        for (const char *dir : {"/dst/.coffer", "/dst/.coffer/sync", "/dst/current", "/dst/snapshots"})
            QCOMPARE(mode(root + dir), mode_t(0700));
        QCOMPARE(mode(root + "/dst/snapshots/" + r.snapshot), mode_t(0700));

        for (const char *dir : {"/dst/.coffer", "/dst/current", "/dst/snapshots"})
            QCOMPARE(::chmod((root + dir).c_str(), 0755), 0);
        QCOMPARE(Sync::run(mirrorOptions(root + "/src", root + "/dst")).outcome, Sync::Outcome::Complete);
        QCOMPARE(mode(root + "/dst/.coffer"), mode_t(0700));
        QCOMPARE(mode(root + "/dst/current"), mode_t(0700));
        QCOMPARE(Sync::run(snap).outcome, Sync::Outcome::Complete);
        QCOMPARE(mode(root + "/dst/snapshots"), mode_t(0700));
        // A source's own root keeps the source's mode, as rsync does.
        QCOMPARE(mode(root + "/dst/current/src"), mode(root + "/src"));
    }

    void cofferctlUsage()
    {
        QProcess p;
        p.start(QString::fromStdString(Cofferctl), {"sync", "--source", "/nonexistent"});
        p.waitForFinished();
        QCOMPARE(p.exitCode(), 2);
        p.start(QString::fromStdString(Cofferctl), {"sync", "--into", QString::fromStdString(base()), "--source", "/nonexistent-source"});
        p.waitForFinished();
        QCOMPARE(p.exitCode(), 9);
        p.start(QString::fromStdString(Cofferctl), {"sync", "--into", QString::fromStdString(base()), "--source", "/tmp", "--mode", "weird"});
        p.waitForFinished();
        QCOMPARE(p.exitCode(), 2);
    }
};

QTEST_GUILESS_MAIN(TestSyncFaults)
#include "test_sync_faults.moc"
