// The helper's log: text from callers and headers (vault names, paths in error messages) cannot
// forge a line or hide what follows it.
#include "log.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Coffer::Helper;

class TestHelperLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void controlCharactersAreEscaped()
    {
        QCOMPARE(Log::escaped(QStringLiteral("plain text /run/coffer/1000/keys")),
                 QStringLiteral("plain text /run/coffer/1000/keys"));
        QCOMPARE(Log::escaped(QStringLiteral("a\nb\rc\td")), QStringLiteral("a\\nb\\rc\\td"));
        QCOMPARE(Log::escaped(QStringLiteral("\x1b[31mred")), QStringLiteral("\\x1b[31mred"));
        QCOMPARE(Log::escaped(QStringLiteral("back\\slash")), QStringLiteral("back\\\\slash"));
        QCOMPARE(Log::escaped(QStringLiteral("gpj\u202Eexe")), QStringLiteral("gpj\\u202eexe"));
        QCOMPARE(Log::escaped(QStringLiteral("line\u2028sep")), QStringLiteral("line\\u2028sep"));
        QCOMPARE(Log::escaped(QStringLiteral("Schlüssel")), QStringLiteral("Schlüssel"));
    }

    void oneEventIsOneLine()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("helper.log"));
        Log::setFile(path);
        Log::write(QStringLiteral("uid 1000: unlock failed: cannot read /home/a\n2026-01-01T00:00:00Z coffer-helper: uid 0: forged"));
        Log::setFile({});
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = file.readAll().split('\n');
        QCOMPARE(lines.size(), 2); // one line and the empty rest after its newline
        QVERIFY(lines[0].contains("coffer-helper: uid 1000: unlock failed: cannot read /home/a\\n2026"));
        QVERIFY(lines[1].isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestHelperLog)
#include "test_helper_log.moc"
