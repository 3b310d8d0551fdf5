// L1 (host, root): whether a header backup or key file would sit on the vault's own drive, on
// real block devices: a loop device with a partition table (two partitions, each an ext4, as a
// USB stick with two partitions), sysfs as the kernel shows it.

#include "block/mount.h"
#include "keys/placement.h"

#include <QProcess>
#include <QtEndian>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using namespace Coffer;

class TestKeysPlacement : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_loop;
    std::vector<std::string> m_mounts;

    static bool run(const QString &program, const QStringList &args, const QByteArray &input = {}, QByteArray *out = nullptr)
    {
        QProcess p;
        p.start(program, args);
        p.write(input);
        p.closeWriteChannel();
        if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
            qWarning("%s: %s", qPrintable(program), p.readAllStandardError().constData());
            return false;
        }
        if (out)
            *out = p.readAllStandardOutput();
        return true;
    }

private slots:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root (loop devices with partitions, mount)");
        const QString image = m_dir.filePath(QStringLiteral("stick.img"));
        QFile f(image);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QVERIFY(f.resize(80 << 20));
        // An MBR with two Linux partitions of 30 MiB, from 1 MiB and from 32 MiB.
        QByteArray mbr(512, '\0');
        const auto entry = [&](int i, quint32 first, quint32 sectors) {
            char *e = mbr.data() + 446 + 16 * i;
            e[4] = char(0x83);
            qToLittleEndian(first, e + 8);
            qToLittleEndian(sectors, e + 12);
        };
        entry(0, 2048, 30 * 2048);
        entry(1, 32 * 2048, 30 * 2048);
        mbr[510] = char(0x55);
        mbr[511] = char(0xaa);
        QCOMPARE(f.write(mbr), qint64(512));
        f.close();
        QByteArray loop;
        QVERIFY(run(QStringLiteral("/sbin/losetup"), {QStringLiteral("--find"), QStringLiteral("--show"),
                                                      QStringLiteral("--partscan"), image}, {}, &loop));
        m_loop = QString::fromUtf8(loop).trimmed();
        // Kernels without the MBR parser (this host's) learn the partitions from the table.
        QVERIFY(run(QStringLiteral("/usr/bin/partx"), {QStringLiteral("--update"), m_loop}));
        for (const char *part : {"p1", "p2"}) {
            const QString dev = m_loop + QLatin1String(part);
            QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(dev), 10000); // devtmpfs makes the node
            QVERIFY(run(QStringLiteral("/sbin/mkfs.ext4"), {QStringLiteral("-q"), dev}));
            const std::string target = QFile::encodeName(m_dir.filePath(QLatin1String(part))).toStdString();
            QDir().mkpath(QString::fromStdString(target));
            Mount mount = Mount::mountExt4(dev.toStdString(), target, false);
            mount.release();
            m_mounts.push_back(target);
        }
    }

    void cleanupTestCase()
    {
        for (const std::string &target : m_mounts)
            Mount::unmount(target);
        if (!m_loop.isEmpty())
            run(QStringLiteral("/sbin/losetup"), {QStringLiteral("-d"), m_loop});
    }

    void partitionsOfOneDisk()
    {
        const std::string vault = m_mounts[0] + "/keys.coffer";
        QFile v(QString::fromStdString(vault));
        QVERIFY(v.open(QIODevice::WriteOnly));
        v.close();
        QCOMPARE(Keys::placementOf(m_mounts[0] + "/keys-header.img", vault), Keys::Placement::SameFilesystem);
        QCOMPARE(Keys::placementOf(m_mounts[1] + "/keys-header.img", vault), Keys::Placement::SameDrive);
        // The test's own folder is on the host's disk, not the stick.
        QCOMPARE(Keys::placementOf(QFile::encodeName(m_dir.filePath(QStringLiteral("h.img"))).toStdString(), vault),
                 Keys::Placement::OtherDrive);
    }
};

QTEST_GUILESS_MAIN(TestKeysPlacement)
#include "test_keys_placement.moc"
