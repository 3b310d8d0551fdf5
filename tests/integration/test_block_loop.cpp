// L1 (host, root): loop devices, ext4 and mounts for real on this kernel (it has loop and ext4,
// but no device-mapper) — checked against sysfs and mountinfo, not our own bookkeeping. Also:
// open/create fail here at the dm step, and must leave nothing behind.

#include "block/ext4.h"
#include "block/loopdevice.h"
#include "block/mount.h"
#include "block/secretbuffer.h"
#include "block/uniquefd.h"
#include "block/util.h"
#include "block/vault.h"
#include "block/vaultinternal.h"
#include "error.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer;

namespace {

QString sysfs(int nr, const QString &rel)
{
    QFile f(QStringLiteral("/sys/block/loop%1/%2").arg(nr).arg(rel));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll()).trimmed();
}

// Loop devices the kernel has bound to `path`.
QStringList loopsBackedBy(const QString &path)
{
    QStringList out;
    for (const QString &d : QDir("/sys/block").entryList({"loop*"})) {
        QFile f("/sys/block/" + d + "/loop/backing_file");
        if (f.open(QIODevice::ReadOnly) && QString::fromUtf8(f.readAll()).trimmed() == path)
            out << d;
    }
    return out;
}

QString mountOptions(const QString &target)
{
    const QByteArray all = QByteArray::fromStdString(readSmallFile("/proc/self/mountinfo", 1 << 22));
    for (const QByteArray &line : all.split('\n')) {
        QList<QByteArray> p = line.split(' ');
        if (p.size() >= 10 && QString::fromUtf8(p[4]) == target)
            return QString::fromUtf8(p[5] + "," + p[p.size() - 1]);
    }
    return {};
}

} // namespace

