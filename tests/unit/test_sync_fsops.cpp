// The sync engine's file-system primitives (core/sync/fsops.h) where a hostile destination
// could try to lead them out: entry names, removal, and opening paths beneath a root.

#include "block/uniquefd.h"
#include "sync/fsops.h"

#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Sync;

class TestSyncFsops : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string path(const std::string &rel) const { return m_dir.path().toStdString() + "/" + rel; }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // root/ (inside/ (file), link -> .., ) and a victim next to root.
        QCOMPARE(::mkdir(path("root").c_str(), 0700), 0);
        QCOMPARE(::mkdir(path("root/inside").c_str(), 0700), 0);
        QCOMPARE(::close(::open(path("root/inside/file").c_str(), O_CREAT | O_WRONLY, 0600)), 0);
        QCOMPARE(::symlink("..", path("root/link").c_str()), 0);
        QCOMPARE(::close(::open(path("victim").c_str(), O_CREAT | O_WRONLY, 0600)), 0);
    }

    void entryNames()
    {
        for (const char *good : {"a", "...", ".hidden", "a b", "\xff"})
            QVERIFY2(isEntryName(good), good);
        for (const char *bad : {"", ".", "..", "a/b", "/", "../x"})
            QVERIFY2(!isEntryName(bad), bad);
        QVERIFY(!isEntryName(std::string_view("a\0b", 3)));
        QVERIFY(isEntryName(std::string(255, 'x')));
        QVERIFY(!isEntryName(std::string(256, 'x')));
    }

    void removeTreeStaysInItsDirectory()
    {
        UniqueFd root(::open(path("root/inside").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QVERIFY(root);
        for (const char *name : {"../../victim", "..", ".", "inside/../../victim"}) {
            uint64_t removed = 0;
            try {
                removeTree(root.get(), name, removed);
                QFAIL(name);
            } catch (const SysError &e) {
                QCOMPARE(e.err, EINVAL);
                QCOMPARE(e.side, Side::Destination);
            }
            QCOMPARE(removed, uint64_t(0));
        }
        QCOMPARE(::access(path("victim").c_str(), F_OK), 0);
        QCOMPARE(::access(path("root/inside/file").c_str(), F_OK), 0);
    }

    // With openat2 and without it (component by component), the same answers.
    void openBeneathStaysBeneath()
    {
        UniqueFd root(::open(path("root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QVERIFY(root);
        for (const bool fallback : {false, true}) {
            auto open = [&](const std::string &rel, int flags) {
                return fallback ? openBeneathByComponents(root.get(), rel, flags)
                                : openBeneath(root.get(), rel, flags);
            };
            UniqueFd inside = open("inside", O_PATH | O_DIRECTORY);
            QVERIFY(inside);
            UniqueFd file = open("inside/file", O_RDONLY);
            QVERIFY(file);
            struct stat a, b;
            QCOMPARE(::fstat(file.get(), &a), 0);
            QCOMPARE(::stat(path("root/inside/file").c_str(), &b), 0);
            QCOMPARE(a.st_ino, b.st_ino);
            for (const char *out : {"..", "../victim", "inside/../../victim", "link", "link/victim", "/etc"}) {
                UniqueFd fd = open(out, O_PATH);
                QVERIFY2(!fd, out);
            }
            QVERIFY(!open("missing/file", O_RDONLY));
            QCOMPARE(errno, ENOENT);
        }
    }
};

QTEST_GUILESS_MAIN(TestSyncFsops)
#include "test_sync_fsops.moc"
