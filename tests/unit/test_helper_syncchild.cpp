// The sync child (design.md 4.6): the program coffer-sync, which becomes the user (uid, gid,
// supplementary groups, no_new_privs, no way back to root), reads only what the user can read,
// and streams the engine's JSON lines to the helper.
#include "sync/syncengine.h"
#include "syncchild.h"
#include "testerror.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Helper;
using Coffer::Test::codeOf;

namespace {

constexpr uid_t Nobody = 65534;
const std::string Program = COFFER_BINARY_DIR "/helper/coffer-sync";

struct ChildRun
{
    std::vector<Sync::Message> messages;
    int status = -1;
};

ChildRun runChild(const Credentials &c, const Sync::Options &options)
{
    SyncChild child = startSyncChild(Program, c, options);
    std::string data;
    char buf[4096];
    pollfd pfd{child.output.get(), POLLIN, 0};
    for (;;) {
        const ssize_t n = read(child.output.get(), buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            poll(&pfd, 1, -1);
            continue;
        }
        if (n <= 0)
            break;
        data.append(buf, size_t(n));
    }
    ChildRun run;
    siginfo_t info {};
    waitid(P_PIDFD, id_t(child.pidfd.get()), &info, WEXITED);
    run.status = info.si_code == CLD_EXITED ? info.si_status : -1;
    size_t start = 0;
    while (start < data.size()) {
        const size_t nl = data.find('\n', start);
        run.messages.push_back(Sync::parseJsonLine(std::string_view(data).substr(start, nl - start + 1)));
        start = nl + 1;
    }
    return run;
}

void writeFile(const QString &path, const QByteArray &content, mode_t mode)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
    f.close();
    QCOMPARE(chmod(path.toLocal8Bit().constData(), mode), 0);
}

} // namespace

