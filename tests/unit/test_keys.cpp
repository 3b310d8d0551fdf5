// core/keys: the strength estimate of new passphrases, recovery passphrases and key files, where
// header backups live, and whether a file would sit on the vault's own drive.

#include "block/uniquefd.h"
#include "keys/headerbackups.h"
#include "keys/passphrasestrength.h"
#include "keys/placement.h"
#include "keys/recovery.h"

#include "testerror.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace Coffer;
using Keys::Strength;
using Keys::Weakness;

class TestKeys : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private slots:
    void strength_data()
    {
        QTest::addColumn<QString>("passphrase");
        QTest::addColumn<int>("strength");
        QTest::addColumn<int>("weakness");
        QTest::newRow("empty") << "" << int(Strength::Empty) << int(Weakness::None);
        QTest::newRow("short") << "x7#Qz!" << int(Strength::Weak) << int(Weakness::TooShort);
        QTest::newRow("common") << "password123" << int(Strength::Weak) << int(Weakness::CommonPassword);
        QTest::newRow("leet common") << "P@ssw0rd2024" << int(Strength::Weak) << int(Weakness::CommonPassword);
        QTest::newRow("repeated") << "aaaaaaaaaaaaaaaaaaaa" << int(Strength::Weak) << int(Weakness::Repetition);
        QTest::newRow("sequence") << "abcdefghijklmnop" << int(Strength::Weak) << int(Weakness::Sequence);
        QTest::newRow("keyboard row") << "qwertyuiopasdfgh" << int(Strength::Weak) << int(Weakness::CommonPassword);
        QTest::newRow("digits") << "31415926" << int(Strength::Weak) << int(Weakness::FewKinds);
        QTest::newRow("fair") << "Lantern-42x" << int(Strength::Fair) << int(Weakness::None);
        QTest::newRow("good") << "tulip-Brick-88-fog" << int(Strength::Good) << int(Weakness::None);
        QTest::newRow("phrase") << "correct horse battery staple" << int(Strength::Strong) << int(Weakness::None);
    }

    void strength()
    {
        QFETCH(QString, passphrase);
        QFETCH(int, strength);
        QFETCH(int, weakness);
        const Keys::StrengthEstimate e = Keys::estimateStrength(passphrase);
        QCOMPARE(int(e.strength), strength);
        QCOMPARE(int(e.weakness), weakness);
        QCOMPARE(e.bits >= Keys::minimumBits, strength >= int(Strength::Fair));
    }

    void strengthGrowsWithLength()
    {
        double last = 0;
        QString p;
        for (const char *word : {"plum", "Orbit", "7kettle", "Lantern!", "quay"}) {
            p += QLatin1String(word);
            const double bits = Keys::estimateStrength(p).bits;
            QVERIFY(bits > last);
            last = bits;
        }
    }

    void oddTextIsSafe()
    {
        // Lower case that is longer than the original, lone surrogates, NULs: no crash, a number.
        const QString odd = QStringLiteral("İİİİİİİİ") + QChar(0xd800) + QChar(0) + QStringLiteral("ß");
        QVERIFY(Keys::estimateStrength(odd).bits > 0);
    }

    void recoveryPassphrases()
    {
        QSet<QByteArray> seen;
        for (int i = 0; i < 200; ++i) {
            const SecretBuffer r = Keys::generateRecoveryPassphrase();
            const QByteArray text(r.data(), qsizetype(r.size()));
            QCOMPARE(text.size(), Keys::recoveryGroups * (Keys::recoveryGroupLength + 1) - 1);
            const QList<QByteArray> groups = text.split('-');
            QCOMPARE(groups.size(), Keys::recoveryGroups);
            for (const QByteArray &g : groups) {
                QCOMPARE(g.size(), Keys::recoveryGroupLength);
                for (char c : g)
                    QVERIFY(std::strchr(Keys::recoveryAlphabet, c) && c);
            }
            seen.insert(text);
        }
        QCOMPARE(seen.size(), 200);
        QVERIFY(Keys::recoveryBits >= 128);
        // A recovery passphrase passes the check for new passphrases by far.
        const SecretBuffer r = Keys::generateRecoveryPassphrase();
        QVERIFY(Keys::estimateStrength(QString::fromLatin1(r.data(), qsizetype(r.size()))).strength >= Strength::Good);
    }

    void keyFiles()
    {
        const SecretBuffer a = Keys::generateKeyFileContents();
        const SecretBuffer b = Keys::generateKeyFileContents();
        QCOMPARE(a.size(), Keys::keyFileBytes);
        QVERIFY(QByteArray(a.data(), 64) != QByteArray(b.data(), 64));

        const std::string path = QFile::encodeName(m_dir.filePath(QStringLiteral("new.key"))).toStdString();
        Keys::writeKeyFile(path, a);
        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray(a.data(), 64));
        struct stat st {};
        QCOMPARE(::stat(path.c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0600));
        // Never over an existing file.
        QCOMPARE(Test::codeOf([&] { Keys::writeKeyFile(path, b); }), ErrorCode::InvalidArgument);
        f.seek(0);
        QCOMPARE(f.readAll(), QByteArray(a.data(), 64));
        QCOMPARE(Test::codeOf([&] { Keys::writeKeyFile("/nonexistent/dir/x.key", b); }), ErrorCode::NotFound);
    }

    void headerBackupLocation()
    {
        const QByteArray saved = qgetenv("XDG_DATA_HOME");
        const QString data = m_dir.filePath(QStringLiteral("data"));
        qputenv("XDG_DATA_HOME", QFile::encodeName(data));
        const std::string uuid = "0B1E2F30-aaaa-4bbb-8ccc-0123456789ab";
        QCOMPARE(QString::fromStdString(Keys::automaticHeaderBackupPath(uuid)),
                 data + QStringLiteral("/coffer/headers/0b1e2f30-aaaa-4bbb-8ccc-0123456789ab.img"));
        QCOMPARE(Test::codeOf([] { Keys::automaticHeaderBackupPath("../../etc/passwd"); }), ErrorCode::InvalidArgument);
        Keys::makeHeaderBackupDirectory();
        QCOMPARE(QFileInfo(data + QStringLiteral("/coffer/headers")).permissions() & 0x0077, QFile::Permissions());
        // Loosened by someone: tightened again.
        QCOMPARE(::chmod(QFile::encodeName(data + QStringLiteral("/coffer/headers")).constData(), 0755), 0);
        Keys::makeHeaderBackupDirectory();
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(data + QStringLiteral("/coffer/headers")).constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0700));
        // Not absolute: ignored, as the XDG spec says.
        qputenv("XDG_DATA_HOME", "relative/dir");
        QVERIFY(QString::fromStdString(Keys::headerBackupDirectory()).startsWith(QDir::homePath()));
        qputenv("XDG_DATA_HOME", saved);
    }

    void placement()
    {
        const std::string vault = QFile::encodeName(m_dir.filePath(QStringLiteral("v.coffer"))).toStdString();
        QFile(QString::fromStdString(vault)).open(QIODevice::WriteOnly);
        const std::string beside = QFile::encodeName(m_dir.filePath(QStringLiteral("header.img"))).toStdString();
        QCOMPARE(Keys::placementOf(beside, vault), Keys::Placement::SameFilesystem);
        // /proc is on no disk: another drive.
        QCOMPARE(Keys::placementOf("/proc/header.img", vault), Keys::Placement::OtherDrive);
        QCOMPARE(Test::codeOf([&] { Keys::placementOf("/nonexistent/dir/h.img", vault); }), ErrorCode::NotFound);

        // Partitions of one disk: tests/integration/test_keys_placement.
    }
};

QTEST_GUILESS_MAIN(TestKeys)
#include "test_keys.moc"
