// L1 (host, no device-mapper needed): LUKS2 headers on plain files through core/block — format
// defaults, key slots, passphrase checks, header backup/restore, corrupted and hostile headers,
// LUKS1, and the argument checks of create/open that must change nothing.

#include "block/secretbuffer.h"
#include "block/uniquefd.h"
#include "block/vault.h"
#include "block/vaultinternal.h"
#include "error.h"
#include "forge.h"
#include "testerror.h"

#include <QCryptographicHash>
#include <QTemporaryDir>
#include <QtTest>

#include <libcryptsetup.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer;
using Coffer::Test::codeOf;

namespace {

const Vault::PbkdfOptions cheap{8192, 0, 4, 1};

std::string fdPath(int fd)
{
    return "/proc/self/fd/" + std::to_string(fd);
}

QByteArray readAll(int fd)
{
    QByteArray out;
    struct stat st;
    ::fstat(fd, &st);
    out.resize(st.st_size);
    if (::pread(fd, out.data(), out.size(), 0) != out.size())
        return {};
    return out;
}

// A big-endian 32-bit field of a LUKS1 header, written in place (LUKS1 has no checksum).
void putBe32(int fd, off_t offset, quint32 value)
{
    const unsigned char b[4] = {uchar(value >> 24), uchar(value >> 16), uchar(value >> 8), uchar(value)};
    QCOMPARE(::pwrite(fd, b, 4, offset), ssize_t(4));
}

std::string messageOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const Error &e) {
        return e.message();
    }
    return {};
}

} // namespace

