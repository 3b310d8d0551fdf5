// L0: the block layer's pure logic — medium verdicts, name rules, secrets in locked memory.

#include "block/kdflimits.h"
#include "block/mediuminternal.h"
#include "block/secretbuffer.h"
#include "block/util.h"
#include "block/vault.h"
#include "block/vaultinternal.h"
#include "error.h"

#include <QtTest>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

using namespace Coffer;

class TestBlock : public QObject
{
    Q_OBJECT

private slots:
    void vfatRefusesFourGiB()
    {
        Vault::MediumInfo m = Vault::mediumInfoFor(0x4d44, 100ull << 30);
        QCOMPARE(QString::fromStdString(m.fsType), QStringLiteral("vfat"));
        QVERIFY(!m.canSparse);
        QCOMPARE(m.warnings.size(), size_t(1));
        QVERIFY(m.warnings[0].find("cannot hold sparse files") != std::string::npos);
        Vault::checkFits(m, (4ull << 30) - 4096, (4ull << 30) - 4096); // just below: fine
        try {
            Vault::checkFits(m, 5ull << 30, 5ull << 30);
            QFAIL("a 5 GiB vault on vfat was accepted");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::NoSpace);
            QVERIFY(e.message().find("4 GiB") != std::string::npos);
        }
    }

    void exfatWarnsButAllowsBigFiles()
    {
        Vault::MediumInfo m = Vault::mediumInfoFor(0x2011BAB0, 100ull << 30);
        QCOMPARE(QString::fromStdString(m.fsType), QStringLiteral("exfat"));
        QVERIFY(!m.canSparse);
        QVERIFY(!m.warnings.empty());
        Vault::checkFits(m, 64ull << 30, 64ull << 30);
    }

    void ext4IsQuiet()
    {
        Vault::MediumInfo m = Vault::mediumInfoFor(0xEF53, 1ull << 30);
        QCOMPARE(QString::fromStdString(m.fsType), QStringLiteral("ext4"));
        QVERIFY(m.canSparse);
        QVERIFY(m.warnings.empty());
    }

    void freeSpaceIsChecked()
    {
        Vault::MediumInfo m = Vault::mediumInfoFor(0xEF53, 1ull << 30);
        try {
            Vault::checkFits(m, 2ull << 30, 2ull << 30);
            QFAIL("a vault larger than the free space was accepted");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::NoSpace);
            QVERIFY(e.message().find("1.0 GiB free") != std::string::npos);
        }
    }

    void unknownFilesystemIsNamedByMagic()
    {
        QCOMPARE(QString::fromStdString(Vault::mediumInfoFor(0x1234, 0).fsType), QStringLiteral("0x1234"));
    }

    void names_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<bool>("ok");
        QTest::newRow("plain") << QByteArray("keys") << true;
        QTest::newRow("utf8") << QByteArray("Schl\xc3\xbcssel") << true;
        QTest::newRow("spaces") << QByteArray("my keys") << true;
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("slash") << QByteArray("a/b") << false;
        QTest::newRow("dot") << QByteArray(".") << false;
        QTest::newRow("dotdot") << QByteArray("..") << false;
        QTest::newRow("newline") << QByteArray("a\nb") << false;
        QTest::newRow("tab") << QByteArray("a\tb") << false;
        QTest::newRow("40") << QByteArray(40, 'x') << true;
        QTest::newRow("41") << QByteArray(41, 'x') << false;
        QTest::newRow("4k") << QByteArray(4096, 'x') << false;
    }
    void names()
    {
        QFETCH(QByteArray, name);
        QFETCH(bool, ok);
        bool accepted = true;
        try {
            Vault::validateName(name.toStdString());
        } catch (const Error &e) {
            accepted = false;
            QCOMPARE(e.code(), ErrorCode::InvalidArgument);
        }
        QCOMPARE(accepted, ok);
    }

    void canonicalUuids()
    {
        QVERIFY(Vault::isCanonicalLuksUuid("3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7b"));
        QVERIFY(Vault::isCanonicalLuksUuid("3F2B8C1E-7A4D-4E59-9B0A-2C6D8E1F0A7B"));
        for (const char *bad : {"", "../../../etc/x", "3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7", "3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7bc",
                                "3f2b8c1e_7a4d-4e59-9b0a-2c6d8e1f0a7b", "3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a/b",
                                "3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7\n", "g f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7"})
            QVERIFY2(!Vault::isCanonicalLuksUuid(bad), bad);
        QVERIFY(!Vault::isCanonicalLuksUuid(std::string_view("3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7\0", 36)));
    }

    // The caps on a header's key derivation: per slot, and over all slots.
    void headerKdfCaps()
    {
        using KdfLimits::SlotCost;
        using namespace KdfLimits::Header;
        const SlotCost argon{0, "argon2id", 4, 1u << 20, 4, 100000}; // cryptsetup's usual
        const SlotCost pbkdf2{1, "pbkdf2", 2000000, 0, 0, 100000};
        KdfLimits::checkHeader(std::vector<SlotCost>{argon, pbkdf2});
        auto refused = [](const std::vector<SlotCost> &costs) {
            try {
                KdfLimits::checkHeader(costs);
            } catch (const Error &e) {
                return e.code() == ErrorCode::NotSupported;
            }
            return false;
        };
        SlotCost s = argon;
        s.memoryKiB = maxArgonMemoryKiB + 1;
        QVERIFY(refused({s}));
        s = argon;
        s.threads = maxArgonThreads + 1;
        QVERIFY(refused({s}));
        s = argon;
        s.iterations = maxArgonWork / s.memoryKiB; // exactly at the cap
        QVERIFY(!refused({s}));
        s.iterations += 1;
        QVERIFY(refused({s}));
        s = argon;
        s.memoryKiB = 8;
        s.iterations = maxArgonWork / 8 + 1; // cheap passes, many of them
        QVERIFY(refused({s}));
        s = pbkdf2;
        s.iterations = maxPbkdf2Iterations + 1;
        QVERIFY(refused({s}));
        s = argon;
        s.digestIterations = maxPbkdf2Iterations + 1;
        QVERIFY(refused({s}));
        s = argon;
        s.kdf = "scrypt";
        QVERIFY(refused({s}));
        // Together: two slots at the cap are fine, three are not.
        s = argon;
        s.iterations = maxArgonWork / s.memoryKiB;
        QVERIFY(!refused({s, s}));
        QVERIFY(refused({s, s, s}));
        s = pbkdf2;
        s.iterations = maxPbkdf2Iterations;
        s.digestIterations = 0;
        QVERIFY(!refused({s, s}));
        QVERIFY(refused({s, s, s}));
        // Digests add up with the slots they check.
        s = argon;
        s.digestIterations = maxPbkdf2Iterations;
        QVERIFY(refused({s, s, s}));
    }

    // What a caller may ask of a new slot lies within what a header may cost.
    void newSlotLimits()
    {
        using namespace KdfLimits::NewSlot;
        KdfLimits::checkNewSlot(Vault::PbkdfOptions{});
        KdfLimits::checkNewSlot({maxMemoryKiB, 0, 0, 0});
        KdfLimits::checkNewSlot({8192, 0, maxIterations, 1});
        KdfLimits::checkNewSlot({maxMemoryKiB, 0, uint32_t(KdfLimits::Header::maxArgonWork / maxMemoryKiB), 4});
        KdfLimits::checkNewSlot({0, maxIterMs, 0, 0});
        for (const Vault::PbkdfOptions &bad : {Vault::PbkdfOptions{maxMemoryKiB + 1, 0, 0, 0},
                                               Vault::PbkdfOptions{minMemoryKiB - 1, 0, 0, 0},
                                               Vault::PbkdfOptions{0, maxIterMs + 1, 0, 0},
                                               Vault::PbkdfOptions{0, 0, maxIterations + 1, 0},
                                               Vault::PbkdfOptions{maxMemoryKiB, 0, maxIterations, 0},
                                               Vault::PbkdfOptions{0, 0, 4, 1000}}) {
            try {
                KdfLimits::checkNewSlot(bad);
                QFAIL("accepted");
            } catch (const Error &e) {
                QCOMPARE(e.code(), ErrorCode::InvalidArgument);
            }
        }
    }

    // The pages of a secret: its own, locked, out of core dumps, zero in a forked child.
    void secretMemoryIsPrivate()
    {
        auto vmLockedKiB = [] {
            const std::string status = readSmallFile("/proc/self/status");
            const size_t at = status.find("VmLck:");
            return at == std::string::npos ? -1L : std::atol(status.c_str() + at + 6);
        };
        const long lockedBefore = vmLockedKiB();
        SecretBuffer s = SecretBuffer::fromString("correct horse battery staple");
        QCOMPARE(s.capacity(), size_t(::sysconf(_SC_PAGESIZE)));
        if (::geteuid() == 0) {
            QVERIFY(s.locked());
            QCOMPARE(vmLockedKiB() - lockedBefore, long(s.capacity() / 1024));
        }
        // The mapping's flags: "dd" MADV_DONTDUMP, "wf" MADV_WIPEONFORK, "lo" locked.
        const auto address = reinterpret_cast<uintptr_t>(s.data());
        std::istringstream smaps(readSmallFile("/proc/self/smaps", 64 << 20));
        std::string line, flags;
        bool inside = false;
        while (std::getline(smaps, line)) {
            unsigned long from = 0, to = 0;
            if (std::sscanf(line.c_str(), "%lx-%lx ", &from, &to) == 2 && line.find(':') > line.find(' '))
                inside = address >= from && address < to;
            else if (inside && line.rfind("VmFlags:", 0) == 0)
                flags = line;
        }
        QVERIFY2(flags.find(" dd") != std::string::npos, flags.c_str());
        QVERIFY2(flags.find(" wf") != std::string::npos, flags.c_str());
        if (s.locked())
            QVERIFY2(flags.find(" lo") != std::string::npos, flags.c_str());

        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            const char *p = s.data();
            bool zero = true;
            for (size_t i = 0; i < s.capacity(); ++i)
                zero = zero && p[i] == 0;
            ::_exit(zero ? 0 : 1);
        }
        int status = 0;
        QCOMPARE(::waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), 0); // the child saw zeros where the parent has the secret
        QCOMPARE(QByteArray(s.data(), int(s.size())), QByteArray("correct horse battery staple"));

        s.wipe();
        QVERIFY(s.empty());
        QCOMPARE(s.capacity(), size_t(0));
        if (::geteuid() == 0)
            QCOMPARE(vmLockedKiB(), lockedBefore);
    }

    // Growing moves the secret into new pages; shrinking wipes what is dropped.
    void secretGrowsAndShrinks()
    {
        const size_t page = size_t(::sysconf(_SC_PAGESIZE));
        SecretBuffer s;
        QVERIFY(s.data() != nullptr);
        QCOMPARE(s.capacity(), size_t(0));
        s.reserve(10);
        QCOMPARE(s.capacity(), page);
        std::memcpy(s.data(), "0123456789", 10); // read into the room, then made visible
        s.resize(10);
        QCOMPARE(QByteArray(s.data(), 10), QByteArray("0123456789"));
        s.resize(3 * page + 1); // grows: new pages, contents kept, the rest zero
        QCOMPARE(s.capacity(), 4 * page);
        QCOMPARE(QByteArray(s.data(), 10), QByteArray("0123456789"));
        QCOMPARE(s.data()[3 * page], '\0');
        s.truncate(4);
        QCOMPARE(QByteArray(s.data(), 4), QByteArray("0123"));
        for (size_t i = 4; i < s.capacity(); ++i)
            QVERIFY2(s.data()[i] == 0, qPrintable(QString::number(i))); // the dropped bytes are wiped
        s.reserve(page); // never shrinks
        QCOMPARE(s.capacity(), 4 * page);
        SecretBuffer zeros(5);
        QCOMPARE(QByteArray(zeros.data(), 5), QByteArray(5, 0));
    }

    void secretFromPipe()
    {
        int p[2];
        QVERIFY(::pipe(p) == 0);
        QByteArray text(10000, 's'); // bigger than the first locked page
        QCOMPARE(::write(p[1], text.constData(), text.size()), ssize_t(text.size()));
        ::close(p[1]);
        SecretBuffer s = SecretBuffer::readFromFd(p[0]);
        ::close(p[0]);
        QCOMPARE(s.size(), size_t(text.size()));
        QCOMPARE(QByteArray(s.data(), int(s.size())), text);
        s.truncate(3);
        QCOMPARE(s.size(), size_t(3));
        SecretBuffer moved = std::move(s);
        QCOMPARE(moved.size(), size_t(3));
        QVERIFY(s.empty());
    }

    void secretTooLong()
    {
        int p[2];
        QVERIFY(::pipe(p) == 0);
        QByteArray text(200, 'x');
        QCOMPARE(::write(p[1], text.constData(), text.size()), ssize_t(text.size()));
        ::close(p[1]);
        try {
            SecretBuffer::readFromFd(p[0], 100);
            QFAIL("an over-long secret was accepted");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::InvalidArgument);
            QVERIFY(e.message().find("xxx") == std::string::npos); // never the secret itself
        }
        ::close(p[0]);
    }

    void randomKeysDiffer()
    {
        SecretBuffer a = Vault::randomKey(64), b = Vault::randomKey(64);
        QCOMPARE(a.size(), size_t(64));
        QVERIFY(QByteArray(a.data(), 64) != QByteArray(b.data(), 64));
    }

    void toolsRunWithoutShell()
    {
        ToolResult r = runTool({"/bin/echo", "a;b", "$HOME"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(QString::fromStdString(r.output), QStringLiteral("a;b $HOME\n"));
        ToolResult env = runTool({"/usr/bin/env"});
        QCOMPARE(QString::fromStdString(env.output),
                 QStringLiteral("PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n"));
        QCOMPARE(QString::fromStdString(lastLine("one\ntwo\n\n")), QStringLiteral("two"));
    }

    // A tool that does not finish is killed at its timeout, with a result that says so.
    void toolsAreStoppedAtTheirTimeout()
    {
        ToolOptions o;
        o.timeoutMs = 200;
        const ToolResult r = runTool({"/bin/sleep", "60"}, o);
        QVERIFY(r.timedOut);
        QCOMPARE(r.exitCode, -1);
        o.timeoutMs = 60000;
        const ToolResult quick = runTool({"/bin/true"}, o);
        QVERIFY(!quick.timedOut);
        QCOMPARE(quick.exitCode, 0);
        QCOMPARE(runTool({"/bin/false"}).exitCode, 1);
        try {
            runTool({"/nonexistent/tool"});
            QFAIL("a missing tool ran");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::NotSupported);
            QVERIFY2(e.message().find("/nonexistent/tool") != std::string::npos, e.message().c_str());
        }
    }

    void waitUntilTimesOut()
    {
        QElapsedTimer t;
        t.start();
        QVERIFY(!waitUntil(100, [] { return false; }));
        QVERIFY(t.elapsed() >= 100);
        int n = 0;
        QVERIFY(waitUntil(1000, [&] { return ++n == 3; }));
    }
};

QTEST_GUILESS_MAIN(TestBlock)
#include "test_block.moc"
