// Snapshot retention (Coffer::Sync::snapshotsToRemove).

#include "sync/syncengine.h"

#include <QTest>

using namespace Coffer::Sync;

class TestSyncRetention : public QObject
{
    Q_OBJECT

private slots:
    void keepEverythingByDefault()
    {
        QVERIFY(snapshotsToRemove({"2026-01-01T000000Z", "2026-01-02T000000Z"}, {}).empty());
    }

    void keepLast()
    {
        const std::vector<std::string> names = {"2026-01-03T000000Z", "2026-01-01T000000Z",
                                                "2026-01-02T000000Z", "not-a-snapshot",
                                                "2026-01-03T000000Z-2"};
        Retention r;
        r.keepLast = 2;
        const auto gone = snapshotsToRemove(names, r);
        QCOMPARE(gone, (std::vector<std::string>{"2026-01-01T000000Z", "2026-01-02T000000Z"}));
    }

    void daily()
    {
        Retention r;
        r.keepDaily = 2;
        const auto gone = snapshotsToRemove({"2026-01-01T080000Z", "2026-01-01T200000Z",
                                             "2026-01-02T080000Z", "2026-01-02T200000Z",
                                             "2026-01-03T090000Z"}, r);
        // Newest of each of the last two days that have snapshots: 01-03 and 01-02 20:00.
        QCOMPARE(gone, (std::vector<std::string>{"2026-01-01T080000Z", "2026-01-01T200000Z",
                                                 "2026-01-02T080000Z"}));
    }

    void weeklyPlusLast()
    {
        Retention r;
        r.keepWeekly = 2;
        r.keepLast = 1;
        // 2026-01-05 is a Monday: the ISO week changes between the 4th and the 5th.
        const auto gone = snapshotsToRemove({"2026-01-01T000000Z", "2026-01-04T000000Z",
                                             "2026-01-05T000000Z", "2026-01-06T000000Z",
                                             "2026-01-07T000000Z"}, r);
        QCOMPARE(gone, (std::vector<std::string>{"2026-01-01T000000Z", "2026-01-05T000000Z",
                                                 "2026-01-06T000000Z"}));
    }
};

QTEST_GUILESS_MAIN(TestSyncRetention)
#include "test_sync_retention.moc"
