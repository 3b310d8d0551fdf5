// The dialogs from the main window, by keyboard (ui/dialogentries.h): Ctrl+N the create wizard,
// Ctrl+R the restore browser of the selected vault (unlocking it first when it is locked),
// Ctrl+K its keys (locked or open), each once per vault (a second press raises the first), with
// the fake helper (L0).

#include "guifixture.h"
#include "guitest.h"
#include "xvfbmain.h"

#include "client/vaulthandle.h"
#include "createwizard.h"
#include "keymanagerdialog.h"
#include "mainwindow.h"
#include "plugflow.h"
#include "restorebrowser.h"

using namespace Coffer;
using namespace Coffer::Test;

class TestDialogEntries : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<GuiFixture> f;
    std::unique_ptr<Ui::PlugFlow> m_plug;
    std::unique_ptr<Ui::MainWindow> m_window;

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
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
        QTest::keyClick(m_window.get(), Qt::Key(key), Qt::ControlModifier);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
    }

    void init()
    {
        f = std::make_unique<GuiFixture>(m_bus.address());
        qputenv("HOME", QFile::encodeName(f->path(QStringLiteral("home"))));
        f->registerVault(1, "keys");
        f->model->setMedia({f->drive()});
        m_plug = std::make_unique<Ui::PlugFlow>(f->model.get(), f->controller.get(), nullptr);
        m_window = std::make_unique<Ui::MainWindow>(f->model.get(), f->controller.get(), m_plug.get(), nullptr);
        m_window->show();
        m_window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
        QTRY_VERIFY(f->model->row(fakeVaultId(1)).has_value());
        m_window->select(fakeVaultId(1));
    }

    void cleanup()
    {
        m_window.reset();
        m_plug.reset();
        f.reset();
    }

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
};

COFFER_XVFB_MAIN(TestDialogEntries)
#include "test_dialogentries.moc"
