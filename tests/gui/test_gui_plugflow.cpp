// The plug flow (ui/plugflow): what plugging in a drive does, per the vault's trigger (ask:
// a notification with actions, the default backing up; back up at once; manual: nothing), the
// answers (back up now, unlock only, not now, always), the window when there is no server with
// actions, the offer to add a vault Coffer does not know, and the question withdrawn when the
// drive goes. The fake helper and python-dbusmock's notification daemon share a private bus;
// dunst and the real helper answer in the VM (gui-plug.sh).

#include "desktoptest.h"
#include "guifixture.h"

#include "desktop/notifications.h"
#include "plugflow.h"
#include "plugprompt.h"
#include "progresswindow.h"

#include <QPushButton>
#include <QSignalSpy>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::PlugFlow;

namespace {

const QString NotifyService = QStringLiteral("org.freedesktop.Notifications");
const QString NotifyPath = QStringLiteral("/org/freedesktop/Notifications");
const QString NotifyInterface = QStringLiteral("org.freedesktop.Notifications");
const QString TestInterface = QStringLiteral("org.coffer.Test");

} // namespace

class TestGuiPlugFlow : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestBus> m_bus;
    std::unique_ptr<DBusMock> m_server;
    std::unique_ptr<GuiFixture> f;
    std::unique_ptr<Notifications> m_notifications;
    std::unique_ptr<PlugFlow> m_flow;

    // What the notification server was asked to show: "summary|body|action keys and labels".
    QStringList shown() const
    {
        const QDBusMessage reply = m_server->call(NotifyPath, TestInterface, QStringLiteral("Shown"));
        return isReply(reply) ? reply.arguments().value(0).toStringList() : QStringList();
    }
    int closeCalls() const
    {
        const QDBusMessage reply = m_server->call(NotifyPath, TestInterface, QStringLiteral("Closes"));
        return isReply(reply) ? reply.arguments().value(0).toInt() : -1;
    }
    // The server's id of the last notification shown.
    uint lastId() const
    {
        const QDBusMessage reply = m_server->call(NotifyPath, TestInterface, QStringLiteral("LastId"));
        return isReply(reply) ? reply.arguments().value(0).toUInt() : 0;
    }
    // What a click on the last notification's action does.
    void click(const QString &action)
    {
        QVERIFY(isReply(m_server->emitSignal(NotifyPath, NotifyInterface, QStringLiteral("ActionInvoked"),
                                             QStringLiteral("us"), {lastId(), action})));
    }
    // The drive plugged in, then mounted by the desktop.
    void plugIn()
    {
        f->model->addMedium(f->drive(false));
        m_flow->mediumAdded(f->drive(false));
        f->model->changeMedium(f->drive(true));
        m_flow->mediumChanged(f->drive(true));
    }
    bool waitForCall(const QString &method) const
    {
        return QTest::qWaitFor([&] { return f->fake->calls.contains(method); }, waitMs);
    }

