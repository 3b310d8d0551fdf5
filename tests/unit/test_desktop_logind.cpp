// core/desktop/logind against python-dbusmock's logind on a private bus standing in for the
// system bus: the own session (by PID, or the user's display session), its Lock/Unlock and
// property changes, the Manager's sleep/shutdown signals, and delay inhibitors released and
// taken again. The real logind is on the VM's system bus (tests/vm).

#include "desktop/logind.h"
#include "desktoptest.h"
#include "testerror.h"

#include <QDBusArgument>
#include <QDBusObjectPath>
#include <QSignalSpy>
#include <QTest>

#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Test;

namespace {

struct Inhibitor {
    QString what, who, why, mode;
};

} // namespace

class TestDesktopLogind : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestBus> m_bus;
    std::unique_ptr<DBusMock> m_logind;

    // AddSession(id, seat, uid, name, active) on the mock; returns the session's path.
    QString addSession(const QString &id, bool active = true)
    {
        const QDBusMessage reply = m_logind->mock(ManagerPath, QStringLiteral("AddSession"),
                                                  {id, QStringLiteral("seat0"), uint(getuid()),
                                                   QStringLiteral("alice"), active});
        return isReply(reply) ? reply.arguments().value(0).toString() : QString();
    }
    // GetSessionByPID answers with `path`, or with logind's error for a process in no session.
    void answerSessionByPid(const QString &path)
    {
        const QString code = path.isEmpty()
            ? QStringLiteral("raise dbus.exceptions.DBusException('PID has no session', "
                             "name='org.freedesktop.login1.NoSessionForPID')")
            : QStringLiteral("ret = '%1'").arg(path);
        QVERIFY(isReply(m_logind->addMethod(ManagerPath, ManagerInterface, QStringLiteral("GetSessionByPID"),
                                            QStringLiteral("u"), QStringLiteral("o"), code)));
    }
    QList<Inhibitor> inhibitors() const
    {
        QList<Inhibitor> result;
        const QDBusMessage reply = m_logind->call(ManagerPath, ManagerInterface, QStringLiteral("ListInhibitors"));
        if (!isReply(reply))
            return result;
        const auto arg = reply.arguments().value(0).value<QDBusArgument>();
        arg.beginArray();
        while (!arg.atEnd()) {
            Inhibitor i;
            uint uid = 0, pid = 0;
            arg.beginStructure();
            arg >> i.what >> i.who >> i.why >> i.mode >> uid >> pid;
            arg.endStructure();
            result << i;
        }
        arg.endArray();
        return result;
    }
    void emitManager(const QString &name, bool start)
    {
        QVERIFY(isReply(m_logind->emitSignal(ManagerPath, ManagerInterface, name, QStringLiteral("b"), {start})));
    }

