// L1 (host, no device-mapper needed): LUKS2 headers on plain files through core/block — format
// defaults, key slots, passphrase checks, header backup/restore, corrupted and hostile headers,
// LUKS1, and the argument checks of create/open that must change nothing.

#include "block/secretbuffer.h"
#include "block/uniquefd.h"
#include "block/vault.h"
#include "block/vaultinternal.h"
#include "error.h"
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

private slots:
    void formatUsesTheDesignDefaults()
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
    }

    // A header forged (with valid checksums) to ask for 8 GiB of argon2 memory: root must not
    // even try.
    void absurdPbkdfCostIsRefused()
    {
        UniqueFd fd = newVault("absurd.img");
        QByteArray all = readAll(fd.get());
        auto be64 = [&](int off) {
            quint64 v = 0;
            for (int i = 0; i < 8; ++i)
                v = v << 8 | quint8(all[off + i]);
            return v;
        };
        const qint64 hdrSize = qint64(be64(8));
        QVERIFY(hdrSize == 16384);
        for (qint64 base : {qint64(0), hdrSize}) {
            QByteArray hdr = all.mid(base, hdrSize);
            QByteArray json = hdr.mid(4096);
            QVERIFY(json.contains("\"memory\":8192"));
            json.replace("\"memory\":8192", "\"memory\":8388608");
            json.truncate(hdrSize - 4096);
            hdr.replace(4096, hdrSize - 4096, json);
            hdr.replace(448, 64, QByteArray(64, 0));
            QByteArray sum = QCryptographicHash::hash(hdr, QCryptographicHash::Sha256);
            hdr.replace(448, sum.size(), sum);
            QCOMPARE(::pwrite(fd.get(), hdr.constData(), hdr.size(), base), ssize_t(hdr.size()));
        }
        ErrorCode c = codeOf([&] { Vault::checkPassphrase(fd.get(), m_pass); });
        QCOMPARE(c, ErrorCode::NotSupported);
        qInfo() << "refused with:" << QString::fromStdString(messageOf([&] { Vault::checkPassphrase(fd.get(), m_pass); }));
    }

    void luks1OpensToo()
    {
        UniqueFd fd = newFile("luks1.img", 32 << 20);
        crypt_device *cd = nullptr;
        QCOMPARE(crypt_init(&cd, fdPath(fd.get()).c_str()), 0);
        crypt_pbkdf_type p{CRYPT_KDF_PBKDF2, "sha256", 0, 1000, 0, 0, CRYPT_PBKDF_NO_BENCHMARK};
        QCOMPARE(crypt_set_pbkdf_type(cd, &p), 0);
        crypt_params_luks1 params{"sha256", 0, nullptr};
        QCOMPARE(crypt_format(cd, CRYPT_LUKS1, "aes", "xts-plain64", nullptr, nullptr, 64, &params), 0);
        QVERIFY(crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, nullptr, 0, m_pass.data(), m_pass.size()) >= 0);
        crypt_free(cd);
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