class TestBlockLoop : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir{QStringLiteral("/var/tmp/coffer-loop-XXXXXX")};

    UniqueFd newFile(const QString &name, off_t size)
    {
        UniqueFd fd(::open(QFile::encodeName(m_dir.filePath(name)).constData(),
                           O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (fd)
            (void)::ftruncate(fd.get(), size);
        return fd;
    }

private slots:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root (loop devices and mounts)");
        if (::access("/dev/loop-control", W_OK) != 0)
            QSKIP("no /dev/loop-control");
        QVERIFY(m_dir.isValid());
    }

    void cleanupTestCase()
    {
        // Nothing of ours may stay attached, whatever failed.
        QVERIFY(waitUntil(10000, [&] { return loopsBackedBy(m_dir.path() + "/").isEmpty(); }));
    }

    void attachConfiguresInOneStep()
    {
        UniqueFd fd = newFile("a.img", 64 << 20);
        const QString path = m_dir.filePath("a.img");
        int nr;
        {
            LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
            nr = loop.number();
            QCOMPARE(sysfs(nr, "loop/backing_file"), path);
            QCOMPARE(sysfs(nr, "loop/autoclear"), QStringLiteral("1"));
            QCOMPARE(sysfs(nr, "queue/logical_block_size"), QStringLiteral("4096"));
            QCOMPARE(sysfs(nr, "loop/dio"), loop.directIo() ? QStringLiteral("1") : QStringLiteral("0"));
            QVERIFY(loop.directIo()); // ext4 under /var/tmp does direct I/O
            QCOMPARE(QString::fromStdString(LoopDevice::backingFile(nr)), path);
        }
        // The destructor detached it.
        QVERIFY(LoopDevice::waitDetached(nr, path.toStdString(), 10000));
        QVERIFY(loopsBackedBy(path).isEmpty());
    }

    // tmpfs did not do direct I/O before Linux 6.6 (and overlayfs over it claims to, then fails
    // every read): whatever the kernel, the loop device must end up readable.
    void loopOnTmpfsIsReadable()
    {
        QTemporaryDir mnt(QStringLiteral("/var/tmp/coffer-tmpfs-XXXXXX"));
        QCOMPARE(::mount("tmpfs", QFile::encodeName(mnt.path()).constData(), "tmpfs", 0, "size=64m"), 0);
        struct Unmount
        {
            QByteArray p;
            ~Unmount() { ::umount2(p.constData(), MNT_DETACH); }
        } unmount{QFile::encodeName(mnt.path())};
        {
            UniqueFd fd(::open(QFile::encodeName(mnt.filePath("t.img")).constData(),
                               O_RDWR | O_CREAT | O_CLOEXEC, 0600));
            QVERIFY(fd.valid());
            QCOMPARE(::ftruncate(fd.get(), 8 << 20), 0);
            LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
            QCOMPARE(sysfs(loop.number(), "loop/dio"), loop.directIo() ? QStringLiteral("1") : QStringLiteral("0"));
            qInfo() << "direct I/O on tmpfs:" << loop.directIo();
            char buf[4096];
            QCOMPARE(::pread(loop.fd(), buf, sizeof buf, 0), ssize_t(sizeof buf)); // it works
            loop.detach();
        }
    }

    void refusesWhatIsNotAFileOfWholeBlocks()
    {
        UniqueFd odd = newFile("odd.img", (1 << 20) + 512);
        QVERIFY_THROWS_EXCEPTION(Error, LoopDevice::attach(odd.get(), {4096, true, false}));
        UniqueFd dir(::open(QFile::encodeName(m_dir.path()).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QVERIFY_THROWS_EXCEPTION(Error, LoopDevice::attach(dir.get(), {4096, true, false}));
    }

    void ext4MountHoldersAndKernelTeardown()
    {
        UniqueFd fd = newFile("fs.img", 64 << 20);
        const QString path = m_dir.filePath("fs.img");
        LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
        Ext4::make(loop.path(), 4321, 4322);
        QCOMPARE(Ext4::state(loop.path()), Ext4::State::Clean);

        QTemporaryDir mnt(QStringLiteral("/var/tmp/coffer-mnt-XXXXXX"));
        const std::string target = mnt.path().toStdString();
        Mount m = Mount::mountExt4(loop.path(), target, false);
        const QString opts = mountOptions(mnt.path());
        qInfo() << "mount options:" << opts;
        for (const char *o : {"nosuid", "nodev", "noexec", "errors=remount-ro"})
            QVERIFY2(opts.split(',').contains(o), qPrintable(opts));
        struct stat st;
        QCOMPARE(::stat(target.c_str(), &st), 0);
        QCOMPARE(st.st_uid, uid_t(4321));
        QCOMPARE(st.st_gid, gid_t(4322));
        QCOMPARE(st.st_mode & 07777, mode_t(0700)); // the owner's only
        QCOMPARE(Mount::mountedDevice(target), loop.devno());
        QCOMPARE(Mount::mountPointOf(loop.devno()), target);

        // Something already mounted there: refused.
        QVERIFY_THROWS_EXCEPTION(Error, Mount::mountExt4(loop.path(), target, false));

        // Holders: this process with an open file, a child with its working directory there.
        UniqueFd file(::open((target + "/held").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        QVERIFY(file.valid());
        QProcess child;
        child.setWorkingDirectory(mnt.path());
        child.start("/bin/sleep", {"60"});
        QVERIFY(child.waitForStarted());
        const pid_t childPid = pid_t(child.processId());
        std::vector<Vault::Holder> hs;
        QVERIFY(waitUntil(5000, [&] {
            hs = Vault::holders(target);
            return hs.size() >= 2;
        }));
        bool sawSelf = false, sawChild = false;
        for (const auto &h : hs) {
            if (h.pid == ::getpid())
                sawSelf = h.what.find("open file") != std::string::npos;
            if (h.pid == childPid)
                sawChild = h.name == "sleep" && h.what.find("working directory") != std::string::npos;
        }
        QVERIFY(sawSelf);
        QVERIFY(sawChild);
        try {
            Mount::unmount(target);
            QFAIL("a busy mount was unmounted");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::Busy);
        }
        child.kill();
        child.waitForFinished();
        file.reset();
        QVERIFY(Vault::holders(target).empty());

        // Hand teardown to the kernel: once unmounted, the autoclear loop goes by itself.
        const int nr = loop.number();
        loop.release();
        m.release();
        QVERIFY(!loopsBackedBy(path).isEmpty()); // the mount holds it
        Mount::unmount(target);
        QVERIFY(LoopDevice::waitDetached(nr, path.toStdString(), 10000));
        QVERIFY(loopsBackedBy(path).isEmpty());
    }

    // Lock by force as the vault's owner: only the owner's own programs are stopped (through
    // pidfds); a program of another user holding it makes the lock fail with its name, and
    // nothing is stopped.
    void forceLockStopsOnlyTheOwnersPrograms()
    {
        if (QStandardPaths::findExecutable("setpriv").isEmpty())
            QSKIP("setpriv (util-linux) is missing");
        UniqueFd fd = newFile("force.img", 64 << 20);
        LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
        const uid_t owner = 4321;
        Ext4::make(loop.path(), owner, owner);
        QTemporaryDir mnt(QStringLiteral("/var/tmp/coffer-mnt-XXXXXX"));
        const std::string target = mnt.path().toStdString();
        Mount m = Mount::mountExt4(loop.path(), target, false);
        Vault::OpenVault v;
        v.mountPoint = target;
        v.mapperName = "coffer-no-such-mapping"; // no device-mapper here: the loop is the device
        v.mapperDev = loop.devno();

        // Both hold it by their working directory: the owner's, and root's.
        QProcess mine, others;
        mine.setWorkingDirectory(mnt.path());
        mine.start(QStringLiteral("setpriv"), {"--reuid", QString::number(owner), "--regid", QString::number(owner),
                                               "--clear-groups", "/bin/sleep", "60"});
        QVERIFY(mine.waitForStarted());
        others.setWorkingDirectory(mnt.path());
        others.start(QStringLiteral("/bin/sleep"), {QStringLiteral("60")}); // root's
        QVERIFY(others.waitForStarted());
        QVERIFY(waitUntil(5000, [&] {
            const auto hs = Vault::holders(target);
            return std::count_if(hs.begin(), hs.end(), [&](const Vault::Holder &h) { return h.uid == owner; }) == 1
                && hs.size() >= 2;
        }));

        Vault::CloseOptions force;
        force.force = true;
        force.ownerUid = owner;
        force.killTimeoutMs = 5000;
        try {
            Vault::close(v, force);
            QFAIL("locked by force over another user's program");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::Busy);
            QVERIFY2(e.message().find("pid " + std::to_string(others.processId())) != std::string::npos, e.what());
            QVERIFY2(e.message().find("other users") != std::string::npos, e.what());
        }
        QCOMPARE(mine.state(), QProcess::Running); // nothing was stopped
        QCOMPARE(others.state(), QProcess::Running);
        QCOMPARE(Mount::mountedDevice(target), loop.devno());

        others.kill();
        QVERIFY(others.waitForFinished());
        Vault::close(v, force);
        QVERIFY(mine.waitForFinished(5000));
        QCOMPARE(mine.exitStatus(), QProcess::CrashExit); // SIGTERM
        QCOMPARE(Mount::mountedDevice(target), dev_t(0));
        m.release();
    }

    // The holder scan looks at so much of /proc and no more, and says when it stopped short.
    void holderScanIsBounded()
    {
        UniqueFd fd = newFile("bounded.img", 64 << 20);
        LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
        Ext4::make(loop.path(), 0, 0);
        QTemporaryDir mnt(QStringLiteral("/var/tmp/coffer-mnt-XXXXXX"));
        Mount m = Mount::mountExt4(loop.path(), mnt.path().toStdString(), false);
        UniqueFd held(::open(QFile::encodeName(mnt.filePath("held")).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        QVERIFY(held);
        const Mount::HolderScan all = Mount::holders(loop.devno());
        QVERIFY(all.complete);
        QCOMPARE(all.holders.size(), size_t(1));
        QCOMPARE(all.holders[0].pid, ::getpid());
        QVERIFY(all.holders[0].pidfd);
        Mount::ScanLimits few;
        few.processes = 1; // pid 1 is never us
        QVERIFY(!Mount::holders(loop.devno(), few).complete);
        Mount::ScanLimits shortOfFiles;
        shortOfFiles.entries = 1;
        QVERIFY(!Mount::holders(loop.devno(), shortOfFiles).complete);
    }

    void fsckRepairsAnUncleanFilesystem()
    {
        UniqueFd fd = newFile("dirty.img", 64 << 20);
        LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
        Ext4::make(loop.path(), 0, 0);
        loop.detach();
        LoopDevice again = LoopDevice::attach(fd.get(), {4096, true, false});
        // Mark it "not cleanly unmounted" (s_state without EXT4_VALID_FS), as a crash leaves it;
        // debugfs keeps the superblock checksum right.
        ToolResult r = runTool({"/sbin/debugfs", "-w", "-R", "ssv state 0", again.path()});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(Ext4::state(again.path()), Ext4::State::NeedsCheck);
        QElapsedTimer t;
        t.start();
        Ext4::fsckPreen(again.path());
        qInfo() << "e2fsck -p on an unclean 64 MiB vault:" << t.elapsed() << "ms";
        QCOMPARE(Ext4::state(again.path()), Ext4::State::Clean);
        t.restart();
        Ext4::fsckPreen(again.path());
        qInfo() << "e2fsck -p on a clean one:" << t.elapsed() << "ms";
        // Not ext at all.
        UniqueFd zero = newFile("zero.img", 8 << 20);
        LoopDevice z = LoopDevice::attach(zero.get(), {4096, true, false});
        QCOMPARE(Ext4::state(z.path()), Ext4::State::NotExt);
    }

    // e2fsck and resize2fs read what users built, as root: in their sandbox a tool is nobody,
    // with no capability, no way to gain one, its limits, and no device but the one it works on.
    void sandboxedToolsHaveOnlyTheirDevice()
    {
        UniqueFd fd = newFile("sandbox.img", 64 << 20);
        LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
        Ext4::make(loop.path(), 0, 0);
        ToolOptions o;
        o.timeoutMs = 60000;
        o.sandboxDevice = loop.path();
        o.cpuSeconds = 77;
        o.addressSpaceBytes = 1ull << 30;
        o.openFiles = 33;
        auto field = [](const std::string &text, const std::string &name) {
            const size_t at = text.find("\n" + name + ":");
            if (at == std::string::npos)
                return QString();
            const size_t end = text.find('\n', at + 1);
            return QString::fromStdString(text.substr(at + name.size() + 2, end - at - name.size() - 2)).simplified();
        };
        const ToolResult status = runTool({"/bin/cat", "/proc/self/status"}, o);
        QCOMPARE(status.exitCode, 0);
        QCOMPARE(field(status.output, "Uid"), QStringLiteral("65534 65534 65534 65534"));
        QCOMPARE(field(status.output, "Groups"), QString());
        for (const char *caps : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
            QCOMPARE(field(status.output, caps), QStringLiteral("0000000000000000"));
        QCOMPARE(field(status.output, "NoNewPrivs"), QStringLiteral("1"));
        const ToolResult limits = runTool({"/bin/cat", "/proc/self/limits"}, o);
        for (const char *want : {"Max cpu time              77                   77",
                                 "Max open files            33                   33",
                                 "Max address space         1073741824           1073741824",
                                 "Max core file size        0                    0"})
            QVERIFY2(limits.output.find(want) != std::string::npos, limits.output.c_str());
        // Its /dev: null and the device, which it can read (the ext4 magic at 1080).
        QCOMPARE(QString::fromStdString(runTool({"/bin/ls", "/dev"}, o).output), QStringLiteral("coffer-device\nnull\n"));
        const ToolResult magic = runTool({"/usr/bin/od", "-An", "-tx1", "-j1080", "-N2", sandboxDevicePath}, o);
        QCOMPARE(QString::fromStdString(magic.output).simplified(), QStringLiteral("53 ef"));
        // Nothing of root's: a root-only file is out of reach, and so is every other device.
        const std::string secret = m_dir.filePath("root-only").toStdString();
        UniqueFd s(::open(secret.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        QVERIFY(s);
        QVERIFY(runTool({"/bin/cat", secret}, o).exitCode != 0);
        QVERIFY(runTool({"/bin/cat", loop.path()}, o).exitCode != 0);
        // A device it is not given is not a device at all.
        ToolOptions bad = o;
        bad.sandboxDevice = secret;
        QVERIFY_THROWS_EXCEPTION(Error, runTool({"/bin/true"}, bad));
        // Killed at the timeout there too.
        o.timeoutMs = 300;
        QVERIFY(runTool({"/bin/sleep", "60"}, o).timedOut);
    }

    // Offline (resize2fs in its sandbox) and online (the kernel's EXT4_IOC_RESIZE_FS).
    void growTheFilesystem()
    {
        UniqueFd fd = newFile("grow.img", 64 << 20);
        LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
        Ext4::make(loop.path(), 0, 0);
        auto sizeOf = [&] {
            QTemporaryDir mnt(QStringLiteral("/var/tmp/coffer-mnt-XXXXXX"));
            Mount m = Mount::mountExt4(loop.path(), mnt.path().toStdString(), true);
            struct statvfs v;
            ::statvfs(mnt.path().toLocal8Bit().constData(), &v);
            return uint64_t(v.f_blocks) * v.f_frsize;
        };
        const uint64_t before = sizeOf();
        QCOMPARE(::ftruncate(fd.get(), 128 << 20), 0);
        QCOMPARE(::ioctl(loop.fd(), LOOP_SET_CAPACITY, 0), 0);
        Ext4::fsckPreen(loop.path(), true);
        Ext4::resize(loop.path());
        const uint64_t offline = sizeOf();
        QVERIFY2(offline > before + (50 << 20), qPrintable(QString("%1 -> %2").arg(before).arg(offline)));

        QTemporaryDir mnt(QStringLiteral("/var/tmp/coffer-mnt-XXXXXX"));
        const std::string target = mnt.path().toStdString();
        Mount m = Mount::mountExt4(loop.path(), target, false);
        QCOMPARE(::ftruncate(fd.get(), 192 << 20), 0);
        QCOMPARE(::ioctl(loop.fd(), LOOP_SET_CAPACITY, 0), 0);
        QTemporaryDir other(QStringLiteral("/var/tmp/coffer-other-XXXXXX"));
        QVERIFY_THROWS_EXCEPTION(Error, Ext4::resizeMounted(other.path().toStdString(), loop.path()));
        // The kernel grows a mounted ext4 only for CAP_SYS_RESOURCE, which some containers take
        // away even from root (block-lifecycle in the VM grows online for real).
        const std::string status = readSmallFile("/proc/self/status");
        const size_t capEff = status.find("CapEff:");
        if (capEff == std::string::npos || !(std::stoull(status.substr(capEff + 7), nullptr, 16) & (1ull << 24)))
            QSKIP("no CAP_SYS_RESOURCE here: cannot grow a mounted filesystem");
        Ext4::resizeMounted(target, loop.path());
        struct statvfs v;
        QCOMPARE(::statvfs(target.c_str(), &v), 0);
        QVERIFY(uint64_t(v.f_blocks) * v.f_frsize > offline + (50 << 20));
    }

    void mountPointMustBeADirectory()
    {
        UniqueFd fd = newFile("m.img", 64 << 20);
        LoopDevice loop = LoopDevice::attach(fd.get(), {4096, true, false});
        Ext4::make(loop.path(), 0, 0);
        QString link = m_dir.filePath("link");
        QVERIFY(QFile::link(m_dir.path(), link));
        QCOMPARE(::access(QFile::encodeName(link).constData(), F_OK), 0);
        QVERIFY_THROWS_EXCEPTION(Error, Mount::mountExt4(loop.path(), link.toStdString(), false));
        QVERIFY_THROWS_EXCEPTION(Error, Mount::mountExt4(loop.path(), m_dir.filePath("m.img").toStdString(), false));
        QVERIFY_THROWS_EXCEPTION(Error, Mount::mountExt4(loop.path(), "/nonexistent/coffer", false));
    }

    // This kernel has no device-mapper: open and create get as far as activation and fail.
    // Whatever they attached before must be gone, and create's file must be empty again.
    void failuresLeaveNothingAttached()
    {
        const SecretBuffer pass = SecretBuffer::fromString("pw");
        Vault::CreateOptions o;
        o.name = "undo";
        o.pbkdf = {8192, 0, 4, 1};
        UniqueFd fd = newFile("undo.img", 0);
        const QString path = m_dir.filePath("undo.img");
        QTemporaryDir mnt(QStringLiteral("/var/tmp/coffer-mnt-XXXXXX"));
        try {
            Vault::create(fd.get(), 64 << 20, pass, o);
            // A kernel with dm-crypt: then it must have worked and detached everything.
            QVERIFY(loopsBackedBy(path).isEmpty());
            Vault::OpenVault v = Vault::open(fd.get(), pass, mnt.path().toStdString());
            Vault::close(v);
        } catch (const Error &e) {
            qInfo() << "as expected without dm:" << e.message().c_str();
            struct stat st;
            QCOMPARE(::fstat(fd.get(), &st), 0);
            QCOMPARE(st.st_size, off_t(0));
            QVERIFY(loopsBackedBy(path).isEmpty());

            // open: a real header, then the activation fails.
            QCOMPARE(::ftruncate(fd.get(), 64 << 20), 0);
            SecretBuffer vk = Vault::randomKey(64);
            Vault::formatLuks2("/proc/self/fd/" + std::to_string(fd.get()), vk, pass, o);
            try {
                Vault::open(fd.get(), pass, mnt.path().toStdString());
                QFAIL("open worked without device-mapper");
            } catch (const Error &e2) {
                qInfo() << "as expected without dm:" << e2.message().c_str();
                QCOMPARE(e2.code(), ErrorCode::NotSupported);
            }
        }
        QVERIFY(waitUntil(10000, [&] { return loopsBackedBy(path).isEmpty(); }));
        QCOMPARE(Mount::mountedDevice(mnt.path().toStdString()), dev_t(0));
    }

    void cleanup() {}
};

QTEST_GUILESS_MAIN(TestBlockLoop)
#include "test_block_loop.moc"
