// The root helper's argument checks (design.md 4): every hostile input is refused with the
// right error kind, and nothing is changed.
#include "callerchecks.h"
#include "block/uniquefd.h"
#include "runtimestate.h"
#include "testerror.h"

#include <QDBusUnixFileDescriptor>
#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <thread>

using namespace Coffer;
using namespace Coffer::Helper;
using Coffer::Test::codeOf;

namespace {

UniqueFd openFile(const QString &path, int flags, mode_t mode = 0600)
{
    return UniqueFd(::open(path.toLocal8Bit().constData(), flags | O_CLOEXEC, mode));
}

} // namespace

class TestHelperChecks : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString path(const char *name) { return m_dir.filePath(QString::fromLatin1(name)); }

private Q_SLOTS:
    void emptyOwnFileIsAcceptedForCreate()
    {
        UniqueFd fd = openFile(path("new.img"), O_RDWR | O_CREAT | O_EXCL);
        QVERIFY(fd);
        const BackingFile file = checkBackingFd(fd.get(), getuid(), BackingUse::Create);
        struct stat st {};
        fstat(fd.get(), &st);
        QCOMPARE(file.id.ino, st.st_ino);
        QCOMPARE(file.size, 0u);
        // ... but not for opening: an empty file holds no vault.
        QCOMPARE(codeOf([&] { checkBackingFd(fd.get(), getuid(), BackingUse::Open); }),
                 ErrorCode::NotSupported);
    }

    void nonEmptyFileIsRefusedForCreateAndSurvives()
    {
        UniqueFd fd = openFile(path("full.img"), O_RDWR | O_CREAT | O_EXCL);
        QCOMPARE(write(fd.get(), "precious", 8), 8);
        QCOMPARE(codeOf([&] { checkBackingFd(fd.get(), getuid(), BackingUse::Create); }),
                 ErrorCode::InvalidArgument);
        char buf[16] = {};
        QCOMPARE(pread(fd.get(), buf, sizeof buf, 0), 8);
        QCOMPARE(QByteArray(buf), QByteArray("precious"));
    }

    void readOnlyFdIsRefused()
    {
        { UniqueFd c = openFile(path("ro.img"), O_RDWR | O_CREAT | O_EXCL); }
        UniqueFd fd = openFile(path("ro.img"), O_RDONLY);
        QCOMPARE(codeOf([&] { checkBackingFd(fd.get(), getuid(), BackingUse::Create); }),
                 ErrorCode::InvalidArgument);
    }

    void hardLinkIsRefused()
    {
        UniqueFd fd = openFile(path("linked.img"), O_RDWR | O_CREAT | O_EXCL);
        QCOMPARE(::link(path("linked.img").toLocal8Bit().constData(),
                        path("second-name.img").toLocal8Bit().constData()), 0);
        QCOMPARE(codeOf([&] { checkBackingFd(fd.get(), getuid(), BackingUse::Create); }),
                 ErrorCode::InvalidArgument);
    }

    void symlinkItselfIsRefused()
    {
        { UniqueFd c = openFile(path("target.img"), O_RDWR | O_CREAT | O_EXCL); }
        QCOMPARE(::symlink("target.img", path("sym.img").toLocal8Bit().constData()), 0);
        UniqueFd fd = openFile(path("sym.img"), O_PATH | O_NOFOLLOW);
        QVERIFY(fd);
        QCOMPARE(codeOf([&] { checkBackingFd(fd.get(), getuid(), BackingUse::Create); }),
                 ErrorCode::InvalidArgument);
    }

    void otherUsersFileIsRefused()
    {
        UniqueFd fd = openFile(path("theirs.img"), O_RDWR | O_CREAT | O_EXCL);
        // As root here: the file belongs to root; a caller with another uid is refused.
        QCOMPARE(codeOf([&] { checkBackingFd(fd.get(), getuid() + 4242, BackingUse::Create); }),
                 ErrorCode::NotAuthorized);
    }

    void fifoDirectoryDeviceAndSocketAreRefused()
    {
        QCOMPARE(::mkfifo(path("fifo").toLocal8Bit().constData(), 0600), 0);
        UniqueFd fifo = openFile(path("fifo"), O_RDWR);
        QCOMPARE(codeOf([&] { checkBackingFd(fifo.get(), getuid(), BackingUse::Create); }),
                 ErrorCode::InvalidArgument);
        UniqueFd dir = openFile(m_dir.path(), O_RDONLY | O_DIRECTORY);
        QCOMPARE(codeOf([&] { checkBackingFd(dir.get(), getuid(), BackingUse::Create); }),
                 ErrorCode::InvalidArgument);
        UniqueFd dev = openFile(QStringLiteral("/dev/null"), O_RDWR);
        QCOMPARE(codeOf([&] { checkBackingFd(dev.get(), getuid(), BackingUse::Open); }),
                 ErrorCode::InvalidArgument);
        int sv[2];
        QCOMPARE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        UniqueFd a(sv[0]), b(sv[1]);
        QCOMPARE(codeOf([&] { checkBackingFd(a.get(), getuid(), BackingUse::Open); }),
                 ErrorCode::InvalidArgument);
    }

    void invalidDescriptorIsRefused()
    {
        QDBusUnixFileDescriptor none;
        QCOMPARE(codeOf([&] { fdOf(none, "backing file"); }), ErrorCode::InvalidArgument);
    }

    void outputFile()
    {
        UniqueFd out = openFile(path("header.bak"), O_WRONLY | O_CREAT | O_EXCL);
        checkOutputFd(out.get(), getuid(), FileId{});
        struct stat st {};
        fstat(out.get(), &st);
        QCOMPARE(codeOf([&] { checkOutputFd(out.get(), getuid(), FileId{st.st_dev, st.st_ino}); }),
                 ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([&] { checkOutputFd(out.get(), getuid() + 1, FileId{}); }),
                 ErrorCode::NotAuthorized);
    }

    void secretFromClosedPipe()
    {
        int p[2];
        QCOMPARE(pipe2(p, O_CLOEXEC), 0);
        UniqueFd r(p[0]);
        QCOMPARE(write(p[1], "correct horse", 13), 13);
        close(p[1]);
        const SecretBuffer secret = readSecret(r.get(), 1024);
        QCOMPARE(QByteArray(secret.data(), qsizetype(secret.size())), QByteArray("correct horse"));
    }

    // The buffer grows as the secret arrives: a passphrase of a few bytes takes a page of locked
    // memory, not the 8 MiB a key file may have; a big secret still arrives whole.
    void secretBufferGrowsAsDataArrives()
    {
        int p[2];
        QCOMPARE(pipe2(p, O_CLOEXEC), 0);
        UniqueFd r(p[0]);
        QCOMPARE(write(p[1], "hunter2", 7), 7);
        close(p[1]);
        const SecretBuffer small = readSecret(r.get(), Limits::maxKeyFileBytes);
        QCOMPARE(small.size(), size_t(7));
        QVERIFY2(small.capacity() <= 4096, qPrintable(QString::number(small.capacity())));

        QCOMPARE(pipe2(p, O_CLOEXEC), 0);
        UniqueFd r2(p[0]), w2(p[1]);
        const QByteArray big(200000, 'k'); // more than a pipe holds: written while read
        std::thread writer([&] {
            for (qsizetype off = 0; off < big.size();) {
                const ssize_t n = write(w2.get(), big.constData() + off, size_t(big.size() - off));
                if (n <= 0)
                    break;
                off += n;
            }
            w2.reset();
        });
        const SecretBuffer large = readSecret(r2.get(), Limits::maxKeyFileBytes);
        writer.join();
        QCOMPARE(QByteArray(large.data(), qsizetype(large.size())), big);
        QVERIFY(large.capacity() < Limits::maxKeyFileBytes);
    }

    void secretPipeLeftOpenTimesOut()
    {
        int p[2];
        QCOMPARE(pipe2(p, O_CLOEXEC), 0);
        UniqueFd r(p[0]), w(p[1]);
        QCOMPARE(write(w.get(), "x", 1), 1);
        QCOMPARE(codeOf([&] { readSecret(r.get(), 1024, 200); }), ErrorCode::InvalidArgument);
    }

    void secretTooLongIsRefused()
    {
        int p[2];
        QCOMPARE(pipe2(p, O_CLOEXEC), 0);
        UniqueFd r(p[0]);
        QCOMPARE(write(p[1], "0123456789", 10), 10);
        close(p[1]);
        QCOMPARE(codeOf([&] { readSecret(r.get(), 4, 200); }), ErrorCode::InvalidArgument);
    }

    void secretFromKeyFileAndNotFromDevices()
    {
        UniqueFd key = openFile(path("key"), O_RDWR | O_CREAT | O_EXCL);
        QCOMPARE(write(key.get(), "\x00\x01\x02", 3), 3);
        UniqueFd ro = openFile(path("key"), O_RDONLY);
        const SecretBuffer secret = readSecret(ro.get(), 1024);
        QCOMPARE(secret.size(), size_t(3));
        UniqueFd zero = openFile(QStringLiteral("/dev/zero"), O_RDONLY);
        QCOMPARE(codeOf([&] { readSecret(zero.get(), 1024, 200); }), ErrorCode::InvalidArgument);
        UniqueFd big = openFile(path("bigkey"), O_RDWR | O_CREAT | O_EXCL);
        QCOMPARE(ftruncate(big.get(), 4096), 0);
        QCOMPARE(codeOf([&] { readSecret(big.get(), 1024, 200); }), ErrorCode::InvalidArgument);
    }

    void names_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("ok");
        QTest::newRow("plain") << "backup" << true;
        QTest::newRow("spaces inside") << "my keys 2026" << true;
        QTest::newRow("unicode") << QStringLiteral("Schlüssel") << true;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("slash") << "a/b" << false;
        QTest::newRow("dotdot") << ".." << false;
        QTest::newRow("dot") << "." << false;
        QTest::newRow("hidden") << ".x" << false;
        QTest::newRow("dash") << "-rf" << false;
        QTest::newRow("backslash") << "a\\b" << false;
        QTest::newRow("newline") << "a\nb" << false;
        QTest::newRow("tab") << "a\tb" << false;
        QTest::newRow("nul") << QString(QStringLiteral("a") + QChar(0) + QStringLiteral("b")) << false;
        QTest::newRow("leading space") << " a" << false;
        QTest::newRow("one byte too long") << QString(qsizetype(Limits::maxNameBytes) + 1, QLatin1Char('a')) << false;
        QTest::newRow("longest") << QString(qsizetype(Limits::maxNameBytes), QLatin1Char('a')) << true;
        QTest::newRow("4 KiB") << QString(4096, QLatin1Char('a')) << false;
        QTest::newRow("rtl override") << QStringLiteral("a\u202Eb") << false;
        QTest::newRow("zero width") << QStringLiteral("a\u200Bb") << false;
        QTest::newRow("trailing space") << "a " << false;
        QTest::newRow("no-break space first") << QStringLiteral("\u00A0a") << false;
        QTest::newRow("C1 control") << QStringLiteral("a\u0085b") << false;
        QTest::newRow("DEL") << "a\x7f" << false;
    }

    void names()
    {
        QFETCH(QString, name);
        QFETCH(bool, ok);
        QCOMPARE(codeOf([&] { checkName(name); }) != ErrorCode::InvalidArgument, ok);
    }

    // A name from a header (someone's file) meets the rule a caller's name meets, or the mount
    // point gets a fixed name: nothing of a header's that fails it becomes a path.
    void mountNameFromAHeader()
    {
        QCOMPARE(mountNameFor("keys"), std::string("keys"));
        QCOMPARE(mountNameFor("../../etc"), std::string("vault"));
        QCOMPARE(mountNameFor(""), std::string("vault")); // LUKS1: no label
        QCOMPARE(mountNameFor("a\xff" "b"), std::string("vault")); // not UTF-8
        QCOMPARE(mountNameFor("a\xe2\x80\x8b" "b"), std::string("vault")); // zero-width space
        QCOMPARE(mountNameFor("\xc0\xaf"), std::string("vault")); // overlong '/'
        QCOMPARE(mountNameFor(std::string("a\0b", 3)), std::string("vault"));
        QCOMPARE(mountNameFor("Schl\xc3\xbcssel"), std::string("Schl\xc3\xbcssel"));
        // The label's prefix comes off in one place.
        QCOMPARE(Vault::nameFromLabel("coffer:keys"), std::string("keys"));
        QCOMPARE(Vault::nameFromLabel("keys"), std::string("keys"));
        QCOMPARE(Vault::labelFor("keys"), std::string("coffer:keys"));
    }

    void sizes()
    {
        QCOMPARE(codeOf([] { checkSize(0); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([] { checkSize(1 << 20); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([] { checkSize(~0ull); }), ErrorCode::InvalidArgument);
        QCOMPARE(checkSize(64ull << 20), 64ull << 20);
    }

    void sources()
    {
        const auto s = checkSources({QStringLiteral("/home/alice/.ssh/"), QStringLiteral("/etc")});
        QCOMPARE(s.size(), size_t(2));
        QCOMPARE(s[0], std::string("/home/alice/.ssh"));
        QCOMPARE(codeOf([] { checkSources({}); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([] { checkSources({QStringLiteral("relative")}); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([] { checkSources({QStringLiteral("/")}); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([] { checkSources({QStringLiteral("/a//b")}); }), ErrorCode::InvalidArgument);
    }

    void runtimeStateMountPointsAndRecords()
    {
        QTemporaryDir runDir;
        RuntimeState state(runDir.filePath(QStringLiteral("coffer")).toStdString());
        const std::string first = state.makeMountPoint(1000, "keys");
        const std::string second = state.makeMountPoint(1000, "keys");
        QCOMPARE(QString::fromStdString(first), runDir.filePath(QStringLiteral("coffer/1000/keys")));
        QVERIFY(first != second);
        struct stat st {};
        QCOMPARE(stat(first.c_str(), &st), 0);
        QCOMPARE(st.st_uid, geteuid());
        QCOMPARE(int(st.st_mode & 07777), 0700);
        QCOMPARE(codeOf([&] { state.makeMountPoint(1000, "../../etc"); }), ErrorCode::InvalidArgument);

        StateRecord r{"3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7b", 1000, "keys", first, {1, 2}, true};
        state.save(r);
        const auto records = state.load();
        QCOMPARE(records.size(), size_t(1));
        QCOMPARE(records[0].uid, uid_t(1000));
        QCOMPARE(records[0].mountPoint, first);
        QCOMPARE(records[0].backing.ino, ino_t(2));
        QVERIFY(records[0].open);
        state.remove(r.backing);
        QVERIFY(state.load().empty());
        state.removeMountPoint(first);
        QVERIFY(stat(first.c_str(), &st) != 0);

        // A planted symlink in place of the user directory is refused.
        QVERIFY(::symlink("/etc", runDir.filePath(QStringLiteral("coffer/2000")).toLocal8Bit().constData()) == 0);
        QCOMPARE(codeOf([&] { state.makeMountPoint(2000, "x"); }), ErrorCode::Failed);
    }

    // Records are the backing files': a copy of a vault (same UUID, another file) has its own
    // record, and forgetting it leaves the original's alone.
    void recordsOfCopiesAreApart()
    {
        QTemporaryDir runDir;
        RuntimeState state(runDir.filePath(QStringLiteral("coffer")).toStdString());
        const std::string uuid = "3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7b";
        state.save({uuid, 1000, "keys", state.makeMountPoint(1000, "keys"), {1, 2}, true});
        state.save({uuid, 1001, "keys", state.makeMountPoint(1001, "keys"), {1, 3}, false});
        QCOMPARE(state.load().size(), size_t(2));
        state.remove(FileId{1, 3});
        const auto records = state.load();
        QCOMPARE(records.size(), size_t(1));
        QCOMPARE(records[0].uid, uid_t(1000));
        QVERIFY(records[0].open);
    }

    // /run/coffer/<uid> is root's and reachable by root and that user only: mode 0700 and the
    // ACL user:<uid>:r-x; /run/coffer itself lists nothing to anyone else. One made 0755 by an
    // older helper is repaired.
    void userDirectoriesArePrivate()
    {
        if (geteuid() != 0)
            QSKIP("directories of root's for another user need root");
        QTemporaryDir runDir;
        const QString root = runDir.filePath(QStringLiteral("coffer"));
        QVERIFY(QDir().mkpath(root + QStringLiteral("/1000")));
        QCOMPARE(chmod((root + QStringLiteral("/1000")).toLocal8Bit().constData(), 0755), 0);
        RuntimeState state(root.toStdString());
        const std::string dir = state.userDir(1000);
        struct stat st {};
        QCOMPARE(stat(dir.c_str(), &st), 0);
        QCOMPARE(st.st_uid, uid_t(0));
        // With an ACL the group bits show its mask: r-x for the named user, nothing for others.
        QCOMPARE(int(st.st_mode & 07777), 0750);
        QCOMPARE(stat(root.toLocal8Bit().constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 07777), 0711);
        char acl[256];
        const ssize_t n = getxattr(dir.c_str(), "system.posix_acl_access", acl, sizeof acl);
        QCOMPARE(n, ssize_t(4 + 5 * 8));
        struct Entry
        {
            uint16_t tag, perm;
            uint32_t id;
        };
        Entry entries[5];
        std::memcpy(entries, acl + 4, sizeof entries);
        QCOMPARE(entries[1].tag, uint16_t(0x02)); // ACL_USER
        QCOMPARE(entries[1].id, uint32_t(1000));
        QCOMPARE(entries[1].perm, uint16_t(5));
        QCOMPARE(entries[2].perm, uint16_t(0)); // group
        QCOMPARE(entries[4].perm, uint16_t(0)); // other
    }

    // The top folder of a mounted vault is its owner's alone; a read-only one that is not is
    // refused (it cannot be changed).
    void vaultRootsArePrivate()
    {
        if (geteuid() != 0)
            QSKIP("giving a folder to another user needs root");
        QTemporaryDir dir;
        const std::string top = dir.path().toStdString();
        QCOMPARE(chmod(top.c_str(), 0755), 0);
        QCOMPARE(codeOf([&] { RuntimeState::makeVaultRootPrivate(top, 1000, 1000, true); }), ErrorCode::NotSupported);
        RuntimeState::makeVaultRootPrivate(top, 1000, 1000, false);
        struct stat st {};
        QCOMPARE(stat(top.c_str(), &st), 0);
        QCOMPARE(st.st_uid, uid_t(1000));
        QCOMPARE(int(st.st_mode & 07777), 0700);
        RuntimeState::makeVaultRootPrivate(top, 1000, 1000, true); // private already: fine
    }
};

QTEST_GUILESS_MAIN(TestHelperChecks)
#include "test_helper_checks.moc"
