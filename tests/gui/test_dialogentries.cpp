// The dialogs from the main window, by keyboard (ui/dialogentries.h): Ctrl+N the create wizard,
// Ctrl+R the restore browser of the selected vault (unlocking it first when it is locked),
// Ctrl+K its keys (locked or open), each once per vault (a second press raises the first), with
// the fake helper (L0).

#include "guitest.h"
#include "mainwindowfixture.h"
#include "xvfbmain.h"

#include "client/vaulthandle.h"
#include "createwizard.h"
#include "keymanagerdialog.h"
#include "restorebrowser.h"

#include <QMenu>
#include <QMenuBar>

using namespace Coffer;
using namespace Coffer::Test;

class TestDialogEntries : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<MainWindowFixture> m_main;
    GuiFixture *f = nullptr;
    Ui::MainWindow *m_window = nullptr;

    template<typename T>
    T *waitForWindow()
    {
        T *w = nullptr;
        const bool shown = QTest::qWaitFor([&] { return (w = m_window->findChild<T *>()) && w->isVisible(); }, waitMs);
        return shown ? w : nullptr;
    }

    void press(int key)
    {
        m_window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_window));
        QTest::keyClick(m_window, Qt::Key(key), Qt::ControlModifier);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
    }

    void init()
    {
        m_main = std::make_unique<MainWindowFixture>(m_bus.address());
        f = m_main->f.get();
        m_window = m_main->window.get();
        qputenv("HOME", QFile::encodeName(f->path(QStringLiteral("home"))));
        QVERIFY(m_main->ready());
    }

    void cleanup() { m_main.reset(); }

    void newVaultOpensTheWizard()
    {
        press(Qt::Key_N);
        auto *wizard = waitForWindow<Ui::CreateWizard>();
        QVERIFY(wizard);
        QCOMPARE(wizard->currentId(), int(Ui::CreateWizard::MediumPage));
        press(Qt::Key_N);
        QCOMPARE(m_window->findChildren<Ui::CreateWizard *>().size(), 1);
    }

    void restoreUnlocksALockedVaultFirst()
    {
        f->useKeyFile(1);
        QVERIFY(!f->model->row(fakeVaultId(1))->isOpen());
        press(Qt::Key_R);
        auto *browser = waitForWindow<Ui::RestoreBrowser>();
        QVERIFY(browser);
        QVERIFY(f->fake->calls.contains(QStringLiteral("Unlock")));
        QVERIFY(f->model->row(fakeVaultId(1))->isOpen());
        QCOMPARE(browser->windowTitle(), QStringLiteral("Restore from “keys”"));
        press(Qt::Key_R);
        QTest::qWait(100);
        QCOMPARE(m_window->findChildren<Ui::RestoreBrowser *>().size(), 1);
    }

    void keysOfALockedVault()
    {
        QVERIFY(!f->model->row(fakeVaultId(1))->isOpen());
        press(Qt::Key_K);
        auto *keys = waitForWindow<Ui::KeyManagerDialog>();
        QVERIFY(keys);
        QCOMPARE(keys->windowTitle(), QStringLiteral("Keys of “keys”"));
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Unlock"))); // the header is in the user's own file
        press(Qt::Key_K);
        QTest::qWait(100);
        QCOMPARE(m_window->findChildren<Ui::KeyManagerDialog *>().size(), 1);
    }
    void theVaultMenuNamesThemWithTheirKeys()
    {
        QMenu *vaultMenu = nullptr;
        for (QAction *a : m_window->menuBar()->actions()) {
            if (a->menu() && a->text() == QStringLiteral("&Vault"))
                vaultMenu = a->menu();
        }
        QVERIFY(vaultMenu);
        QMap<QString, QString> shortcuts;
        for (QAction *a : vaultMenu->actions())
            shortcuts.insert(a->text(), a->shortcut().toString());
        QCOMPARE(shortcuts.value(QStringLiteral("&Restore…")), QStringLiteral("Ctrl+R"));
        QCOMPARE(shortcuts.value(QStringLiteral("&Keys…")), QStringLiteral("Ctrl+K"));
        vaultMenu->popup(m_window->mapToGlobal(QPoint(40, 30)));
        QVERIFY(QTest::qWaitForWindowExposed(vaultMenu));
        QTest::qWait(100);
        QDir().mkpath(screenshotDir());
        QVERIFY(vaultMenu->grab().save(screenshotDir() + QStringLiteral("/main-window-vault-menu.png")));
        vaultMenu->hide();
    }
};

COFFER_XVFB_MAIN(TestDialogEntries)
#include "test_dialogentries.moc"
