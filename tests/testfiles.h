#pragma once

// Files for the tests that restore and compare them (core/restore's unit test, the restore
// browser's GUI test): written with a mode and a modification time, looked at without following
// links, and compared byte for byte with their permissions and times.

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTest>

#include <fcntl.h>
#include <string>
#include <sys/stat.h>

namespace Coffer::Test {

inline std::string fileBytes(const QString &path)
{
    return QFile::encodeName(path).toStdString();
}

// A file (and its folders) with `content`, `mode` and a modification time of mtime seconds and
// a fraction (so that nanoseconds are compared too).
inline void writeFile(const QString &path, const QByteArray &content, mode_t mode = 0600, time_t mtime = 1700000000)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(content);
    f.close();
    QCOMPARE(::chmod(fileBytes(path).c_str(), mode), 0);
    const struct timespec times[2] = {{mtime, 0}, {mtime, 123456789}};
    QCOMPARE(::utimensat(AT_FDCWD, fileBytes(path).c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

inline struct stat statOf(const QString &path)
{
    struct stat st {};
    ::lstat(fileBytes(path).c_str(), &st);
    return st;
}

// Same bytes, permissions and modification time (to the nanosecond).
inline void compareFiles(const QString &a, const QString &b)
{
    QFile fa(a), fb(b);
    QVERIFY2(fa.open(QIODevice::ReadOnly), qPrintable(a));
    QVERIFY2(fb.open(QIODevice::ReadOnly), qPrintable(b));
    QCOMPARE(fa.readAll(), fb.readAll());
    const struct stat sa = statOf(a), sb = statOf(b);
    QCOMPARE(sa.st_mode, sb.st_mode);
    QCOMPARE(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
    QCOMPARE(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
}

} // namespace Coffer::Test
