// L1 (host, root to set up; the scans run as "nobody", as a user would): the vault scanner on
// real files — LUKS2 headers written by Coffer and by the cryptsetup CLI, LUKS1, non-vaults,
// symlinks, hard links, FIFOs, device nodes, a deep tree, a huge directory, an unreadable
// folder, a filesystem mounted inside, hostile names — and on a real ext4 on a loop device
// mounted at a hostile path, through the real mount table; and the mount-table watcher seeing
// real mounts and unmounts. (This host has no vfat: the FAT medium runs in the VM.)

#include "block/ext4.h"
#include "block/loopdevice.h"
#include "block/mount.h"
#include "block/secretbuffer.h"
#include "block/uniquefd.h"
#include "block/util.h"
#include "block/vault.h"
#include "block/vaultinternal.h"
#include "error.h"
#include "media/medium.h"
#include "media/mountinfo.h"
#include "media/mountwatcher.h"
#include "media/vaultscan.h"
#include "testerror.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <functional>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Media;

namespace {

constexpr uid_t nobody = 65534;
const Vault::PbkdfOptions cheap{8192, 0, 4, 1};
constexpr off_t vaultSize = 32 << 20;

// What a scan in a child process came back with.
struct Outcome
{
    ScanResult result;
    ErrorCode code = Test::NoError;
    std::string message;
};

void putNumber(std::string &out, uint64_t v)
{
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

void putString(std::string &out, const std::string &s)
{
    putNumber(out, s.size());
    out += s;
}

struct Reader
{
    const std::string &in;
    size_t at = 0;
    uint64_t number()
    {
        uint64_t v = 0;
        if (at + sizeof v <= in.size())
            std::memcpy(&v, in.data() + at, sizeof v);
        at += sizeof v;
        return v;
    }
    std::string string()
    {
        const size_t n = size_t(number());
        std::string s = at + n <= in.size() ? in.substr(at, n) : std::string();
        at += n;
        return s;
    }
};

// Runs scan() in a child that became `uid` (no groups), the way a client runs it as its user.
Outcome scanAs(uid_t uid, const std::function<ScanResult()> &scan)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return {{}, ErrorCode::Failed, "pipe"};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0)
            ::_exit(3);
        try {
            const ScanResult r = scan();
            putNumber(out, 0);
            putNumber(out, r.entriesRead);
            putNumber(out, r.truncated);
            putNumber(out, r.vaults.size());
            for (const FoundVault &v : r.vaults) {
                putString(out, v.path);
                putNumber(out, v.size);
                putString(out, v.luksUuid);
                putString(out, v.name);
                putNumber(out, uint64_t(v.luksVersion));
                putNumber(out, v.coffer);
                putNumber(out, v.registered);
            }
        } catch (const Error &e) {
            out.clear();
            putNumber(out, 1);
            putNumber(out, uint64_t(e.code()));
            putString(out, e.message());
        }
        for (size_t done = 0; done < out.size();) {
            const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
            if (n <= 0)
                ::_exit(4);
            done += size_t(n);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    UniqueFd readEnd(fds[0]);
    std::string in;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(readEnd.get(), buf, sizeof buf)) > 0)
        in.append(buf, size_t(n));
    int status = 0;
    ::waitpid(pid, &status, 0);
    Outcome o;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return {{}, ErrorCode::Failed, "the scanning child failed: status " + std::to_string(status)};
    Reader r{in};
    if (r.number() == 1) {
        o.code = ErrorCode(r.number());
        o.message = r.string();
        return o;
    }
    o.result.entriesRead = size_t(r.number());
    o.result.truncated = r.number() != 0;
    for (uint64_t i = 0, count = r.number(); i < count; ++i) {
        FoundVault v;
        v.path = r.string();
        v.size = r.number();
        v.luksUuid = r.string();
        v.name = r.string();
        v.luksVersion = int(r.number());
        v.coffer = r.number() != 0;
        v.registered = r.number() != 0;
        o.result.vaults.push_back(std::move(v));
    }
    return o;
}

const FoundVault *findPath(const ScanResult &r, const std::string &path)
{
    for (const FoundVault &v : r.vaults) {
        if (v.path == path)
            return &v;
    }
    return nullptr;
}

QStringList paths(const ScanResult &r)
{
    QStringList out;
    for (const FoundVault &v : r.vaults)
        out << QString::fromUtf8(QByteArray::fromStdString(v.path).toPercentEncoding("/"));
    return out;
}

} // namespace