private Q_SLOTS:
    void initTestCase()
    {
        Ui::installTranslations();
        m_bus = std::make_unique<TestBus>(QStringLiteral("session"));
        QVERIFY(m_bus->isConnected());
        m_server = std::make_unique<DBusMock>(
            *m_bus, NotifyService,
            QStringList{QStringLiteral("-t"), QStringLiteral("notification_daemon"), QStringLiteral("-p"),
                        QStringLiteral("{\"capabilities\": \"body actions\"}")});
        QVERIFY(m_server->isReady());
        QVERIFY(isReply(m_server->addMethod(
            NotifyPath, TestInterface, QStringLiteral("Shown"), QString(), QStringLiteral("as"),
            QStringLiteral("ret = ['%s|%s|%s' % (c[2][3], c[2][4], ' '.join(c[2][5])) "
                           "for c in self.call_log if c[1] == 'Notify']"))));
        QVERIFY(isReply(m_server->addMethod(NotifyPath, TestInterface, QStringLiteral("LastId"), QString(),
                                            QStringLiteral("u"), QStringLiteral("ret = self.next_id - 1"))));
        QVERIFY(isReply(m_server->addMethod(
            NotifyPath, TestInterface, QStringLiteral("Closes"), QString(), QStringLiteral("i"),
            QStringLiteral("ret = len([c for c in self.call_log if c[1] == 'CloseNotification'])"))));
    }

    void init()
    {
        QVERIFY(isReply(m_server->mock(NotifyPath, QStringLiteral("ClearCalls"))));
        f = std::make_unique<GuiFixture>(m_bus->address());
        m_notifications = std::make_unique<Notifications>(f->connect(QStringLiteral("session")), QStringLiteral("Coffer"));
        QVERIFY(QTest::qWaitFor([&] { return m_notifications->supportsActions(); }, waitMs));
        m_flow = std::make_unique<PlugFlow>(f->model.get(), f->controller.get(), m_notifications.get());
        f->controller->setNotifications(m_notifications.get());
    }
    void cleanup()
    {
        m_flow.reset();
        m_notifications.reset();
        f.reset();
    }

    void decisionPerTrigger_data()
    {
        QTest::addColumn<Config::Trigger>("trigger");
        QTest::addColumn<PlugFlow::Decision>("decision");
        QTest::newRow("ask") << Config::Trigger::Ask << PlugFlow::Decision::Ask;
        QTest::newRow("backup") << Config::Trigger::Backup << PlugFlow::Decision::BackUp;
        QTest::newRow("manual") << Config::Trigger::Manual << PlugFlow::Decision::Nothing;
    }
    void decisionPerTrigger()
    {
        QFETCH(Config::Trigger, trigger);
        QFETCH(PlugFlow::Decision, decision);
        Config::VaultEntry entry;
        entry.trigger = trigger;
        QCOMPARE(PlugFlow::decide(entry), decision);
    }

    // Ask: nothing until the drive is mounted; then the question with its four answers, and
    // its default action backs up: unlock with the key file, sync, record it, lock, "safe".
    void askThenTheDefaultActionBacksUp()
    {
        f->registerVault(1, "keys");
        const QByteArray key = f->useKeyFile(1);
        QSignalSpy asked(m_flow.get(), &PlugFlow::asked);
        QSignalSpy safe(f->controller.get(), &Ui::VaultController::safeToUnplug);
        f->model->addMedium(f->drive(false));
        m_flow->mediumAdded(f->drive(false));
        QTest::qWait(100);
        QCOMPARE(asked.count(), 0); // the vault file is not reachable yet
        f->model->changeMedium(f->drive(true));
        m_flow->mediumChanged(f->drive(true));
        QCOMPARE(asked.count(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(shown().size(), 1, waitMs);
        QCOMPARE(shown().at(0), QStringLiteral("MY STICK plugged in|Back up “keys” now?|default Back up now backup "
                                               "Back up now unlock Unlock only notnow Not now always Always back up "
                                               "on plug"));

        click(QStringLiteral("default"));
        QVERIFY(waitForCall(QStringLiteral("Sync")));
        QCOMPARE(f->fake->manager->secrets.last().bytes, key);
        QVERIFY(f->controller->progressWindow(fakeVaultId(1)));
        Sync::Result result;
        result.filesCopied = 2;
        result.bytesCopied = 300;
        f->fake->jobs.last()->finish(JobOutcome::Ok, {}, {}, Helper1::encodeSyncResult(result));
        QVERIFY(safe.wait(waitMs));
        QCOMPARE(safe.at(0).at(1).toString(), QStringLiteral("MY STICK"));
        QVERIFY(f->fake->calls.contains(QStringLiteral("Lock")));
        const Config::VaultEntry entry = *f->registry->vault(fakeVaultUuid(1));
        QVERIFY(entry.lastSync);
        QCOMPARE(entry.lastSync->outcome, JobOutcome::Ok);
        QCOMPARE(entry.lastSync->files, uint64_t(2));
        QCOMPARE(entry.lastSync->bytes, uint64_t(300));
        QVERIFY(entry.lastSuccess);
        QCOMPARE(f->controller->progressWindow(fakeVaultId(1))->unplugText(), QStringLiteral("Locked. Safe to unplug MY STICK."));
        // "Safe to unplug" is a notification too.
        QTRY_VERIFY_WITH_TIMEOUT(shown().size() == 2 && shown().at(1).startsWith(QStringLiteral("Safe to unplug MY STICK|")),
                                 waitMs);
    }

    void unlockOnlyOpensAndStays()
    {
        f->registerVault(1, "keys");
        f->useKeyFile(1);
        plugIn();
        QTRY_COMPARE_WITH_TIMEOUT(shown().size(), 1, waitMs);
        click(QStringLiteral("unlock"));
        QTRY_VERIFY_WITH_TIMEOUT(f->model->row(fakeVaultId(1))->isOpen(), waitMs);
        QTest::qWait(100);
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Sync")));
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Lock")));
    }

    void notNowAndDismissedDoNothing()
    {
        f->registerVault(1, "keys");
        f->useKeyFile(1);
        plugIn();
        QTRY_COMPARE_WITH_TIMEOUT(shown().size(), 1, waitMs);
        click(QStringLiteral("notnow"));
        // The next plug asks again; dismissing it is "not now" too.
        m_flow->mediumRemoved(f->drive());
        f->model->removeMedium(f->drive());
        plugIn();
        QTRY_COMPARE_WITH_TIMEOUT(shown().size(), 2, waitMs);
        QVERIFY(isReply(m_server->emitSignal(NotifyPath, NotifyInterface, QStringLiteral("NotificationClosed"),
                                             QStringLiteral("uu"), {lastId(), 2u})));
        QTest::qWait(200);
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Unlock")));
        QCOMPARE(f->registry->vault(fakeVaultUuid(1))->trigger, Config::Trigger::Ask);
    }

    void alwaysBacksUpAndRemembers()
    {
        f->registerVault(1, "keys");
        f->useKeyFile(1);
        plugIn();
        QTRY_COMPARE_WITH_TIMEOUT(shown().size(), 1, waitMs);
        click(QStringLiteral("always"));
        QVERIFY(waitForCall(QStringLiteral("Sync")));
        QCOMPARE(f->registry->vault(fakeVaultUuid(1))->trigger, Config::Trigger::Backup);
    }

    void backupTriggerBacksUpWithoutAsking()
    {
        f->registerVault(1, "keys", Config::Trigger::Backup);
        f->useKeyFile(1);
        QSignalSpy asked(m_flow.get(), &PlugFlow::asked);
        plugIn();
        QVERIFY(waitForCall(QStringLiteral("Sync")));
        QCOMPARE(asked.count(), 0);
        QVERIFY(shown().isEmpty());
    }

    void manualDoesNothing()
    {
        f->registerVault(1, "keys", Config::Trigger::Manual);
        f->useKeyFile(1);
        QSignalSpy asked(m_flow.get(), &PlugFlow::asked);
        plugIn();
        QTest::qWait(300);
        QCOMPARE(asked.count(), 0);
        QVERIFY(shown().isEmpty());
        QVERIFY(f->fake->calls.isEmpty() || !f->fake->calls.contains(QStringLiteral("Unlock")));
    }

    // No notification server that shows actions (or notifications turned off): the same
    // question in a window; its buttons answer it.
    void withoutActionsAWindowAsks()
    {
        f->registerVault(1, "keys");
        f->useKeyFile(1);
        Config::Settings s = f->registry->settings();
        s.notifications = false;
        f->registry->setSettings(s);
        QSignalSpy asked(m_flow.get(), &PlugFlow::asked);
        plugIn();
        QCOMPARE(asked.count(), 1);
        QVERIFY(shown().isEmpty());
        Ui::PlugPrompt *prompt = m_flow->prompt(fakeVaultId(1));
        QVERIFY(prompt);
        QVERIFY(prompt->isVisible());
        QVERIFY(prompt->button(Ui::PlugAnswer::BackUpNow)->isDefault());
        prompt->button(Ui::PlugAnswer::UnlockOnly)->click();
        QTRY_VERIFY_WITH_TIMEOUT(f->model->row(fakeVaultId(1))->isOpen(), waitMs);
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Sync")));
        QTRY_VERIFY_WITH_TIMEOUT(!m_flow->prompt(fakeVaultId(1)), waitMs);
    }

    void noServerAtAllAsksInAWindow()
    {
        f->registerVault(1, "keys");
        PlugFlow alone(f->model.get(), f->controller.get(), nullptr);
        f->model->addMedium(f->drive());
        alone.mediumAdded(f->drive());
        QVERIFY(alone.prompt(fakeVaultId(1)));
        // A drive that goes takes its question with it.
        alone.mediumRemoved(f->drive());
        QTRY_VERIFY_WITH_TIMEOUT(!alone.prompt(fakeVaultId(1)), waitMs);
    }

    void goneDriveWithdrawsTheNotification()
    {
        f->registerVault(1, "keys");
        plugIn();
        QTRY_COMPARE_WITH_TIMEOUT(shown().size(), 1, waitMs);
        m_flow->mediumRemoved(f->drive());
        QTRY_COMPARE_WITH_TIMEOUT(closeCalls(), 1, waitMs);
    }

    // A drive with a vault Coffer does not know: offered to be added (a known one is not).
    void unknownVaultIsOfferedToAdd()
    {
        f->registerVault(1, "keys");
        Config::VaultEntry keys = *f->registry->vault(fakeVaultUuid(1));
        keys.medium = {"other-drive", "", ""};
        f->registry->putVault(keys);
        m_flow->setScanner([](const Media::Medium &) {
            Media::ScanResult r;
            Media::FoundVault known, unknown;
            known.path = "keys.coffer";
            known.luksUuid = fakeVaultUuid(1);
            unknown.path = "backups/work.coffer";
            unknown.name = "work";
            unknown.luksUuid = fakeVaultUuid(7);
            r.vaults = {known, unknown};
            return r;
        });
        QSignalSpy offered(m_flow.get(), &PlugFlow::addOffered);
        QSignalSpy requested(m_flow.get(), &PlugFlow::addRequested);
        plugIn();
        QVERIFY(offered.wait(waitMs));
        const auto found = offered.at(0).at(0).value<std::vector<Ui::FoundVault>>();
        QCOMPARE(found.size(), size_t(1));
        QCOMPARE(found.front().vault.luksUuid, fakeVaultUuid(7));
        QTRY_COMPARE_WITH_TIMEOUT(shown().size(), 1, waitMs);
        QCOMPARE(shown().at(0), QStringLiteral("A vault is on MY STICK|“work” is not in Coffer yet. Add it, to back up into "
                                               "it?|default Add to Coffer… add Add to Coffer… notnow Not now"));
        click(QStringLiteral("default"));
        QVERIFY(requested.wait(waitMs));
        QCOMPARE(requested.at(0).at(0).value<std::vector<Ui::FoundVault>>().front().vault.path, "backups/work.coffer");
    }
};

QTEST_MAIN(TestGuiPlugFlow)
#include "test_gui_plugflow.moc"
