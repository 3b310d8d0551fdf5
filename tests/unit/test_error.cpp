// The one list of error kinds (core/error.h): names, exit codes as README.md and cofferctl(1)
// document them, and the byte counts for people (core/bytes.h) that messages and cofferctl use.

#include "bytes.h"
#include "error.h"
#include "testerror.h"

#include <QtTest>

using namespace Coffer;

class TestError : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void namesRoundTrip()
    {
        for (const ErrorKind &kind : errorKinds) {
            QCOMPARE(errorCodeName(kind.code), kind.name);
            QCOMPARE(errorCodeFromName(kind.name), std::optional<ErrorCode>(kind.code));
        }
        QCOMPARE(errorCodeFromName("Bogus"), std::optional<ErrorCode>());
        QCOMPARE(errorCodeFromName(""), std::optional<ErrorCode>());
    }

    // README.md: 0 ok, 1 failed, 2 usage, 3 partial, 4 bad passphrase, 5 not authorized, 6 busy,
    // 7 cancelled, 8 no space, 9 not found, 10 medium gone.
    void exitCodesAreTheDocumentedOnes()
    {
        QCOMPARE(exitCodeFor(ErrorCode::Failed), 1);
        QCOMPARE(exitCodeFor(ErrorCode::NotSupported), 1);
        QCOMPARE(exitCodeFor(ErrorCode::InvalidArgument), 2);
        QCOMPARE(exitCodeFor(ErrorCode::BadPassphrase), 4);
        QCOMPARE(exitCodeFor(ErrorCode::NotAuthorized), 5);
        QCOMPARE(exitCodeFor(ErrorCode::Busy), 6);
        QCOMPARE(exitCodeFor(ErrorCode::Cancelled), 7);
        QCOMPARE(exitCodeFor(ErrorCode::NoSpace), 8);
        QCOMPARE(exitCodeFor(ErrorCode::NotFound), 9);
        QCOMPARE(exitCodeFor(ErrorCode::MediumGone), 10);
        QCOMPARE(ExitCode::Partial, 3);
        // Not a code at all: the safe answer.
        QCOMPARE(exitCodeFor(Test::NoError), 1);
        QCOMPARE(errorCodeName(Test::NoError), std::string_view("Failed"));
    }

    void bytesForPeople_data()
    {
        QTest::addColumn<qulonglong>("bytes");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0ull << "0 B";
        QTest::newRow("bytes") << 1023ull << "1023 B";
        QTest::newRow("KiB") << 1024ull << "1.0 KiB";
        QTest::newRow("MiB") << 1572864ull << "1.5 MiB";
        QTest::newRow("GiB") << (5ull << 30) << "5.0 GiB";
        QTest::newRow("TiB") << (3ull << 40) << "3.0 TiB";
        QTest::newRow("beyond TiB") << (2048ull << 40) << "2048.0 TiB";
    }

    void bytesForPeople()
    {
        QFETCH(qulonglong, bytes);
        QFETCH(QString, text);
        QCOMPARE(QString::fromStdString(formatBytes(bytes)), text);
    }

    void bytesFromPeople_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qulonglong>("bytes");
        QTest::newRow("plain") << "100000000" << 100000000ull;
        QTest::newRow("M") << "64M" << (64ull << 20);
        QTest::newRow("G") << "2G" << (2ull << 30);
        QTest::newRow("GiB") << "1.5GiB" << (3ull << 29);
        QTest::newRow("lower case") << "512k" << (512ull << 10);
        QTest::newRow("MB") << "8MB" << (8ull << 20);
        QTest::newRow("T") << "1T" << (1ull << 40);
    }

    void bytesFromPeople()
    {
        QFETCH(QString, text);
        QFETCH(qulonglong, bytes);
        QCOMPARE(qulonglong(parseBytes(text.toStdString())), bytes);
    }

    void badSizesAreRefused_data()
    {
        QTest::addColumn<QString>("text");
        for (const char *bad : {"", "M", "0", "-5M", "5X", "1e30", "nan", "inf", "12 M", "5B"})
            QTest::newRow(bad) << bad;
    }

    void badSizesAreRefused()
    {
        QFETCH(QString, text);
        QCOMPARE(Test::codeOf([&] { parseBytes(text.toStdString()); }), ErrorCode::InvalidArgument);
    }
};

QTEST_GUILESS_MAIN(TestError)
#include "test_error.moc"