class TestBlockLuks : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir{QDir::tempPath() + "/coffer-luks-XXXXXX"};
    SecretBuffer m_pass = SecretBuffer::fromString("correct horse");
    SecretBuffer m_wrong = SecretBuffer::fromString("wrong horse");
    SecretBuffer m_key = SecretBuffer::fromString(std::string(512, 'k') + "\n\x01\x02");

    UniqueFd newFile(const QString &name, off_t size, int flags = O_RDWR)
    {
        QString path = m_dir.filePath(name);
        UniqueFd fd(::open(QFile::encodeName(path).constData(), flags | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (fd && size)
            (void)::ftruncate(fd.get(), size);
        return fd;
    }

    // A header-only vault: what create writes before any device-mapper is involved.
    UniqueFd newVault(const QString &name, bool withKeyFile = false, const std::string &vaultName = "keys")
    {
        UniqueFd fd = newFile(name, 32 << 20);
        Vault::CreateOptions o;
        o.name = vaultName;
        o.pbkdf = cheap;
        if (withKeyFile)
            o.keyFile = &m_key;
        SecretBuffer vk = Vault::randomKey(64);
        Vault::formatLuks2(fdPath(fd.get()), vk, m_pass, o);
        return fd;
    }

    UniqueFd newLuks1(const QString &name)
    {
        UniqueFd fd = newFile(name, 32 << 20);
        crypt_device *cd = nullptr;
        if (crypt_init(&cd, fdPath(fd.get()).c_str()) != 0)
            return {};
        crypt_pbkdf_type p{CRYPT_KDF_PBKDF2, "sha256", 0, 1000, 0, 0, CRYPT_PBKDF_NO_BENCHMARK};
        crypt_params_luks1 params{"sha256", 0, nullptr};
        const bool ok = crypt_set_pbkdf_type(cd, &p) == 0
            && crypt_format(cd, CRYPT_LUKS1, "aes", "xts-plain64", nullptr, nullptr, 64, &params) == 0
            && crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, nullptr, 0, m_pass.data(), m_pass.size()) >= 0;
        crypt_free(cd);
        return ok ? std::move(fd) : UniqueFd();
    }

    // Every way into the header refuses it with the same clear error, before any key derivation.
    void expectRefused(int fd, const char *why)
    {
        for (const std::function<void()> &call : std::vector<std::function<void()>>{
                 [&] { Vault::headerInfo(fd); }, [&] { Vault::checkPassphrase(fd, m_pass); }}) {
            const std::string m = messageOf(call);
            QVERIFY2(m.find(why) != std::string::npos, m.c_str());
            QCOMPARE(codeOf(call), ErrorCode::NotSupported);
        }
    }

private slots:
    // What a new vault gets when nothing is asked for: design.md 2, checked against the design's
    // values (not CreateOptions' defaults), argon2id with cryptsetup's benchmarked cost.
    void formatUsesTheDesignDefaults()
    {
        UniqueFd fd = newFile("design.img", 32 << 20);
        Vault::CreateOptions o;
        o.name = "keys";
        SecretBuffer vk = Vault::randomKey(64);
        Vault::formatLuks2(fdPath(fd.get()), vk, m_pass, o);
        Vault::HeaderInfo h = Vault::headerInfo(fd.get());
        QCOMPARE(QString::fromStdString(h.luksType), QStringLiteral("LUKS2"));
        QCOMPARE(QString::fromStdString(h.cipher), QStringLiteral("aes-xts-plain64"));
        QCOMPARE(h.keyBits, 512u);
        QCOMPARE(h.sectorSize, 4096u);
        QCOMPARE(h.activeKeyslots, (std::vector<int>{0}));
        crypt_device *cd = nullptr;
        QCOMPARE(crypt_init(&cd, fdPath(fd.get()).c_str()), 0);
        QCOMPARE(crypt_load(cd, CRYPT_LUKS2, nullptr), 0);
        crypt_pbkdf_type p{};
        QCOMPARE(crypt_keyslot_get_pbkdf(cd, 0, &p), 0);
        const QString type = QString::fromLatin1(p.type); // p.type lives in cd
        crypt_free(cd);
        QCOMPARE(type, QStringLiteral("argon2id"));
        // Benchmarked: more than the cheap cost the other tests ask for, at most cryptsetup's cap.
        QVERIFY2(p.max_memory_kb > cheap.memoryKiB, qPrintable(QString::number(p.max_memory_kb)));
        QVERIFY(p.max_memory_kb <= crypt_get_pbkdf_default(CRYPT_LUKS2)->max_memory_kb);
        QVERIFY(p.iterations >= 4);
    }

    // What formatLuks2 writes with the options asked for (and the label, subsystem, key file).
    void formatWritesWhatWasAskedFor()
    {
        UniqueFd fd = newVault("defaults.img", true);
        Vault::HeaderInfo h = Vault::headerInfo(fd.get());
        QCOMPARE(QString::fromStdString(h.luksType), QStringLiteral("LUKS2"));
        QCOMPARE(QString::fromStdString(h.label), QStringLiteral("coffer:keys"));
        QCOMPARE(QString::fromStdString(h.subsystem), QStringLiteral("coffer"));
        QCOMPARE(QString::fromStdString(h.cipher), QStringLiteral("aes-xts-plain64"));
        QCOMPARE(h.keyBits, 512u);
        QCOMPARE(h.sectorSize, 4096u);
        QVERIFY(h.isCoffer);
        QCOMPARE(h.activeKeyslots, (std::vector<int>{0, 1}));
        QCOMPARE(QUuid::fromString(QString::fromStdString(h.luksUuid)).isNull(), false);

        // The key derivation is argon2id with what we asked for.
        crypt_device *cd = nullptr;
        QCOMPARE(crypt_init(&cd, fdPath(fd.get()).c_str()), 0);
        QCOMPARE(crypt_load(cd, CRYPT_LUKS2, nullptr), 0);
        crypt_pbkdf_type p{};
        QCOMPARE(crypt_keyslot_get_pbkdf(cd, 0, &p), 0);
        QCOMPARE(QString(p.type), QStringLiteral("argon2id"));
        QCOMPARE(p.max_memory_kb, 8192u);
        QCOMPARE(p.iterations, 4u);
        crypt_free(cd);
    }

    void passphraseAndKeyFile()
    {
        UniqueFd fd = newVault("check.img", true);
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_pass), 0);
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_key), 1);
        QCOMPARE(codeOf([&] { Vault::checkPassphrase(fd.get(), m_wrong); }), ErrorCode::BadPassphrase);
        // A key file is compared byte for byte: one byte less is another key.
        SecretBuffer shorter = SecretBuffer::fromString(std::string(m_key.data(), m_key.size() - 1));
        QCOMPARE(codeOf([&] { Vault::checkPassphrase(fd.get(), shorter); }), ErrorCode::BadPassphrase);
    }

    void changeAddRemoveKeys()
    {
        UniqueFd fd = newVault("keys.img");
        SecretBuffer next = SecretBuffer::fromString("battery staple");
        Vault::changePassphrase(fd.get(), m_pass, next, cheap);
        QCOMPARE(codeOf([&] { Vault::checkPassphrase(fd.get(), m_pass); }), ErrorCode::BadPassphrase);
        QCOMPARE(Vault::checkPassphrase(fd.get(), next), 0);
        QCOMPARE(codeOf([&] { Vault::changePassphrase(fd.get(), m_wrong, m_pass, cheap); }),
                 ErrorCode::BadPassphrase);

        int slot = Vault::addKey(fd.get(), next, m_key, cheap);
        QCOMPARE(slot, 1);
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_key), 1);
        QCOMPARE(codeOf([&] { Vault::addKey(fd.get(), m_wrong, m_pass, cheap); }), ErrorCode::BadPassphrase);

        Vault::removeKey(fd.get(), next);
        QCOMPARE(codeOf([&] { Vault::checkPassphrase(fd.get(), next); }), ErrorCode::BadPassphrase);
        QCOMPARE(Vault::headerInfo(fd.get()).activeKeyslots, (std::vector<int>{1}));
        // The last key stays.
        QVERIFY(messageOf([&] { Vault::removeKey(fd.get(), m_key); }).find("only key") != std::string::npos);
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_key), 1);
    }

    void keyOperationsNeedAWritableFd()
    {
        UniqueFd fd = newVault("ro.img");
        UniqueFd ro(::open(fdPath(fd.get()).c_str(), O_RDONLY | O_CLOEXEC));
        QVERIFY(ro.valid());
        QCOMPARE(Vault::checkPassphrase(ro.get(), m_pass), 0); // reading is fine
        QCOMPARE(codeOf([&] { Vault::addKey(ro.get(), m_pass, m_key, cheap); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([&] { Vault::changePassphrase(ro.get(), m_pass, m_key, cheap); }),
                 ErrorCode::InvalidArgument);
        QCOMPARE(Vault::headerInfo(fd.get()).activeKeyslots, (std::vector<int>{0}));
    }

    void damagedPrimaryHeaderOpensFromTheSecondary()
    {
        UniqueFd fd = newVault("primary.img");
        QByteArray zeros(4096, 0);
        QCOMPARE(::pwrite(fd.get(), zeros.constData(), zeros.size(), 0), ssize_t(4096));
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_pass), 0);
    }

    void headerBackupAndRestore()
    {
        UniqueFd fd = newVault("restore.img");
        UniqueFd backup = newFile("restore.hdr", 0);
        Vault::backupHeader(fd.get(), backup.get());
        QVERIFY(readAll(backup.get()).size() >= (16 << 20) - 4096);

        // Both copies of the header gone: a clear error pointing at the backup.
        QByteArray zeros(32768, 0);
        QCOMPARE(::pwrite(fd.get(), zeros.constData(), zeros.size(), 0), ssize_t(zeros.size()));
        try {
            Vault::checkPassphrase(fd.get(), m_pass);
            QFAIL("a vault without a header opened");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::NotSupported);
            QVERIFY(e.message().find("header backup") != std::string::npos);
        }
        ::lseek(backup.get(), 0, SEEK_SET);
        Vault::restoreHeader(fd.get(), backup.get());
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_pass), 0);
    }

    void restoreRefusesAnotherVaultsBackup()
    {
        UniqueFd a = newVault("a.img");
        UniqueFd b = newVault("b.img");
        UniqueFd backupB = newFile("b.hdr", 0);
        Vault::backupHeader(b.get(), backupB.get());
        const QByteArray before = QCryptographicHash::hash(readAll(a.get()), QCryptographicHash::Sha256);
        ::lseek(backupB.get(), 0, SEEK_SET);
        QVERIFY(messageOf([&] { Vault::restoreHeader(a.get(), backupB.get()); }).find("another vault")
                != std::string::npos);
        QCOMPARE(QCryptographicHash::hash(readAll(a.get()), QCryptographicHash::Sha256), before);
        // Not a backup at all.
        UniqueFd junk = newFile("junk.hdr", 0);
        QByteArray noise(1 << 20, 'n');
        QCOMPARE(::write(junk.get(), noise.constData(), noise.size()), ssize_t(noise.size()));
        ::lseek(junk.get(), 0, SEEK_SET);
        QCOMPARE(codeOf([&] { Vault::restoreHeader(a.get(), junk.get()); }), ErrorCode::InvalidArgument);
        QCOMPARE(QCryptographicHash::hash(readAll(a.get()), QCryptographicHash::Sha256), before);
    }

    void noLuksHeader()
    {
        UniqueFd fd = newFile("noise.img", 0);
        QByteArray noise(8 << 20, 0);
        for (int i = 0; i < noise.size(); ++i)
            noise[i] = char(i * 7 + (i >> 9));
        QCOMPARE(::write(fd.get(), noise.constData(), noise.size()), ssize_t(noise.size()));
        std::string m = messageOf([&] { Vault::checkPassphrase(fd.get(), m_pass); });
        QVERIFY2(m.find("no readable LUKS header") != std::string::npos, m.c_str());
        QCOMPARE(codeOf([&] { Vault::headerInfo(fd.get()); }), ErrorCode::NotSupported);
        QTemporaryDir mnt;
        QCOMPARE(codeOf([&] { Vault::open(fd.get(), m_pass, mnt.path().toStdString()); }), ErrorCode::NotSupported);
        UniqueFd empty = newFile("empty.img", 0);
        QCOMPARE(codeOf([&] { Vault::open(empty.get(), m_pass, mnt.path().toStdString()); }), ErrorCode::NotSupported);
    }

    void unknownRequirementFlagsAreRefused()
    {
        UniqueFd fd = newVault("reqs.img");
        crypt_device *cd = nullptr;
        QCOMPARE(crypt_init(&cd, fdPath(fd.get()).c_str()), 0);
        QCOMPARE(crypt_load(cd, CRYPT_LUKS2, nullptr), 0);
        int r = crypt_persistent_flags_set(cd, CRYPT_FLAGS_REQUIREMENTS, CRYPT_REQUIREMENT_OFFLINE_REENCRYPT);
        crypt_free(cd);
        if (r < 0)
            QSKIP("this libcryptsetup cannot set requirement flags");
        std::string m = messageOf([&] { Vault::checkPassphrase(fd.get(), m_pass); });
        QVERIFY2(m.find("requires something Coffer does not handle") != std::string::npos, m.c_str());

        // A requirement from a newer format (libcryptsetup itself would open this one).
        UniqueFd future = newVault("future.img");
        QVERIFY(Test::forgeLuks2Json(future.get(), "\"config\":{",
                                     "\"config\":{\"requirements\":{\"mandatory\":[\"from-the-future\"]},"));
        expectRefused(future.get(), "requires something Coffer does not handle");
    }

    // Headers forged (with valid checksums) to make root compute or allocate without end: refused
    // before any key derivation runs.
    void absurdKdfCostsAreRefused_data()
    {
        QTest::addColumn<QByteArray>("from");
        QTest::addColumn<QByteArray>("to");
        QTest::newRow("8 GiB of memory") << QByteArray("\"memory\":8192") << QByteArray("\"memory\":8388608");
        QTest::newRow("4e9 passes") << QByteArray("\"time\":4") << QByteArray("\"time\":4000000000");
        QTest::newRow("a million passes") << QByteArray("\"time\":4") << QByteArray("\"time\":1000000");
        QTest::newRow("64 threads") << QByteArray("\"cpus\":1") << QByteArray("\"cpus\":64");
        QTest::newRow("digest") << QByteArray("\"iterations\":1000") << QByteArray("\"iterations\":4000000000");
        QTest::newRow("unknown kdf") << QByteArray("\"type\":\"argon2id\"") << QByteArray("\"type\":\"argon9\"");
    }
    void absurdKdfCostsAreRefused()
    {
        QFETCH(QByteArray, from);
        QFETCH(QByteArray, to);
        UniqueFd fd = newVault("absurd.img");
        QVERIFY(Test::forgeLuks2Json(fd.get(), from, to));
        // libcryptsetup itself may refuse some of these; then it is refused all the same.
        QCOMPARE(codeOf([&] { Vault::headerInfo(fd.get()); }), ErrorCode::NotSupported);
        QCOMPARE(codeOf([&] { Vault::checkPassphrase(fd.get(), m_pass); }), ErrorCode::NotSupported);
        qInfo() << "refused with:" << QString::fromStdString(messageOf([&] { Vault::headerInfo(fd.get()); }));
    }

    // Each slot within the caps, all of them together not: an unlock would run them all.
    void kdfCostsAddUpOverSlots()
    {
        UniqueFd fd = newVault("total.img", true);
        // 8 MiB x 100000 passes each: 0.8 TiB of memory traffic per slot.
        QVERIFY(Test::forgeLuks2Json(fd.get(), "\"time\":4", "\"time\":100000"));
        QCOMPARE(Vault::headerInfo(fd.get()).activeKeyslots, (std::vector<int>{0, 1})); // two: fine
        UniqueFd three = newVault("total3.img", true);
        Vault::addKey(three.get(), m_pass, SecretBuffer::fromString("third"), cheap);
        QVERIFY(Test::forgeLuks2Json(three.get(), "\"time\":4", "\"time\":100000"));
        expectRefused(three.get(), "together");
    }

    void pbkdf2CostsAreCapped()
    {
        // LUKS2 with a PBKDF2 key slot.
        UniqueFd fd = newFile("pbkdf2.img", 32 << 20);
        crypt_device *cd = nullptr;
        QCOMPARE(crypt_init(&cd, fdPath(fd.get()).c_str()), 0);
        crypt_pbkdf_type p{CRYPT_KDF_PBKDF2, "sha256", 0, 1234, 0, 0, CRYPT_PBKDF_NO_BENCHMARK};
        QCOMPARE(crypt_set_pbkdf_type(cd, &p), 0);
        QCOMPARE(crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", nullptr, nullptr, 64, nullptr), 0);
        QVERIFY(crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, nullptr, 0, m_pass.data(), m_pass.size()) >= 0);
        crypt_free(cd);
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_pass), 0);
        QVERIFY(Test::forgeLuks2Json(fd.get(), "\"iterations\":1234", "\"iterations\":4000000000"));
        expectRefused(fd.get(), "PBKDF2 iterations");

        // LUKS1: the key slot's iterations (keyblock[0] at 208, iterations at +4) and the master
        // key digest's (at 164).
        UniqueFd slot = newLuks1("luks1-slot.img");
        QVERIFY(slot);
        QCOMPARE(Vault::checkPassphrase(slot.get(), m_pass), 0);
        putBe32(slot.get(), 208 + 4, 0xF0000000u);
        expectRefused(slot.get(), "PBKDF2 iterations");
        UniqueFd digest = newLuks1("luks1-digest.img");
        QVERIFY(digest);
        putBe32(digest.get(), 164, 0xF0000000u);
        expectRefused(digest.get(), "digest");
    }

    // A header's UUID names the dm mapping and more: one that is not canonical is refused right
    // after the header is read, by every operation.
    void aTinyFileIsNotAVault()
    {
        // Too short to hold any LUKS header: "not a vault", not the I/O error of a pulled drive.
        for (off_t size : {off_t(0), off_t(100), off_t(4095)}) {
            UniqueFd fd = newFile(QStringLiteral("tiny.img"), size);
            UniqueFd out = newFile(QStringLiteral("tiny.hdr"), 0);
            QCOMPARE(codeOf([&] { Vault::backupHeader(fd.get(), out.get()); }), ErrorCode::NotSupported);
            const std::string m = messageOf([&] { Vault::backupHeader(fd.get(), out.get()); });
            QVERIFY2(m.find("not a vault") != std::string::npos, m.c_str());
        }
    }

    void hostileUuidIsRefused_data()
    {
        QTest::addColumn<QByteArray>("uuid");
        QTest::newRow("path") << QByteArray("../../../etc/x");
        QTest::newRow("almost") << QByteArray("3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7/");
        QTest::newRow("newline") << QByteArray("3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7\n");
        QTest::newRow("longer") << QByteArray("3f2b8c1e-7a4d-4e59-9b0a-2c6d8e1f0a7b-xx");
    }
    void hostileUuidIsRefused()
    {
        QFETCH(QByteArray, uuid);
        UniqueFd fd = newVault("uuid.img");
        QVERIFY(Test::forgeLuks2Uuid(fd.get(), uuid));
        expectRefused(fd.get(), "UUID");
        UniqueFd out = newFile("uuid.hdr", 0);
        QCOMPARE(codeOf([&] { Vault::backupHeader(fd.get(), out.get()); }), ErrorCode::NotSupported);
        QCOMPARE(readAll(out.get()).size(), 0);
        QTemporaryDir mnt;
        const std::string m = messageOf([&] { Vault::open(fd.get(), m_pass, mnt.path().toStdString()); });
        QVERIFY2(m.find("UUID") != std::string::npos, m.c_str());
        // As a header backup, it does not become a vault's header either.
        UniqueFd good = newVault("uuid-good.img");
        UniqueFd backup = newFile("good.hdr", 0);
        Vault::backupHeader(good.get(), backup.get());
        QVERIFY(Test::forgeLuks2Uuid(backup.get(), uuid));
        const QByteArray before = readAll(good.get());
        ::lseek(backup.get(), 0, SEEK_SET);
        QCOMPARE(codeOf([&] { Vault::restoreHeader(good.get(), backup.get()); }), ErrorCode::InvalidArgument);
        QVERIFY(readAll(good.get()) == before);
    }

    // A forged LUKS1 header placing a key slot 512 MiB into the file: a header backup would be
    // half a gigabyte. Refused before anything is written.
    void headerBackupHasACap()
    {
        UniqueFd fd = newLuks1("far.img");
        QVERIFY(fd);
        QCOMPARE(::ftruncate(fd.get(), off_t(1) << 30), 0);
        putBe32(fd.get(), 104, (512u << 11) + 1000);     // payloadOffset (sectors), past the slot
        putBe32(fd.get(), 208 + 7 * 48 + 40, 512u << 11); // keyblock[7].keyMaterialOffset
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_pass), 0); // libcryptsetup accepts it
        UniqueFd out = newFile("far.hdr", 0);
        const std::string m = messageOf([&] { Vault::backupHeader(fd.get(), out.get()); });
        QVERIFY2(m.find("larger than") != std::string::npos, m.c_str());
        struct stat st;
        QCOMPARE(::fstat(out.get(), &st), 0);
        QCOMPARE(st.st_size, off_t(0));
    }

    void luks1OpensToo()
    {
        UniqueFd fd = newLuks1("luks1.img");
        QVERIFY(fd);
        Vault::HeaderInfo h = Vault::headerInfo(fd.get());
        QCOMPARE(QString::fromStdString(h.luksType), QStringLiteral("LUKS1"));
        QVERIFY(!h.isCoffer);
        QCOMPARE(Vault::checkPassphrase(fd.get(), m_pass), 0);
        QCOMPARE(codeOf([&] { Vault::checkPassphrase(fd.get(), m_wrong); }), ErrorCode::BadPassphrase);
    }

    void mediumOfARealFile()
    {
        UniqueFd fd = newFile("medium.img", 0);
        Vault::MediumInfo m = Vault::checkMedium(fd.get(), 64 << 20);
        QVERIFY(!m.fsType.empty());
        QVERIFY(m.freeBytes >= (64u << 20));
        QCOMPARE(codeOf([&] { Vault::checkMedium(fd.get(), m.freeBytes + (1ull << 30)); }), ErrorCode::NoSpace);
        // No device-mapper here: nothing of ours can be open, and nothing to clean up.
        if (::access("/dev/mapper/control", F_OK) != 0) {
            QVERIFY(Vault::listOpen().empty());
            QVERIFY(Vault::cleanupStale().empty());
        }
    }

    void kernelCiphersAreListed()
    {
        auto c = Vault::availableCiphers();
        QVERIFY(std::find(c.begin(), c.end(), "aes") != c.end());
    }

    // Bad inputs to create (design.md 4): each a clear error, nothing changed.
    void createRefusesBadInputs()
    {
        Vault::CreateOptions o;
        o.name = "keys";
        o.pbkdf = cheap;

        UniqueFd full = newFile("full.img", 0);
        QCOMPARE(::write(full.get(), "precious", 8), ssize_t(8));
        std::string m = messageOf([&] { Vault::create(full.get(), 64 << 20, m_pass, o); });
        QVERIFY2(m.find("not empty") != std::string::npos, m.c_str());
        QCOMPARE(readAll(full.get()), QByteArray("precious"));

        UniqueFd fd = newFile("bad.img", 0);
        QCOMPARE(codeOf([&] { Vault::create(fd.get(), 0, m_pass, o); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([&] { Vault::create(fd.get(), 1 << 20, m_pass, o); }), ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([&] { Vault::create(fd.get(), Vault::maximumSize + 1, m_pass, o); }),
                 ErrorCode::InvalidArgument);
        QCOMPARE(codeOf([&] { Vault::create(fd.get(), 60ull << 40, m_pass, o); }), ErrorCode::NoSpace);
        QCOMPARE(codeOf([&] { Vault::create(fd.get(), 64 << 20, SecretBuffer(), o); }), ErrorCode::InvalidArgument);
        for (const char *name : {"a/b", "..", "x\ny", ""}) {
            Vault::CreateOptions bad = o;
            bad.name = name;
            QCOMPARE(codeOf([&] { Vault::create(fd.get(), 64 << 20, m_pass, bad); }), ErrorCode::InvalidArgument);
        }
        QCOMPARE(codeOf([&] { Vault::create(-1, 64 << 20, m_pass, o); }), ErrorCode::InvalidArgument);

        UniqueFd ro = newFile("ro.img", 0, O_RDONLY);
        QCOMPARE(codeOf([&] { Vault::create(ro.get(), 64 << 20, m_pass, o); }), ErrorCode::InvalidArgument);

        QString fifo = m_dir.filePath("fifo");
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
        UniqueFd f(::open(QFile::encodeName(fifo).constData(), O_RDWR | O_CLOEXEC));
        QCOMPARE(codeOf([&] { Vault::create(f.get(), 64 << 20, m_pass, o); }), ErrorCode::InvalidArgument);
        QTemporaryDir mnt;
        QCOMPARE(codeOf([&] { Vault::open(f.get(), m_pass, mnt.path().toStdString()); }), ErrorCode::InvalidArgument);

        UniqueFd dir(::open(QFile::encodeName(m_dir.path()).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QCOMPARE(codeOf([&] { Vault::create(dir.get(), 64 << 20, m_pass, o); }), ErrorCode::InvalidArgument);

        struct stat st;
        QCOMPARE(::fstat(fd.get(), &st), 0);
        QCOMPARE(st.st_size, off_t(0));
    }
};

QTEST_GUILESS_MAIN(TestBlockLuks)
#include "test_block_luks.moc"
