// core/restore on real directories: the backups a vault holds, a backup compared with the live
// folders, and restoring a file or a folder (bytes, permissions, times, links) without ever
// overwriting what the person did not ask to replace.

#include "restore/backups.h"
#include "restore/restorecopy.h"

#include "testerror.h"
#include "testfiles.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer;
using Restore::Change;
using namespace Coffer::Test;

namespace {

QMap<QString, Change> changesOf(const Restore::Tree &tree)
{
    QMap<QString, Change> m;
    for (const Restore::Entry &e : tree.entries)
        m.insert(QString::fromStdString(e.path), e.change);
    return m;
}

} // namespace

class TestRestore : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_vault, m_live;

private slots:
    void init()
    {
        // A vault's tree as the engine leaves it: the mirror and two snapshots of ".ssh" and
        // "docs", plus an incomplete snapshot and a stray name.
        m_vault = m_dir.filePath(QStringLiteral("vault-%1").arg(QTest::currentTestFunction()));
        m_live = m_dir.filePath(QStringLiteral("live-%1").arg(QTest::currentTestFunction()));
        for (const QString &backup : {QStringLiteral("current"), QStringLiteral("snapshots/2025-01-31T120000Z"),
                                      QStringLiteral("snapshots/2025-02-01T080000Z")}) {
            const QString root = m_vault + QLatin1Char('/') + backup;
            writeFile(root + QStringLiteral("/.ssh/id_ed25519"), "PRIVATE KEY", 0600);
            writeFile(root + QStringLiteral("/.ssh/known_hosts"), "host a", 0644);
            writeFile(root + QStringLiteral("/.ssh/config"), "Host *", 0644);
            writeFile(root + QStringLiteral("/docs/letters/2024.txt"), QByteArray(100000, 'l'), 0640);
            QVERIFY(QFile::link(QStringLiteral("id_ed25519"), root + QStringLiteral("/.ssh/key-link")));
        }
        QDir().mkpath(m_vault + QStringLiteral("/snapshots/2025-02-02T090000Z.partial"));
        QDir().mkpath(m_vault + QStringLiteral("/snapshots/notes"));
        QDir().mkpath(m_vault + QStringLiteral("/.coffer/sync"));

        // The live folders now: one file changed, one deleted, one added, one excluded.
        writeFile(m_live + QStringLiteral("/.ssh/id_ed25519"), "PRIVATE KEY", 0600);
        writeFile(m_live + QStringLiteral("/.ssh/known_hosts"), "host a\nhost b", 0644, 1800000000);
        writeFile(m_live + QStringLiteral("/.ssh/authorized_keys"), "ssh-ed25519 AAAA", 0600);
        writeFile(m_live + QStringLiteral("/.ssh/agent.tmp"), "socket-ish", 0600);
        QVERIFY(QFile::link(QStringLiteral("id_ed25519"), m_live + QStringLiteral("/.ssh/key-link")));
    }

    void listsTheMirrorThenSnapshotsNewestFirst()
    {
        const std::vector<Restore::Backup> backups = Restore::listBackups(fileBytes(m_vault));
        QCOMPARE(backups.size(), size_t(3));
        QVERIFY(backups[0].mirror);
        QCOMPARE(backups[0].path, std::string("current"));
        QCOMPARE(backups[1].name, std::string("2025-02-01T080000Z"));
        QCOMPARE(backups[1].path, std::string("snapshots/2025-02-01T080000Z"));
        QCOMPARE(*backups[1].time, QDateTime(QDate(2025, 2, 1), QTime(8, 0), Qt::UTC));
        QCOMPARE(backups[2].name, std::string("2025-01-31T120000Z"));
        QCOMPARE(Test::codeOf([] { Restore::listBackups("/nonexistent/vault"); }), ErrorCode::NotFound);

        QCOMPARE(Restore::snapshotTime("2025-01-31T120000Z-2")->time(), QTime(12, 0));
        QVERIFY(!Restore::snapshotTime("2025-01-31T120000Z-"));
        QVERIFY(!Restore::snapshotTime("2025-13-31T120000Z"));
        QVERIFY(!Restore::snapshotTime("2025-01-31T120000Z.partial"));
    }

    void comparesWithTheLiveFolders()
    {
        const std::string backup = fileBytes(m_vault + QStringLiteral("/snapshots/2025-02-01T080000Z"));
        const Restore::Tree tree =
            Restore::readBackup(backup, {fileBytes(m_live + QStringLiteral("/.ssh/"))}, {"*.tmp"});
        const QMap<QString, Change> c = changesOf(tree);
        QCOMPARE(c.value(QStringLiteral(".ssh")), Change::Unchanged);
        QCOMPARE(c.value(QStringLiteral(".ssh/id_ed25519")), Change::Unchanged);
        QCOMPARE(c.value(QStringLiteral(".ssh/key-link")), Change::Unchanged);
        QCOMPARE(c.value(QStringLiteral(".ssh/known_hosts")), Change::Changed);
        QCOMPARE(c.value(QStringLiteral(".ssh/config")), Change::Deleted);
        QCOMPARE(c.value(QStringLiteral(".ssh/authorized_keys")), Change::Added);
        QVERIFY(!c.contains(QStringLiteral(".ssh/agent.tmp"))); // excluded: never in a backup
        // "docs" is no longer backed up: not compared.
        QCOMPARE(c.value(QStringLiteral("docs/letters/2024.txt")), Change::NotCompared);
        QCOMPARE(tree.changed, uint64_t(1));
        QCOMPARE(tree.deleted, uint64_t(1));
        QCOMPARE(tree.added, uint64_t(1));
        QCOMPARE(tree.unchanged, uint64_t(3));
        QVERIFY(tree.problems.empty());
        // A directory comes right before what it holds.
        QCOMPARE(QString::fromStdString(tree.entries[0].path), QStringLiteral(".ssh"));
        const Restore::Entry &key = tree.entries[size_t(c.keys().indexOf(QStringLiteral(".ssh/id_ed25519")))];
        QCOMPARE(key.size, uint64_t(11));
        QCOMPARE(key.mode, 0600u);

        // A changed link target and a changed permission are changes too.
        QFile::remove(m_live + QStringLiteral("/.ssh/key-link"));
        QVERIFY(QFile::link(QStringLiteral("other"), m_live + QStringLiteral("/.ssh/key-link")));
        QCOMPARE(::chmod(fileBytes(m_live + QStringLiteral("/.ssh/id_ed25519")).c_str(), 0644), 0);
        const QMap<QString, Change> again = changesOf(Restore::readBackup(backup, {fileBytes(m_live + QStringLiteral("/.ssh"))}, {}));
        QCOMPARE(again.value(QStringLiteral(".ssh/key-link")), Change::Changed);
        QCOMPARE(again.value(QStringLiteral(".ssh/id_ed25519")), Change::Changed);
        QCOMPARE(again.value(QStringLiteral(".ssh/agent.tmp")), Change::Added); // no pattern now

        // The live folder gone altogether: everything in the backup is deleted.
        const Restore::Tree gone = Restore::readBackup(backup, {fileBytes(m_dir.filePath(QStringLiteral("nowhere/.ssh")))}, {});
        QCOMPARE(changesOf(gone).value(QStringLiteral(".ssh/id_ed25519")), Change::Deleted);
        QCOMPARE(gone.deleted, uint64_t(5));

        std::atomic<bool> cancel{true};
        QCOMPARE(Test::codeOf([&] { Restore::readBackup(backup, {}, {}, &cancel); }), ErrorCode::Cancelled);
    }

    void restoresAFile()
    {
        const QString backup = m_vault + QStringLiteral("/snapshots/2025-01-31T120000Z");
        const QString target = m_dir.filePath(QStringLiteral("restored/keys 2025-01-31"));
        QList<Restore::RestoreProgress> seen;
        const Restore::RestoreResult r = Restore::restore(
            {fileBytes(backup), ".ssh/id_ed25519", fileBytes(target), "id_ed25519", false},
            [&](const Restore::RestoreProgress &p) { seen << p; });
        QCOMPARE(QString::fromStdString(r.restored), target + QStringLiteral("/id_ed25519"));
        QCOMPARE(r.entries, uint64_t(1));
        QCOMPARE(r.bytes, uint64_t(11));
        compareFiles(backup + QStringLiteral("/.ssh/id_ed25519"), target + QStringLiteral("/id_ed25519"));
        QCOMPARE(statOf(target).st_mode & 0777, mode_t(0700)); // the new folder is private
        QVERIFY(!seen.isEmpty());
        QCOMPARE(seen.last().bytesDone, seen.last().bytesTotal);
        // Nothing else was left there (no temporary names).
        QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList{QStringLiteral("id_ed25519")});
    }

    void restoresAFolder()
    {
        const QString backup = m_vault + QStringLiteral("/current");
        QCOMPARE(::chmod(fileBytes(backup + QStringLiteral("/.ssh")).c_str(), 0700), 0);
        const QString target = m_dir.filePath(QStringLiteral("restored-folder"));
        const Restore::RestoreResult r = Restore::restore({fileBytes(backup), ".ssh", fileBytes(target), ".ssh", false});
        QCOMPARE(r.entries, uint64_t(5));
        const QString out = target + QStringLiteral("/.ssh");
        for (const char *name : {"id_ed25519", "known_hosts", "config"})
            compareFiles(backup + QStringLiteral("/.ssh/") + QLatin1String(name), out + QLatin1Char('/') + QLatin1String(name));
        QCOMPARE(QFile::symLinkTarget(out + QStringLiteral("/key-link")), out + QStringLiteral("/id_ed25519"));
        QVERIFY(S_ISLNK(statOf(out + QStringLiteral("/key-link")).st_mode));
        const struct stat src = statOf(backup + QStringLiteral("/.ssh")), dst = statOf(out);
        QCOMPARE(dst.st_mode, src.st_mode);
        QCOMPARE(dst.st_mtim.tv_sec, src.st_mtim.tv_sec);
        QCOMPARE(dst.st_mtim.tv_nsec, src.st_mtim.tv_nsec);

        // A nested folder on its own.
        const Restore::RestoreResult letters =
            Restore::restore({fileBytes(backup), "docs/letters", fileBytes(target), "letters", false});
        QCOMPARE(letters.bytes, uint64_t(100000));
        compareFiles(backup + QStringLiteral("/docs/letters/2024.txt"), target + QStringLiteral("/letters/2024.txt"));
    }

    void neverOverwritesUnasked()
    {
        const QString backup = m_vault + QStringLiteral("/current");
        const QString target = m_dir.filePath(QStringLiteral("occupied"));
        writeFile(target + QStringLiteral("/known_hosts"), "mine, newer", 0600);
        const Restore::RestoreRequest request{fileBytes(backup), ".ssh/known_hosts", fileBytes(target), "known_hosts", false};
        QVERIFY(Restore::targetExists(request.targetDir, request.targetName));
        QCOMPARE(Test::codeOf([&] { Restore::restore(request); }), ErrorCode::InvalidArgument);
        QFile kept(target + QStringLiteral("/known_hosts"));
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QCOMPARE(kept.readAll(), QByteArray("mine, newer"));
        kept.close();

        // Asked: replaced, whole.
        Restore::RestoreRequest replace = request;
        replace.replace = true;
        Restore::restore(replace);
        compareFiles(backup + QStringLiteral("/.ssh/known_hosts"), target + QStringLiteral("/known_hosts"));
        // A folder over a folder: the old one goes entirely.
        writeFile(target + QStringLiteral("/.ssh/stale"), "old", 0600);
        Restore::restore({fileBytes(backup), ".ssh", fileBytes(target), ".ssh", true});
        QVERIFY(!QFile::exists(target + QStringLiteral("/.ssh/stale")));
        QVERIFY(QFile::exists(target + QStringLiteral("/.ssh/config")));
        QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size(), 2);
    }

    void cancelLeavesNothing()
    {
        const QString backup = m_vault + QStringLiteral("/current");
        const QString target = m_dir.filePath(QStringLiteral("cancelled"));
        std::atomic<bool> cancel{false};
        int calls = 0;
        QCOMPARE(Test::codeOf([&] {
            Restore::restore({fileBytes(backup), "docs", fileBytes(target), "docs", false}, [&](const Restore::RestoreProgress &) {
                if (++calls == 1)
                    cancel = true;
            }, &cancel);
        }), ErrorCode::Cancelled);
        QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
    }

    void badRequests()
    {
        const std::string backup = fileBytes(m_vault + QStringLiteral("/current"));
        const std::string target = fileBytes(m_dir.filePath(QStringLiteral("bad")));
        QCOMPARE(Test::codeOf([&] { Restore::restore({backup, ".ssh/nothing", target, "x", false}); }), ErrorCode::NotFound);
        QCOMPARE(Test::codeOf([&] { Restore::restore({backup, "../../etc/passwd", target, "x", false}); }),
                 ErrorCode::InvalidArgument);
        QCOMPARE(Test::codeOf([&] { Restore::restore({backup, ".ssh/config", target, "../x", false}); }),
                 ErrorCode::InvalidArgument);
        QCOMPARE(Test::codeOf([&] { Restore::restore({backup, ".ssh/config", "relative/dir", "x", false}); }),
                 ErrorCode::InvalidArgument);
        // A symlink in the middle of the item's path is not followed.
        QCOMPARE(Test::codeOf([&] { Restore::restore({backup, ".ssh/key-link/x", target, "x", false}); }),
                 ErrorCode::NotFound);
    }
};

QTEST_GUILESS_MAIN(TestRestore)
#include "test_restore.moc"
