// ScreenLockMonitor against python-dbusmock: logind (private "system" bus) and the five session
// bus screensavers (private session bus). Every source locks and unlocks; several sources
// reporting the same lock give one locked() and one unlocked().

#include "desktop/logind.h"
#include "desktop/screenlockmonitor.h"
#include "desktoptest.h"

#include <QSignalSpy>
#include <QTest>

#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Test;

namespace {

struct Saver {
    QString service, path;
};

const QList<Saver> Savers = {
    {QStringLiteral("org.freedesktop.ScreenSaver"), QStringLiteral("/org/freedesktop/ScreenSaver")},
    {QStringLiteral("org.gnome.ScreenSaver"), QStringLiteral("/org/gnome/ScreenSaver")},
    {QStringLiteral("org.cinnamon.ScreenSaver"), QStringLiteral("/org/cinnamon/ScreenSaver")},
    {QStringLiteral("org.mate.ScreenSaver"), QStringLiteral("/org/mate/ScreenSaver")},
    {QStringLiteral("org.xfce.ScreenSaver"), QStringLiteral("/org/xfce/ScreenSaver")},
};

} // namespace

class TestDesktopScreenLock : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestBus> m_system, m_session;
    std::unique_ptr<DBusMock> m_logind;
    std::vector<std::unique_ptr<DBusMock>> m_savers;
    QString m_sessionPath;

    void activeChanged(int saver, bool active, const QString &path = QString())
    {
        const Saver &s = Savers.at(saver);
        QVERIFY(isReply(m_savers.at(saver)->emitSignal(path.isEmpty() ? s.path : path, s.service,
                                                       QStringLiteral("ActiveChanged"), QStringLiteral("b"), {active})));
    }
    void lockedHint(bool locked)
    {
        QVERIFY(isReply(m_logind->updateProperties(m_sessionPath, SessionInterface,
                                                   {{QStringLiteral("LockedHint"), locked}})));
    }
    void sessionSignal(const QString &name)
    {
        QVERIFY(isReply(m_logind->call(m_sessionPath, SessionInterface, name)));
    }
    // A monitor whose logind session has been found.
    std::unique_ptr<ScreenLockMonitor> monitor()
    {
        auto m = std::make_unique<ScreenLockMonitor>(m_system->connection(), m_session->connection());
        QSignalSpy found(m->session(), &LogindSession::found);
        found.wait();
        return m;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_system = std::make_unique<TestBus>(QStringLiteral("system"));
        m_session = std::make_unique<TestBus>(QStringLiteral("session"));
        QVERIFY(m_system->isConnected() && m_session->isConnected());
        m_logind = std::make_unique<DBusMock>(*m_system, QStringLiteral("org.freedesktop.login1"),
                                              QStringList{QStringLiteral("-t"), QStringLiteral("logind")}, true);
        QVERIFY(m_logind->isReady());
        const QDBusMessage added = m_logind->mock(ManagerPath, QStringLiteral("AddSession"),
                                                  {QStringLiteral("c1"), QStringLiteral("seat0"), uint(getuid()),
                                                   QStringLiteral("alice"), true});
        QVERIFY(isReply(added));
        m_sessionPath = added.arguments().value(0).toString();
        QVERIFY(isReply(m_logind->addMethod(ManagerPath, ManagerInterface, QStringLiteral("GetSessionByPID"),
                                            QStringLiteral("u"), QStringLiteral("o"),
                                            QStringLiteral("ret = '%1'").arg(m_sessionPath))));
        for (const Saver &saver : Savers) {
            m_savers.push_back(std::make_unique<DBusMock>(*m_session, saver.service,
                                                          QStringList{saver.service, saver.path, saver.service}));
            QVERIFY(m_savers.back()->isReady());
        }
        // KDE's locker serves org.freedesktop.ScreenSaver at /ScreenSaver too.
        // (Through Python: an empty a(ssss) of methods is awkward to build in QtDBus.)
        QVERIFY(isReply(m_savers.at(0)->addMethod(
            Savers.at(0).path, QStringLiteral("org.coffer.Test"), QStringLiteral("AddKdePath"), QString(), QString(),
            QStringLiteral("self.AddObject('/ScreenSaver', 'org.freedesktop.ScreenSaver', {}, [])"))));
        QVERIFY(isReply(m_savers.at(0)->call(Savers.at(0).path, QStringLiteral("org.coffer.Test"),
                                             QStringLiteral("AddKdePath"))));
    }
    void cleanupTestCase()
    {
        m_savers.clear();
        m_logind.reset();
        m_session.reset();
        m_system.reset();
    }
    void cleanup()
    {
        lockedHint(false);
    }

    void logindLockAndHintAreOneTransition()
    {
        auto m = monitor();
        QVERIFY(!m->isLocked());
        QSignalSpy locked(m.get(), &ScreenLockMonitor::locked);
        QSignalSpy unlocked(m.get(), &ScreenLockMonitor::unlocked);
        sessionSignal(QStringLiteral("Lock"));
        lockedHint(true);
        QVERIFY(locked.wait());
        QVERIFY(m->isLocked());
        sessionSignal(QStringLiteral("Unlock"));
        lockedHint(false);
        QVERIFY(unlocked.wait());
        QVERIFY(!m->isLocked());
        // A duplicate Unlock, then a Lock from the same sender: once the Lock is seen, the
        // duplicate has been too.
        sessionSignal(QStringLiteral("Unlock"));
        sessionSignal(QStringLiteral("Lock"));
        QVERIFY(waitFor([&] { return locked.count() == 2; }));
        QCOMPARE(unlocked.count(), 1);
    }

    void eachScreenSaver_data()
    {
        QTest::addColumn<int>("saver");
        for (int i = 0; i < Savers.size(); ++i)
            QTest::newRow(qPrintable(Savers.at(i).service)) << i;
    }
    void eachScreenSaver()
    {
        QFETCH(int, saver);
        auto m = monitor();
        QSignalSpy locked(m.get(), &ScreenLockMonitor::locked);
        QSignalSpy unlocked(m.get(), &ScreenLockMonitor::unlocked);
        activeChanged(saver, true);
        QVERIFY(locked.wait());
        activeChanged(saver, false);
        QVERIFY(unlocked.wait());
        QCOMPARE(locked.count(), 1);
    }

    void kdeBothPathsAreOneLock()
    {
        auto m = monitor();
        QSignalSpy locked(m.get(), &ScreenLockMonitor::locked);
        QSignalSpy unlocked(m.get(), &ScreenLockMonitor::unlocked);
        activeChanged(0, true);
        activeChanged(0, true, QStringLiteral("/ScreenSaver"));
        activeChanged(0, false);
        activeChanged(0, false, QStringLiteral("/ScreenSaver"));
        // Same sender, so in order: when this lock is seen, every duplicate before it was too.
        activeChanged(0, true);
        QVERIFY(waitFor([&] { return locked.count() == 2; }));
        QCOMPARE(unlocked.count(), 1);
        activeChanged(0, false);
        QVERIFY(unlocked.wait());
    }

    void screenSaverAndLogindAreOneLock()
    {
        auto m = monitor();
        QSignalSpy locked(m.get(), &ScreenLockMonitor::locked);
        QSignalSpy unlocked(m.get(), &ScreenLockMonitor::unlocked);
        // GNOME: the shell's ActiveChanged, then its LockedHint on the system bus.
        activeChanged(1, true);
        QVERIFY(locked.wait());
        lockedHint(true);
        sessionSignal(QStringLiteral("Unlock"));
        QVERIFY(unlocked.wait());
        QCOMPARE(locked.count(), 1);
        activeChanged(1, false);
        lockedHint(false);
        // The second unlock report (either one) must not repeat unlocked(): a lock from logind
        // after both shows them seen.
        sessionSignal(QStringLiteral("Lock"));
        QVERIFY(waitFor([&] { return locked.count() == 2; }));
        QCOMPARE(unlocked.count(), 1);
    }

    void startsLockedWithoutASignal()
    {
        lockedHint(true);
        auto m = std::make_unique<ScreenLockMonitor>(m_system->connection(), m_session->connection());
        QSignalSpy locked(m.get(), &ScreenLockMonitor::locked);
        QSignalSpy found(m->session(), &LogindSession::found);
        QVERIFY(found.wait());
        QVERIFY(m->isLocked());
        QCOMPARE(locked.count(), 0);
        QSignalSpy unlocked(m.get(), &ScreenLockMonitor::unlocked);
        lockedHint(false);
        QVERIFY(unlocked.wait());
    }
};

QTEST_GUILESS_MAIN(TestDesktopScreenLock)
#include "test_desktop_screenlock.moc"
