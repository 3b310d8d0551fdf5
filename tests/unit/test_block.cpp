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
#include <unistd.h>

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