private Q_SLOTS:
    void init()
    {
        m_bus = std::make_unique<TestBus>(QStringLiteral("system"));
        QVERIFY(m_bus->isConnected());
        m_logind = std::make_unique<DBusMock>(*m_bus, QStringLiteral("org.freedesktop.login1"),
                                              QStringList{QStringLiteral("-t"), QStringLiteral("logind")}, true);
        QVERIFY(m_logind->isReady());
        // dbusmock 0.28's GetUser adds an int to a str.
        QVERIFY(isReply(m_logind->addMethod(ManagerPath, ManagerInterface, QStringLiteral("GetUser"),
                                            QStringLiteral("u"), QStringLiteral("o"),
                                            QStringLiteral("ret = '/org/freedesktop/login1/user/%d' % args[0]"))));
    }
    void cleanup()
    {
        m_logind.reset();
        m_bus.reset();
    }

    void ownSessionByPid()
    {
        const QString path = addSession(QStringLiteral("c1"));
        answerSessionByPid(path);
        LogindSession session(m_bus->connection());
        QSignalSpy found(&session, &LogindSession::found);
        QVERIFY(found.wait());
        QCOMPARE(session.path(), path);
        QVERIFY(session.isActive());
        QVERIFY(!session.lockedHint());

        QSignalSpy lock(&session, &LogindSession::lockRequested);
        QSignalSpy unlock(&session, &LogindSession::unlockRequested);
        QSignalSpy hint(&session, &LogindSession::lockedHintChanged);
        QSignalSpy active(&session, &LogindSession::activeChanged);
        // loginctl lock-session: logind emits Lock on the session.
        QVERIFY(isReply(m_logind->call(path, SessionInterface, QStringLiteral("Lock"))));
        QVERIFY(lock.wait());
        // The locker then sets LockedHint; the same value twice is one change.
        QVERIFY(isReply(m_logind->updateProperties(path, SessionInterface, {{QStringLiteral("LockedHint"), true}})));
        QVERIFY(isReply(m_logind->updateProperties(path, SessionInterface, {{QStringLiteral("LockedHint"), true}})));
        QVERIFY(waitFor([&] { return hint.count() == 1; }));
        QCOMPARE(hint.at(0).at(0).toBool(), true);
        QVERIFY(session.lockedHint());
        QVERIFY(isReply(m_logind->call(path, SessionInterface, QStringLiteral("Unlock"))));
        QVERIFY(unlock.wait());
        QVERIFY(isReply(m_logind->updateProperties(path, SessionInterface, {{QStringLiteral("LockedHint"), false}})));
        QVERIFY(waitFor([&] { return hint.count() == 2; }));
        QCOMPARE(hint.at(1).at(0).toBool(), false);
        // Switching to another user's session.
        QVERIFY(isReply(m_logind->updateProperties(path, SessionInterface, {{QStringLiteral("Active"), false}})));
        QVERIFY(active.wait());
        QCOMPARE(active.at(0).at(0).toBool(), false);
        QVERIFY(!session.isActive());
        QCOMPARE(lock.count(), 1);
        QCOMPARE(unlock.count(), 1);
        QCOMPARE(hint.count(), 2);
    }

    void otherSessionsSignalsAreNotOurs()
    {
        const QString ours = addSession(QStringLiteral("c1"));
        const QString other = addSession(QStringLiteral("c7"));
        answerSessionByPid(ours);
        LogindSession session(m_bus->connection());
        QSignalSpy found(&session, &LogindSession::found);
        QVERIFY(found.wait());
        QSignalSpy lock(&session, &LogindSession::lockRequested);
        QSignalSpy hint(&session, &LogindSession::lockedHintChanged);
        QVERIFY(isReply(m_logind->call(other, SessionInterface, QStringLiteral("Lock"))));
        QVERIFY(isReply(m_logind->updateProperties(other, SessionInterface, {{QStringLiteral("LockedHint"), true}})));
        // Then one of ours, which must be the only one seen.
        QVERIFY(isReply(m_logind->call(ours, SessionInterface, QStringLiteral("Lock"))));
        QVERIFY(lock.wait());
        QCOMPARE(lock.count(), 1);
        QCOMPARE(hint.count(), 0);
    }

    void displaySessionWhenOutsideAnySession()
    {
        // An app started by systemd --user (GNOME does that) is in no session of its own.
        answerSessionByPid(QString());
        const QString path = addSession(QStringLiteral("c2"));
        QDBusArgument display;
        display.beginStructure();
        display << QStringLiteral("c2") << QDBusObjectPath(path);
        display.endStructure();
        // (Properties.Set: dbusmock's UpdateProperties cannot wrap a struct.)
        QVERIFY(isReply(m_logind->call(QStringLiteral("/org/freedesktop/login1/user/%1").arg(getuid()),
                                       QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Set"),
                                       {QStringLiteral("org.freedesktop.login1.User"), QStringLiteral("Display"),
                                        QVariant::fromValue(QDBusVariant(QVariant::fromValue(display)))})));
        LogindSession session(m_bus->connection());
        QSignalSpy found(&session, &LogindSession::found);
        QSignalSpy notFound(&session, &LogindSession::notFound);
        QVERIFY(waitFor([&] { return !found.isEmpty() || !notFound.isEmpty(); }));
        QVERIFY2(notFound.isEmpty(), qPrintable(notFound.value(0).value(0).toString()));
        QCOMPARE(session.path(), path);

        QSignalSpy lock(&session, &LogindSession::lockRequested);
        QVERIFY(isReply(m_logind->call(path, SessionInterface, QStringLiteral("Lock"))));
        QVERIFY(lock.wait());
    }

    void noSessionAtAll()
    {
        answerSessionByPid(QString());
        // A user that logind knows, with no graphical session (Display is "/").
        QVERIFY(isReply(m_logind->mock(ManagerPath, QStringLiteral("AddUser"),
                                       {uint(getuid()), QStringLiteral("alice"), true})));
        LogindSession session(m_bus->connection());
        QSignalSpy notFound(&session, &LogindSession::notFound);
        QVERIFY(notFound.wait());
        QVERIFY2(notFound.at(0).at(0).toString().contains(QLatin1String("no graphical session")),
                 qPrintable(notFound.at(0).at(0).toString()));
        QVERIFY(!session.isFound());
    }

    void sleepAndShutdownSignals()
    {
        LogindManager manager(m_bus->connection());
        QSignalSpy sleep(&manager, &LogindManager::prepareForSleep);
        QSignalSpy shutdown(&manager, &LogindManager::prepareForShutdown);
        emitManager(QStringLiteral("PrepareForSleep"), true);
        emitManager(QStringLiteral("PrepareForSleep"), false);
        emitManager(QStringLiteral("PrepareForShutdown"), true);
        QVERIFY(waitFor([&] { return sleep.count() == 2 && shutdown.count() == 1; }));
        QCOMPARE(sleep.at(0).at(0).toBool(), true);
        QCOMPARE(sleep.at(1).at(0).toBool(), false);
        QCOMPARE(shutdown.at(0).at(0).toBool(), true);
    }

    void inhibitReturnsTheLock()
    {
        LogindManager manager(m_bus->connection());
        UniqueFd fd = manager.inhibit(QStringLiteral("sleep"), QStringLiteral("Coffer"),
                                      QStringLiteral("Lock the vaults"));
        QVERIFY(fd.valid());
        const QList<Inhibitor> held = inhibitors();
        QCOMPARE(held.size(), 1);
        QCOMPARE(held.at(0).what, QStringLiteral("sleep"));
        QCOMPARE(held.at(0).who, QStringLiteral("Coffer"));
        QCOMPARE(held.at(0).mode, QStringLiteral("delay"));
        // The lock is the fd: closing our copy (the only one left) releases it.
        fd.reset();
        QVERIFY(waitFor([&] { return inhibitors().isEmpty(); }));
    }

    void delayInhibitorReleasedAndTakenAgain()
    {
        LogindManager manager(m_bus->connection());
        DelayInhibitor inhibitor(&manager, QStringLiteral("sleep"), QStringLiteral("Coffer"),
                                 QStringLiteral("Lock the vaults before sleep"));
        QSignalSpy held(&inhibitor, &DelayInhibitor::held);
        QSignalSpy sleeping(&inhibitor, &DelayInhibitor::aboutToSleep);
        QSignalSpy resumed(&inhibitor, &DelayInhibitor::resumed);
        QVERIFY(held.wait());
        QVERIFY(inhibitor.isHeld());
        QCOMPARE(inhibitors().size(), 1);

        emitManager(QStringLiteral("PrepareForSleep"), true);
        QVERIFY(sleeping.wait());
        // The work before sleep is done: release, and logind lets the system sleep.
        QVERIFY(inhibitor.isHeld());
        inhibitor.release();
        QVERIFY(!inhibitor.isHeld());
        QVERIFY(waitFor([&] { return inhibitors().isEmpty(); }));

        emitManager(QStringLiteral("PrepareForSleep"), false);
        QVERIFY(resumed.wait());
        QVERIFY(waitFor([&] { return held.count() == 2; }));
        QVERIFY(inhibitor.isHeld());
        QCOMPARE(inhibitors().size(), 1);
        QCOMPARE(sleeping.count(), 1);
    }

    void shutdownInhibitorTakenAgainWhenCancelled()
    {
        LogindManager manager(m_bus->connection());
        DelayInhibitor inhibitor(&manager, QStringLiteral("sleep:shutdown"), QStringLiteral("Coffer"),
                                 QStringLiteral("Lock the vaults"));
        QSignalSpy held(&inhibitor, &DelayInhibitor::held);
        QSignalSpy shuttingDown(&inhibitor, &DelayInhibitor::aboutToShutdown);
        QVERIFY(held.wait());
        QCOMPARE(inhibitors().at(0).what, QStringLiteral("sleep:shutdown"));
        emitManager(QStringLiteral("PrepareForShutdown"), true);
        QVERIFY(shuttingDown.wait());
        inhibitor.release();
        QVERIFY(waitFor([&] { return inhibitors().isEmpty(); }));
        emitManager(QStringLiteral("PrepareForShutdown"), false);
        QVERIFY(held.wait());
        QCOMPARE(inhibitors().size(), 1);
    }

    void refusedInhibitorIsAnError()
    {
        QVERIFY(isReply(m_logind->addMethod(
            ManagerPath, ManagerInterface, QStringLiteral("Inhibit"), QStringLiteral("ssss"), QStringLiteral("h"),
            QStringLiteral("raise dbus.exceptions.DBusException('Permission denied', "
                           "name='org.freedesktop.DBus.Error.AccessDenied')"))));
        LogindManager manager(m_bus->connection());
        QCOMPARE(codeOf([&] { manager.inhibit(QStringLiteral("sleep"), QStringLiteral("Coffer"), QStringLiteral("x")); }),
                 ErrorCode::NotAuthorized);
        DelayInhibitor inhibitor(&manager, QStringLiteral("sleep"), QStringLiteral("Coffer"), QStringLiteral("x"));
        QSignalSpy failed(&inhibitor, &DelayInhibitor::failed);
        QVERIFY(failed.wait());
        QVERIFY2(failed.at(0).at(0).toString().contains(QLatin1String("Permission denied")),
                 qPrintable(failed.at(0).at(0).toString()));
        QVERIFY(!inhibitor.isHeld());
    }

    void withoutLogind()
    {
        m_logind->stop();
        QVERIFY(waitFor([&] { return !m_bus->hasOwner(QStringLiteral("org.freedesktop.login1")); }));
        LogindManager manager(m_bus->connection());
        QCOMPARE(codeOf([&] { manager.inhibit(QStringLiteral("sleep"), QStringLiteral("Coffer"), QStringLiteral("x")); }),
                 ErrorCode::NotSupported);
        LogindSession session(m_bus->connection());
        QSignalSpy notFound(&session, &LogindSession::notFound);
        QVERIFY(notFound.wait());
    }
};

QTEST_GUILESS_MAIN(TestDesktopLogind)
#include "test_desktop_logind.moc"
