// rsync-style exclude rules (core/sync/exclude.h). The integration test checks the same patterns
// against real rsync.

#include "error.h"
#include "sync/exclude.h"

#include "testerror.h"

#include <QTest>

using namespace Coffer::Sync;


class TestSyncExclude : public QObject
{
    Q_OBJECT

private slots:
    void wildcards_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("matches");
        QTest::newRow("star") << "*.tmp" << "a.tmp" << true;
        QTest::newRow("star no slash") << "*.tmp" << "d/a.tmp" << false;
        QTest::newRow("double star") << "**.tmp" << "d/a.tmp" << true;
        QTest::newRow("question") << "?.c" << "a.c" << true;
        QTest::newRow("question not slash") << "a?b" << "a/b" << false;
        QTest::newRow("class") << "[a-c]x" << "bx" << true;
        QTest::newRow("class miss") << "[a-c]x" << "dx" << false;
        QTest::newRow("negated class") << "[!a-c]x" << "dx" << true;
        QTest::newRow("escape") << "\\*x" << "*x" << true;
        QTest::newRow("escape literal") << "\\*x" << "ax" << false;
        QTest::newRow("exact") << "core" << "core" << true;
        QTest::newRow("prefix is not a match") << "core" << "cores" << false;
        QTest::newRow("empty star") << "a*" << "a" << true;
    }
    void wildcards()
    {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(bool, matches);
        QCOMPARE(wildMatch(pattern.toStdString(), text.toStdString()), matches);
    }

    void rules_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("isDir");
        QTest::addColumn<bool>("excluded");
        QTest::newRow("name anywhere") << "*.tmp" << "a/b/c.tmp" << false << true;
        QTest::newRow("anchored top") << "/build/" << "build" << true << true;
        QTest::newRow("anchored deeper") << "/build/" << "a/build" << true << false;
        QTest::newRow("dir only, file") << "/build/" << "build" << false << false;
        QTest::newRow("**/ at top") << "**/cache/" << "cache" << true << true;
        QTest::newRow("**/ deep") << "**/cache/" << "a/b/cache" << true << true;
        QTest::newRow("**/ file") << "**/cache/" << "a/cache" << false << false;
        QTest::newRow("tail") << "a/b*" << "x/a/bee" << true << true;
        QTest::newRow("tail at top") << "a/b*" << "a/b" << false << true;
        QTest::newRow("tail not mid-name") << "a/b*" << "xa/b" << false << false;
        QTest::newRow("anchored path") << "/a/b" << "a/b" << false << true;
        QTest::newRow("anchored path deeper") << "/a/b" << "x/a/b" << false << false;
        QTest::newRow("bytes") << "bad\xff*" << "d/bad\xff\xfe" << false << true;
    }
    void rules()
    {
        QFETCH(QString, pattern);
        QFETCH(QString, path);
        QFETCH(bool, isDir);
        QFETCH(bool, excluded);
        // QString round trip would mangle the invalid byte: take the test data's bytes.
        const std::string p = QTest::currentDataTag() == QByteArray("bytes") ? std::string("bad\xff*") : pattern.toStdString();
        const std::string t = QTest::currentDataTag() == QByteArray("bytes") ? std::string("d/bad\xff\xfe") : path.toStdString();
        const ExcludeRules r({p});
        QCOMPARE(r.excluded(t, isDir), excluded);
    }

    void badPatterns()
    {
        QVERIFY(Coffer::Test::throwsError([] { ExcludeRules({""}); }));
        QVERIFY(Coffer::Test::throwsError([] { ExcludeRules({"/"}); }));
    }
};

QTEST_GUILESS_MAIN(TestSyncExclude)
#include "test_sync_exclude.moc"
