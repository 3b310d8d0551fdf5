// Keyboard-only use and accessible names: every control of every window can be reached with
// Tab and has a name in the accessibility tree; the vault list is driven with the arrow keys and
// the shortcuts; the menus open with their mnemonics; the plug prompt answers Enter and Esc; the
// tray menu's entries have mnemonics.

#include "guifixture.h"

#include "addvaultdialog.h"
#include "mainwindow.h"
#include "plugflow.h"
#include "plugprompt.h"
#include "progresswindow.h"
#include "settingsdialog.h"
#include "trayicon.h"
#include "unlockdialog.h"

#include <QAbstractButton>
#include <QAbstractSpinBox>
#include <QAccessible>
#include <QComboBox>
#include <QMenu>
#include <QMenuBar>
#include <QSignalSpy>
#include <QSystemTrayIcon>
#include <QTreeView>

using namespace Coffer;
using namespace Coffer::Test;

class TestGuiKeyboard : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<GuiFixture> f;

    // The controls of a window: what takes the keyboard focus (a spin box's or combo box's own
    // line edit is part of it).
    static QList<QWidget *> controls(QWidget *window)
    {
        QList<QWidget *> out;
        for (QWidget *w : window->findChildren<QWidget *>()) {
            if (w->focusPolicy() == Qt::NoFocus || !w->isVisibleTo(window) || w->focusProxy())
                continue;
            if (qobject_cast<QAbstractSpinBox *>(w->parentWidget()) || qobject_cast<QComboBox *>(w->parentWidget()))
                continue;
            if (w->inherits("QAbstractScrollArea") && qobject_cast<QWidget *>(w->parent())
                && w->parentWidget()->inherits("QAbstractItemView"))
                continue;
            out << w;
        }
        return out;
    }

    // Every control has an accessible name, and Tab reaches each one from the first.
    static void checkWindow(QWidget *window)
    {
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window));
        const QList<QWidget *> all = controls(window);
        QVERIFY(!all.isEmpty());
        for (QWidget *w : all) {
            QAccessibleInterface *a = QAccessible::queryAccessibleInterface(w);
            QVERIFY(a);
            QVERIFY2(!a->text(QAccessible::Name).isEmpty(),
                     qPrintable(QStringLiteral("%1 in %2 (%3) has no accessible name")
                                    .arg(QString::fromLatin1(w->metaObject()->className()), window->objectName(),
                                         w->objectName())));
        }
        QSet<QWidget *> reached;
        QWidget *start = all.first();
        start->setFocus(Qt::TabFocusReason);
        QWidget *current = start;
        for (int i = 0; i < 4 * all.size() && reached.size() < all.size(); ++i) {
            reached.insert(current);
            current = current->nextInFocusChain();
            while (current && !all.contains(current))
                current = current->nextInFocusChain();
            if (!current)
                break;
        }
        for (QWidget *w : all) {
            if (w->isEnabled())
                QVERIFY2(reached.contains(w), qPrintable(QStringLiteral("Tab never reaches %1 (%2) in %3")
                                                             .arg(QString::fromLatin1(w->metaObject()->className()),
                                                                  w->objectName(), window->objectName())));
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        Ui::installTranslations();
    }
    void init()
    {
        f = std::make_unique<GuiFixture>(m_bus.address());
        f->registerVault(1, "keys");
        f->registerVault(2, "docs");
        f->useKeyFile(1);
        f->model->setMedia({f->drive()});
    }
    void cleanup() { f.reset(); }

    void everyWindowHasNamesAndTabOrder()
    {
        Ui::PlugFlow plug(f->model.get(), f->controller.get(), nullptr);
        Ui::MainWindow main(f->model.get(), f->controller.get(), &plug, nullptr);
        checkWindow(&main);
        Ui::UnlockDialog unlock(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        unlock.setRememberOffered(true, false);
        checkWindow(&unlock);
        Ui::ProgressWindow progress(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        checkWindow(&progress);
        Ui::PlugPrompt prompt(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        prompt.setAttribute(Qt::WA_DeleteOnClose, false);
        checkWindow(&prompt);
        Ui::SettingsDialog settings(f->registry.get(), QStringLiteral("none here"));
        checkWindow(&settings);
        Media::FoundVault found;
        found.path = "work.coffer";
        found.luksUuid = fakeVaultUuid(7);
        Ui::AddVaultDialog add(f->registry.get(), {{f->drive(), found}});
        add.addFolder(QStringLiteral("/tmp"));
        checkWindow(&add);
    }

    void vaultListByKeyboard()
    {
        Ui::PlugFlow plug(f->model.get(), f->controller.get(), nullptr);
        Ui::MainWindow main(f->model.get(), f->controller.get(), &plug, nullptr);
        main.show();
        QVERIFY(QTest::qWaitForWindowExposed(&main));
        main.view()->setFocus();
        QCOMPARE(main.selectedId(), fakeVaultId(2)); // sorted by name: docs, keys
        QTest::keyClick(main.view(), Qt::Key_Down);
        QCOMPARE(main.selectedId(), fakeVaultId(1));
        // Enter on a locked vault unlocks it (its key file: no dialog).
        QTest::keyClick(main.view(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(f->model->row(fakeVaultId(1))->isOpen(), waitMs);
        // Ctrl+B backs the selected vault up; Ctrl+L locks it.
        QTest::keyClick(&main, Qt::Key_B, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(f->fake->calls.contains(QStringLiteral("Sync")), waitMs);
        f->fake->jobs.last()->finish(JobOutcome::Ok);
        QTRY_VERIFY_WITH_TIMEOUT(!f->model->row(fakeVaultId(1))->isSyncing(), waitMs);
        // The backup's window took the focus; Esc closes it and the main window has it back.
        Ui::ProgressWindow *progress = f->controller->progressWindow(fakeVaultId(1));
        QVERIFY(progress && progress->isActiveWindow());
        QTest::keyClick(progress, Qt::Key_Escape);
        QVERIFY(!progress->isVisible());
        main.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&main));
        QTest::keyClick(&main, Qt::Key_L, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(!f->model->row(fakeVaultId(1))->isOpen(), waitMs);
        QTRY_COMPARE_WITH_TIMEOUT(main.bannerText(), QStringLiteral("“keys” is locked. Safe to unplug MY STICK."), waitMs);
    }

    void menusOpenWithMnemonics()
    {
        Ui::PlugFlow plug(f->model.get(), f->controller.get(), nullptr);
        Ui::MainWindow main(f->model.get(), f->controller.get(), &plug, nullptr);
        main.show();
        QVERIFY(QTest::qWaitForWindowExposed(&main));
        QStringList titles;
        for (QAction *a : main.menuBar()->actions())
            titles << a->text();
        QCOMPARE(titles, (QStringList{QStringLiteral("&Coffer"), QStringLiteral("&Vault")}));
        for (QAction *a : main.menuBar()->actions()) {
            for (QAction *item : a->menu()->actions()) {
                if (!item->isSeparator())
                    QVERIFY2(item->text().contains(QLatin1Char('&')), qPrintable(item->text()));
            }
        }
    }

    void plugPromptAnswersEnterAndEscape()
    {
        {
            Ui::PlugPrompt prompt(QStringLiteral("keys"), QStringLiteral("MY STICK"));
            prompt.setAttribute(Qt::WA_DeleteOnClose, false);
            QSignalSpy answered(&prompt, &Ui::PlugPrompt::answered);
            prompt.show();
            QVERIFY(QTest::qWaitForWindowExposed(&prompt));
            QTest::keyClick(&prompt, Qt::Key_Return);
            QCOMPARE(answered.count(), 1);
            QCOMPARE(answered.at(0).at(0).value<Ui::PlugAnswer>(), Ui::PlugAnswer::BackUpNow);
        }
        Ui::PlugPrompt prompt(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        prompt.setAttribute(Qt::WA_DeleteOnClose, false);
        QSignalSpy answered(&prompt, &Ui::PlugPrompt::answered);
        prompt.show();
        QVERIFY(QTest::qWaitForWindowExposed(&prompt));
        QTest::keyClick(&prompt, Qt::Key_Escape);
        QCOMPARE(answered.count(), 1);
        QCOMPARE(answered.at(0).at(0).value<Ui::PlugAnswer>(), Ui::PlugAnswer::NotNow);
    }

    void trayMenuHasMnemonics()
    {
        Ui::TrayIcon tray(f->model.get(), f->controller.get());
        QMenu *menu = tray.menu();
        QStringList entries;
        for (QAction *a : menu->actions()) {
            if (a->isSeparator())
                continue;
            entries << a->text();
            if (a->menu()) {
                for (QAction *item : a->menu()->actions())
                    QVERIFY2(item->text().contains(QLatin1Char('&')), qPrintable(item->text()));
            }
        }
        QCOMPARE(entries, (QStringList{QStringLiteral("docs"), QStringLiteral("keys"), QStringLiteral("Lock &all"),
                                       QStringLiteral("Open &Coffer"), QStringLiteral("&Settings…"), QStringLiteral("&Quit")}));
        QCOMPARE(tray.icon()->toolTip(),
                 QStringLiteral("Coffer\ndocs: Locked, never backed up\nkeys: Locked, never backed up"));
    }
};

QTEST_MAIN(TestGuiKeyboard)
#include "test_gui_keyboard.moc"
