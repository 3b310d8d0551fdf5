// The programs holding a busy vault, read back from the Busy error's message (core/client/
// holders.h) in the forms core/block's Vault::close writes it.

#include "client/holders.h"

#include <QTest>

using namespace Coffer;
using Client::Holder;

class TestClientHolders : public QObject
{
    Q_OBJECT

private slots:
    void parsesTheBlockLayersSentence()
    {
        const Error busy(ErrorCode::Busy,
                         "The vault is in use by gpg-agent (pid 812, working directory), Web Content (pid 9001, open "
                         "file, memory-mapped file), vim (pid 77, open file). Close these programs and try again, or "
                         "lock it by force");
        const Client::BusyReport r = Client::holdersFromBusyError(busy);
        QCOMPARE(r.holders,
                 (QList<Holder>{{812, QStringLiteral("gpg-agent"), QStringLiteral("working directory")},
                                {9001, QStringLiteral("Web Content"), QStringLiteral("open file, memory-mapped file")},
                                {77, QStringLiteral("vim"), QStringLiteral("open file")}}));
        QVERIFY(!r.otherUsers);
        QVERIFY(!r.incomplete);
    }

    void otherUsersAndIncompleteScans()
    {
        const Client::BusyReport r = Client::holdersFromBusyError(
            Error(ErrorCode::Busy, "The vault is in use by programs of other users: bash (pid 5, working directory) (and "
                                   "maybe others: there were too many processes or open files to look at all). Coffer "
                                   "stops only your own programs; ask an administrator, or wait until they let go"));
        QCOMPARE(r.holders, (QList<Holder>{{5, QStringLiteral("bash"), QStringLiteral("working directory")}}));
        QVERIFY(r.otherUsers);
        QVERIFY(r.incomplete);
    }

    void namesNothingOtherwise()
    {
        QVERIFY(Client::holdersFromBusyError(Error(ErrorCode::Busy, "The vault is in use. Close these programs and try "
                                                                    "again, or lock it by force")).holders.isEmpty());
        QVERIFY(Client::holdersFromBusyError(Error(ErrorCode::Failed, "in use by x (pid 1, open file)")).holders.isEmpty());
        // A name that tries to look like the list's punctuation stops the reading, never invents a pid.
        const Client::BusyReport odd = Client::holdersFromBusyError(
            Error(ErrorCode::Busy, "The vault is in use by a (pid 1, open file)x (pid 2, open file)."));
        QCOMPARE(odd.holders.size(), 1);
        QCOMPARE(odd.holders[0].pid, 1u);
    }
};

QTEST_GUILESS_MAIN(TestClientHolders)
#include "test_client_holders.moc"
