// The app put together (ui/shell.h) over a private bus standing in for both the system and the
// session bus (the fake helper on it, L0): started for the tray (--minimized, as the autostart
// entry does) it makes no main window until one is asked for, yet what happened meanwhile is said
// in the window when it comes, and a busy lock or a drive to add brings the window at once. The
// real app starts minimized from its autostart entry in the VM (deb-install, gui-plug, demo).

#include "fakehelper.h"
#include "xvfbmain.h"

#include "busylockdialog.h"
#include "mainwindow.h"
#include "shell.h"
#include "vaultcontroller.h"

#include <QApplication>
#include <QTemporaryDir>
#include <QtTest>

using namespace Coffer;
using namespace Coffer::Test;

class TestGuiShell : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    QTemporaryDir m_home;
    std::unique_ptr<FakeHelper> m_fake;

    std::unique_ptr<Ui::Shell> shell(bool minimized)
    {
        return std::make_unique<Ui::Shell>(m_bus.connect(), m_bus.connect(), Ui::Shell::Options{minimized});
    }

    static int mainWindows()
    {
        int n = 0;
        for (QWidget *w : QApplication::topLevelWidgets())
            n += qobject_cast<Ui::MainWindow *>(w) != nullptr;
        return n;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_home.filePath(QStringLiteral("config"))));
        qputenv("XDG_DATA_HOME", QFile::encodeName(m_home.filePath(QStringLiteral("data"))));
        m_fake = std::make_unique<FakeHelper>(m_bus.address());
    }

    void cleanupTestCase() { m_fake.reset(); }

    void minimizedMakesTheWindowOnlyWhenAsked()
    {
        auto app = shell(true);
        QTest::qWait(50);
        QCOMPARE(mainWindows(), 0);
        app->activate(); // what a second start does
        QCOMPARE(mainWindows(), 1);
        QVERIFY(QTest::qWaitForWindowExposed(app->window()));
        app->activate();
        QCOMPARE(mainWindows(), 1);
        app.reset();
        QCOMPARE(mainWindows(), 0);
    }

    void notMinimizedShowsTheWindow()
    {
        auto app = shell(false);
        QCOMPARE(mainWindows(), 1);
        QVERIFY(QTest::qWaitForWindowExposed(app->window()));
    }

    void whatHappenedBeforeTheWindowIsSaidInIt()
    {
        auto app = shell(true);
        emit app->controller()->safeToUnplug(QStringLiteral("some-vault"), QStringLiteral("MY STICK"));
        QCOMPARE(mainWindows(), 0);
        app->activate();
        QCOMPARE(app->window()->bannerText(), QStringLiteral("“some-vault” is locked. Safe to unplug MY STICK."));
    }

    void aBusyLockBringsTheWindowWithItsDialog()
    {
        auto app = shell(true);
        emit app->controller()->lockBusy(QStringLiteral("some-vault"),
                                         QStringLiteral("The vault is in use by vim (pid 900, open file)."));
        QCOMPARE(mainWindows(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(app->window()->findChild<Ui::BusyLockDialog *>(), 5000);
        QCOMPARE(app->window()->findChildren<Ui::BusyLockDialog *>().size(), 1);
        // Once the window exists it hears the next one itself: still one dialog, raised.
        emit app->controller()->lockBusy(QStringLiteral("some-vault"),
                                         QStringLiteral("The vault is in use by vim (pid 900, open file)."));
        QCOMPARE(app->window()->findChildren<Ui::BusyLockDialog *>().size(), 1);
    }
};

COFFER_XVFB_MAIN(TestGuiShell)
#include "test_gui_shell.moc"
