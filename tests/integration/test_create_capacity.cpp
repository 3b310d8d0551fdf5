// L1 (host, root): the space a new vault offers inside, as core/create estimates it, against a
// real ext4 made the way Vault::create makes it (Ext4::make on a loop device with 4096-byte
// blocks, the size of the filesystem being the vault's size less the LUKS2 header; dm-crypt
// keeps the sector size), mounted, and asked (statvfs f_bavail). The estimate must never promise
// more than the filesystem then has, and must not waste much (a tenth, or 1 MiB of a tiny one).

#include "block/ext4.h"
#include "block/loopdevice.h"
#include "block/mount.h"
#include "block/uniquefd.h"
#include "block/vault.h"
#include "bytes.h"
#include "create/newvault.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

using namespace Coffer;

class TestCreateCapacity : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root (loop devices, mount)");
        QVERIFY(m_dir.isValid());
    }

    void estimateHoldsOnARealFilesystem_data()
    {
        QTest::addColumn<qulonglong>("size");
        for (const uint64_t mib : {32, 64, 100, 256, 527, 528, 1024, 2048, 4111, 8192, 20480, 65536})
            QTest::newRow(formatBytes(mib << 20).c_str()) << qulonglong(mib << 20);
    }

    void estimateHoldsOnARealFilesystem()
    {
        QFETCH(qulonglong, size);
        const std::string image = QFile::encodeName(m_dir.filePath(QStringLiteral("fs.img"))).toStdString();
        ::unlink(image.c_str());
        UniqueFd fd(::open(image.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        QVERIFY(fd);
        QCOMPARE(::ftruncate(fd.get(), off_t(size - Create::luksHeaderBytes)), 0);
        LoopDevice loop = LoopDevice::attach(fd.get(), {});
        Ext4::make(loop.path(), ::getuid(), ::getgid());
        const std::string target = QFile::encodeName(m_dir.filePath(QStringLiteral("mnt"))).toStdString();
        QDir().mkpath(QString::fromStdString(target));
        uint64_t available = 0;
        {
            Mount mount = Mount::mountExt4(loop.path(), target, false);
            struct statvfs vfs {};
            QCOMPARE(::statvfs(target.c_str(), &vfs), 0);
            available = uint64_t(vfs.f_bavail) * vfs.f_frsize;
        }
        const uint64_t estimate = Create::usableBytes(size);
        qInfo("%s vault: %s free in its ext4, estimated %s (%.1f%% under)", formatBytes(size).c_str(),
              formatBytes(available).c_str(), formatBytes(estimate).c_str(),
              100.0 * double(available - std::min(available, estimate)) / double(available));
        QVERIFY2(estimate <= available, "the estimate promises more than the filesystem has");
        QVERIFY2(estimate >= available / 100 * 90 || available - estimate <= (1 << 20),
                 "the estimate wastes more than a tenth (and more than 1 MiB)");
        // And back: the size suggested for what fits holds it.
        QVERIFY(Create::usableBytes(Create::sizeFor(estimate)) >= estimate);
        QVERIFY(Create::sizeFor(estimate) <= size);
    }
};

QTEST_GUILESS_MAIN(TestCreateCapacity)
#include "test_create_capacity.moc"