class TestMediaScan : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir{QDir::tempPath() + "/coffer-scan-XXXXXX"};
    std::string m_root;  // the "medium": a directory tree nobody may read
    std::string m_outside;
    SecretBuffer m_pass = SecretBuffer::fromString("scan pass");
    std::string m_keyFile;
    std::string m_keysUuid;
    std::vector<std::string> m_innerMounts;

    std::string at(const std::string &rel) const { return m_root + "/" + rel; }

    // A vault as Coffer makes it (header only: the scanner reads nothing else), readable by all.
    std::string coffer(const std::string &path, const std::string &name)
    {
        UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd || ::ftruncate(fd.get(), vaultSize) != 0)
            return {};
        Vault::CreateOptions o;
        o.name = name;
        o.pbkdf = cheap;
        return Vault::formatLuks2(path, Vault::randomKey(64), m_pass, o);
    }

    // A container made with the stock cryptsetup CLI (extra: "--label", ... or nothing).
    bool cryptsetup(const std::string &path, const std::string &type, std::vector<std::string> extra = {})
    {
        UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd || ::ftruncate(fd.get(), vaultSize) != 0)
            return false;
        std::vector<std::string> argv{"/sbin/cryptsetup", "luksFormat", "--batch-mode", "--type", type,
                                      "--pbkdf-force-iterations", "1000", "--key-file", m_keyFile};
        if (type == "luks2")
            argv.insert(argv.end(), {"--pbkdf", "pbkdf2"});
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.push_back(path);
        const ToolResult r = runTool(argv);
        if (r.exitCode != 0)
            qWarning() << "cryptsetup:" << r.output.c_str();
        return r.exitCode == 0 && ::chmod(path.c_str(), 0644) == 0;
    }

    // A file whose first 4 KiB are a copy of `from`'s header and that is `size` bytes long.
    bool headerCopy(const std::string &from, const std::string &to, off_t size)
    {
        char buf[luksProbeSize];
        UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
        UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        return in && out && ::pread(in.get(), buf, sizeof buf, 0) == ssize_t(sizeof buf)
               && ::pwrite(out.get(), buf, sizeof buf, 0) == ssize_t(sizeof buf) && ::ftruncate(out.get(), size) == 0;
    }

    static bool mkdirs(const std::string &path, mode_t mode = 0755)
    {
        for (size_t pos = 1; pos <= path.size(); ++pos) {
            if (pos != path.size() && path[pos] != '/')
                continue;
            const std::string part = path.substr(0, pos);
            if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
                return false;
            ::chmod(part.c_str(), mode);
        }
        return true;
    }

    Outcome scanRoot(const std::vector<std::string> &registered = {}, const ScanLimits &limits = {})
    {
        const std::string root = m_root;
        return scanAs(nobody, [&] {
            UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            return scanForVaults(fd.get(), registered, limits);
        });
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root: the tree holds device nodes and a mount, and scans drop to nobody");
        QVERIFY(m_dir.isValid());
        QCOMPARE(::chmod(QFile::encodeName(m_dir.path()).constData(), 0755), 0);
        m_root = QFile::encodeName(m_dir.filePath("medium")).toStdString();
        m_outside = QFile::encodeName(m_dir.filePath("outside")).toStdString();
        m_keyFile = QFile::encodeName(m_dir.filePath("key")).toStdString();
        QVERIFY(mkdirs(m_root) && mkdirs(m_outside));
        {
            UniqueFd k(::open(m_keyFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
            QVERIFY(k && ::write(k.get(), "pw", 2) == 2);
        }

        m_keysUuid = coffer(at("keys.coffer"), "keys");
        QVERIFY(Vault::isCanonicalLuksUuid(m_keysUuid));
        QCOMPARE(::link(at("keys.coffer").c_str(), at("hard.coffer").c_str()), 0);
        QVERIFY(cryptsetup(at("tomb.luks1"), "luks1"));
        QVERIFY(cryptsetup(at("hand.img"), "luks2", {"--label", "coffer:hand"}));
        QVERIFY(cryptsetup(at("plain.img"), "luks2")); // someone's LUKS2, not marked as Coffer's
        QVERIFY(headerCopy(at("keys.coffer"), at("small.coffer"), 8192));
        {
            UniqueFd junk(::open(at("not-a-vault.bin").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
            QVERIFY(junk && ::write(junk.get(), "LUKS", 4) == 4 && ::ftruncate(junk.get(), 2 << 20) == 0);
        }
        // Hostile names: a newline and invalid UTF-8; 255 bytes, in a folder of 255 bytes.
        QVERIFY(!coffer(at("evil\nname\xff.coffer"), "evil").empty());
        QVERIFY(mkdirs(at(std::string(255, 'd'))));
        QVERIFY(!coffer(at(std::string(255, 'd') + "/" + std::string(250, 'n') + ".cofr"), "long").empty());
        QVERIFY(mkdirs(at("a/b/c")));
        QVERIFY(!coffer(at("a/b/c/deep.coffer"), "deep").empty());

        // What must not be found or followed.
        QCOMPARE(::symlink("keys.coffer", at("link.coffer").c_str()), 0);
        QVERIFY(!coffer(m_outside + "/outside.coffer", "outside").empty());
        QCOMPARE(::symlink(m_outside.c_str(), at("linkdir").c_str()), 0);
        QCOMPARE(::mkfifo(at("fifo.coffer").c_str(), 0644), 0);
        QCOMPARE(::mknod(at("null.coffer").c_str(), S_IFCHR | 0644, makedev(1, 3)), 0);
        QVERIFY(mkdirs(at(".Trash-1000/files")));
        QVERIFY(headerCopy(at("keys.coffer"), at(".Trash-1000/files/old.coffer"), vaultSize));
        QVERIFY(mkdirs(at("private"), 0700)); // root's: nobody cannot look inside
        QVERIFY(headerCopy(at("keys.coffer"), at("private/hidden.coffer"), vaultSize));
        std::string deep = "deep50";
        for (int i = 0; i < 49; ++i)
            deep += "/d";
        QVERIFY(mkdirs(at(deep)));
        QVERIFY(headerCopy(at("keys.coffer"), at(deep + "/bottom.coffer"), vaultSize));
        QVERIFY(mkdirs(at("inner")));
        QCOMPARE(::mount("tmpfs", at("inner").c_str(), "tmpfs", 0, "size=64m,mode=0755"), 0);
        m_innerMounts.push_back(at("inner"));
        QVERIFY(headerCopy(at("keys.coffer"), at("inner/mounted.coffer"), vaultSize));
        // A vault of that other filesystem bind-mounted over a file of the medium.
        UniqueFd(::open(at("bound.coffer").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        QCOMPARE(::mount(at("inner/mounted.coffer").c_str(), at("bound.coffer").c_str(), nullptr, MS_BIND, nullptr), 0);
        m_innerMounts.insert(m_innerMounts.begin(), at("bound.coffer"));
    }

    void cleanupTestCase()
    {
        for (const std::string &m : m_innerMounts)
            ::umount2(m.c_str(), MNT_DETACH);
        // QTemporaryDir removes by QString, which cannot name a file that is not UTF-8.
        ::unlink(at("evil\nname\xff.coffer").c_str());
    }

    void findsWhatCofferWouldOpen()
    {
        const Outcome o = scanRoot();
        QCOMPARE(o.code, Test::NoError);
        const ScanResult &r = o.result;
        qInfo() << "found" << paths(r) << "after" << r.entriesRead << "entries";
        QVERIFY(!r.truncated);

        // One vault for the two names of the hard-linked file.
        const FoundVault *keys = findPath(r, "keys.coffer");
        if (!keys)
            keys = findPath(r, "hard.coffer");
        QVERIFY(keys);
        QVERIFY(!(findPath(r, "keys.coffer") && findPath(r, "hard.coffer")));
        QCOMPARE(keys->luksUuid, m_keysUuid);
        QCOMPARE(keys->name, std::string("keys"));
        QCOMPARE(keys->size, uint64_t(vaultSize));
        QCOMPARE(keys->luksVersion, 2);
        QVERIFY(keys->coffer);
        QVERIFY(!keys->registered);

        const FoundVault *tomb = findPath(r, "tomb.luks1");
        QVERIFY(tomb);
        QCOMPARE(tomb->luksVersion, 1);
        QVERIFY(!tomb->coffer);
        QVERIFY(tomb->name.empty());
        QVERIFY(Vault::isCanonicalLuksUuid(tomb->luksUuid));

        const FoundVault *hand = findPath(r, "hand.img");
        QVERIFY(hand);
        QCOMPARE(hand->name, std::string("hand"));
        QVERIFY(hand->coffer);

        QVERIFY(findPath(r, "evil\nname\xff.coffer"));
        QVERIFY(findPath(r, std::string(255, 'd') + "/" + std::string(250, 'n') + ".cofr"));
        QVERIFY(findPath(r, "a/b/c/deep.coffer"));
        QCOMPARE(r.vaults.size(), size_t(6));
        // And in order, by path.
        QVERIFY(std::is_sorted(r.vaults.begin(), r.vaults.end(),
                               [](const FoundVault &a, const FoundVault &b) { return a.path < b.path; }));
    }

    void leavesAloneWhatItMust()
    {
        const Outcome o = scanRoot();
        QCOMPARE(o.code, Test::NoError);
        for (const char *never : {"plain.img", "small.coffer", "not-a-vault.bin", "link.coffer", "fifo.coffer",
                                  "null.coffer", "linkdir/outside.coffer", ".Trash-1000/files/old.coffer",
                                  "private/hidden.coffer", "inner/mounted.coffer", "bound.coffer"})
            QVERIFY2(!findPath(o.result, never), never);
        for (const FoundVault &v : o.result.vaults)
            QVERIFY2(v.path.rfind("deep50", 0) != 0, v.path.c_str());
    }

    void registeredPaths()
    {
        const Outcome o = scanRoot({"plain.img", "small.coffer", "hard.coffer", "tomb.luks1", "missing.coffer",
                                    "not-a-vault.bin", "link.coffer", "linkdir/outside.coffer", "fifo.coffer",
                                    "null.coffer", "../outside/outside.coffer", "/etc/passwd", "a//b/c/deep.coffer",
                                    "./keys.coffer", "", "a/b/c/../c/deep.coffer", std::string(5000, 'x'),
                                    "private/hidden.coffer", "inner/mounted.coffer", "bound.coffer"});
        QCOMPARE(o.code, Test::NoError);
        const ScanResult &r = o.result;
        qInfo() << "found" << paths(r);
        // Any LUKS file at a registered path, whatever its size or label.
        const FoundVault *plain = findPath(r, "plain.img");
        QVERIFY(plain && plain->registered && !plain->coffer && plain->luksVersion == 2);
        const FoundVault *small = findPath(r, "small.coffer");
        QVERIFY(small && small->registered && small->size == 8192);
        // The hard-linked vault goes by its registered name.
        const FoundVault *hard = findPath(r, "hard.coffer");
        QVERIFY(hard && hard->registered && hard->luksUuid == m_keysUuid);
        QVERIFY(!findPath(r, "keys.coffer"));
        QVERIFY(findPath(r, "tomb.luks1")->registered);
        // A registered path that leaves the medium (climbing, through a symlink, into another
        // filesystem mounted inside it) or is not a LUKS file is nothing.
        for (const char *never : {"missing.coffer", "not-a-vault.bin", "link.coffer", "linkdir/outside.coffer",
                                  "fifo.coffer", "null.coffer", "../outside/outside.coffer", "/etc/passwd",
                                  "a//b/c/deep.coffer", "./keys.coffer", "a/b/c/../c/deep.coffer",
                                  "private/hidden.coffer", "inner/mounted.coffer", "bound.coffer"})
            QVERIFY2(!findPath(r, never), never);
        QCOMPARE(r.vaults.size(), size_t(8));
    }

    void limitsHold()
    {
        // Depth: the walk looks two folders down, so a/b/c/deep.coffer (three) is not seen.
        ScanLimits shallow;
        shallow.maxDepth = 2;
        Outcome o = scanRoot({}, shallow);
        QCOMPARE(o.code, Test::NoError);
        QVERIFY(!findPath(o.result, "a/b/c/deep.coffer"));
        QVERIFY(findPath(o.result, "tomb.luks1"));
        shallow.maxDepth = 0;
        o = scanRoot({}, shallow);
        QVERIFY(!findPath(o.result, std::string(255, 'd') + "/" + std::string(250, 'n') + ".cofr"));
        QVERIFY(findPath(o.result, "tomb.luks1"));

        // Entries: a folder of 3000 files stops a walk limited to 1000 entries, and it says so.
        QVERIFY(mkdirs(at("many")));
        for (int i = 0; i < 3000; ++i)
            UniqueFd(::open(at("many/f" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        ScanLimits few;
        few.maxEntries = 1000;
        o = scanRoot({"tomb.luks1"}, few);
        QCOMPARE(o.code, Test::NoError);
        QVERIFY(o.result.truncated);
        QCOMPARE(o.result.entriesRead, size_t(1000));
        QVERIFY(findPath(o.result, "tomb.luks1")); // registered paths are looked up regardless
        o = scanRoot();
        QVERIFY(!o.result.truncated);
        QVERIFY(o.result.entriesRead > 3000);
    }

    void neverAsRoot()
    {
        UniqueFd fd(::open(m_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        QCOMPARE(Test::codeOf([&] { scanForVaults(fd.get()); }), ErrorCode::NotAuthorized);
        const Outcome o = scanAs(nobody, [&] {
            UniqueFd file(::open(m_keyFile.c_str(), O_PATH | O_CLOEXEC));
            return scanForVaults(file.get());
        });
        QCOMPARE(o.code, ErrorCode::Failed); // not a directory
    }

    // A real filesystem on a block device, mounted where a label could put it: the mount table's
    // escapes, the free space, and the scan through scanMedium().
    void aMountedMedium()
    {
        const std::string image = QFile::encodeName(m_dir.filePath("ext4.img")).toStdString();
        UniqueFd backing(::open(image.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        QVERIFY(backing && ::ftruncate(backing.get(), 64 << 20) == 0);
        LoopDevice loop = LoopDevice::attach(backing.get(), {});
        Ext4::make(loop.path(), nobody, nobody);
        const std::string target = QFile::encodeName(m_dir.filePath("MY STICK\n\\x20 \xff")).toStdString();
        QVERIFY(mkdirs(target));
        Mount mount = Mount::mountExt4(loop.path(), target, false);
        QVERIFY(!coffer(target + "/v.coffer", "onstick").empty());

        Medium medium;
        medium.devNode = loop.path();
        medium.devnum = loop.devno();
        refreshMounts(medium, readMountInfo());
        QCOMPARE(medium.mountPoints, std::vector<std::string>{target});
        QVERIFY(medium.freeBytes && *medium.freeBytes > (16u << 20) && *medium.freeBytes < (64u << 20));

        Outcome o = scanAs(nobody, [&] { return scanMedium(medium); });
        QCOMPARE(o.code, Test::NoError);
        QCOMPARE(o.result.vaults.size(), size_t(1));
        QCOMPARE(o.result.vaults.front().path, std::string("v.coffer"));
        QCOMPARE(o.result.vaults.front().name, std::string("onstick"));

        // Unmounted: nothing to scan, and the medium says so.
        mount = Mount();
        refreshMounts(medium, readMountInfo());
        QVERIFY(!medium.mounted());
        QVERIFY(!medium.freeBytes);
        o = scanAs(nobody, [&] { return scanMedium(medium); });
        QCOMPARE(o.code, ErrorCode::NotFound);
        loop.detach();
    }

    // The watcher wakes for a mount and an unmount (hostile mount point name included), and
    // not otherwise.
    void mountWatcherSeesRealMounts()
    {
        MountWatcher watcher;
        watcher.start();
        QSignalSpy spy(&watcher, &MountWatcher::mountsChanged);
        const std::string target = QFile::encodeName(m_dir.filePath("watch me\n\\134")).toStdString();
        QVERIFY(mkdirs(target));
        auto mountedHere = [&] {
            for (const MountEntry &e : watcher.mounts()) {
                if (e.mountPoint == target)
                    return true;
            }
            return false;
        };
        QVERIFY(!mountedHere());
        QCOMPARE(::mount("tmpfs", target.c_str(), "tmpfs", 0, "size=1m"), 0);
        QVERIFY(spy.wait(10000));
        QVERIFY(mountedHere());
        // Nothing changes: no more wake-ups (the notifier is not level-triggered on a readable fd).
        const int seen = int(spy.count());
        QTest::qWait(300);
        QCOMPARE(int(spy.count()), seen);
        QCOMPARE(::umount2(target.c_str(), 0), 0);
        QTRY_VERIFY_WITH_TIMEOUT(!mountedHere(), 10000);
    }
};

QTEST_GUILESS_MAIN(TestMediaScan)
#include "test_media_scan.moc"