class TestHelperSyncChild : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("dropping to another user needs root");
    }

    void credentialsComeFromTheUserDatabase()
    {
        const Credentials root = credentialsFor(0);
        QCOMPARE(root.gid, gid_t(0));
        const struct passwd *pw = getpwuid(Nobody);
        const Credentials nobody = credentialsFor(Nobody);
        QCOMPARE(nobody.uid, Nobody);
        if (pw) {
            QCOMPARE(nobody.gid, pw->pw_gid);
            QVERIFY(std::find(nobody.groups.begin(), nobody.groups.end(), pw->pw_gid) != nobody.groups.end());
        }
        // Unknown uid: its own number as gid, no supplementary groups.
        const Credentials unknown = credentialsFor(4000123);
        QCOMPARE(unknown.gid, gid_t(4000123));
        QVERIFY(unknown.groups.empty());
    }

    void dropIsCompleteAndFinal()
    {
        Credentials c{Nobody, Nobody, {Nobody, 4242}};
        const pid_t pid = fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            if (!dropPrivileges(c))
                _exit(10);
            uid_t r, e, s;
            gid_t gr, ge, gs;
            getresuid(&r, &e, &s);
            getresgid(&gr, &ge, &gs);
            if (r != Nobody || e != Nobody || s != Nobody || gr != Nobody || ge != Nobody || gs != Nobody)
                _exit(11);
            gid_t groups[8];
            const int n = getgroups(8, groups);
            // The kernel keeps them sorted.
            if (n != 2 || groups[0] != 4242 || groups[1] != Nobody)
                _exit(12);
            if (setuid(0) == 0 || setgid(0) == 0)
                _exit(13);
            QFile status(QStringLiteral("/proc/self/status"));
            if (!status.open(QIODevice::ReadOnly) || !status.readAll().contains("NoNewPrivs:\t1"))
                _exit(14);
            if (::open("/etc/shadow", O_RDONLY) >= 0)
                _exit(15);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), 0);
    }

    void neverAsRoot()
    {
        const pid_t pid = fork();
        if (pid == 0)
            _exit(dropPrivileges(Credentials{0, 0, {}}) ? 1 : 0);
        int status = 0;
        waitpid(pid, &status, 0);
        QCOMPARE(WEXITSTATUS(status), 0);
    }

    void programArguments()
    {
        const Credentials c{1000, 1001, {1001, 27, 100}};
        const std::vector<std::string> args = syncProgramArguments(Program, c, 4242);
        std::vector<const char *> argv;
        for (const std::string &a : args)
            argv.push_back(a.c_str());
        const auto parsed = parseSyncProgramArguments(int(argv.size()), argv.data());
        QVERIFY(parsed);
        QCOMPARE(parsed->credentials.uid, uid_t(1000));
        QCOMPARE(parsed->credentials.gid, gid_t(1001));
        QCOMPARE(parsed->credentials.groups, (std::vector<gid_t>{1001, 27, 100}));
        QCOMPARE(parsed->parent, pid_t(4242));
        argv[2] = "1000x";
        QVERIFY(!parseSyncProgramArguments(int(argv.size()), argv.data()));
        argv[2] = "1000";
        argv[6] = "1,,2";
        QVERIFY(!parseSyncProgramArguments(int(argv.size()), argv.data()));
        QVERIFY(!parseSyncProgramArguments(3, argv.data()));
        QCOMPARE(codeOf([] { startSyncChild(Program, Credentials{0, 0, {}}, Sync::Options()); }),
                 ErrorCode::NotSupported);
    }

    // Started as root by anyone but the helper it names as its parent, it does nothing.
    void refusesAParentItDoesNotHave()
    {
        const std::string parent = std::to_string(getpid() + 1);
        const pid_t pid = fork();
        if (pid == 0) {
            execl(Program.c_str(), Program.c_str(), "--uid", "65534", "--gid", "65534", "--groups", "",
                  "--parent", parent.c_str(), nullptr);
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), 121);
    }

    void syncRunsAsTheCallerAndReadsOnlyWhatTheyCan()
    {
        QTemporaryDir base;
        QCOMPARE(chmod(base.path().toLocal8Bit().constData(), 0755), 0);
        QDir dir(base.path());
        QVERIFY(dir.mkdir(QStringLiteral("src")) && dir.mkdir(QStringLiteral("secret"))
                && dir.mkdir(QStringLiteral("dest")));
        chmod(dir.filePath(QStringLiteral("src")).toLocal8Bit().constData(), 0755);
        chmod(dir.filePath(QStringLiteral("secret")).toLocal8Bit().constData(), 0700);
        writeFile(dir.filePath(QStringLiteral("src/a.txt")), "readable", 0644);
        writeFile(dir.filePath(QStringLiteral("src/private.txt")), "root only", 0600);
        writeFile(dir.filePath(QStringLiteral("secret/key")), "root secret", 0600);
        QCOMPARE(chown(dir.filePath(QStringLiteral("dest")).toLocal8Bit().constData(), Nobody, Nobody), 0);

        const Credentials nobody{Nobody, Nobody, {}};
        Sync::Options options;
        options.sources.push_back({dir.filePath(QStringLiteral("src")).toStdString(), "src"});
        options.destination = dir.filePath(QStringLiteral("dest")).toStdString();
        ChildRun run = runChild(nobody, options);
        QCOMPARE(run.status, 0);
        QVERIFY(!run.messages.empty());
        const auto *result = std::get_if<Sync::Result>(&run.messages.back());
        QVERIFY2(result, "the last line is not a result");
        // private.txt is unreadable for nobody: a partial run, with that file not copied.
        QCOMPARE(result->outcome, Sync::Outcome::Partial);
        struct stat st {};
        const QString copied = dir.filePath(QStringLiteral("dest/current/src/a.txt"));
        QCOMPARE(stat(copied.toLocal8Bit().constData(), &st), 0);
        QCOMPARE(st.st_uid, Nobody);
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("dest/current/src/private.txt"))));

        // A source the caller cannot enter at all: an error line, nothing copied.
        options.sources = {{dir.filePath(QStringLiteral("secret")).toStdString(), "secret"}};
        run = runChild(nobody, options);
        QVERIFY(!run.messages.empty());
        QVERIFY(!std::holds_alternative<Sync::Result>(run.messages.back())
                || std::get<Sync::Result>(run.messages.back()).outcome != Sync::Outcome::Complete);
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("dest/current/secret/key"))));
    }
};

QTEST_GUILESS_MAIN(TestHelperSyncChild)
#include "test_helper_syncchild.moc"
