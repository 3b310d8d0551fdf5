// Screenshots of every window and state of the desktop app under a real X server (Xvfb), saved
// as artifacts in <build>/screenshots/ for a person to look at: the main window (vaults in each
// state, and empty), the unlock dialog (plain, wrong passphrase with Caps Lock on, key file),
// the progress window in each phase and outcome, the plug prompt, the add flow, the settings,
// the busy-lock dialog, the tray menu and the tray's icons. Each shot must have rendered
// something (not one flat colour).

#include "guifixture.h"
#include "xvfbmain.h"

#include "addvaultdialog.h"
#include "busylockdialog.h"
#include "dialogentries.h"
#include "icons.h"
#include "mainwindow.h"
#include "plugflow.h"
#include "plugprompt.h"
#include "progresswindow.h"
#include "settingsdialog.h"
#include "trayicon.h"
#include "unlockdialog.h"

#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QScreen>
#include <QSet>
#include <QTreeView>
#include <QTreeWidget>

using namespace Coffer;
using namespace Coffer::Test;

namespace {

const QString ShotDir = QStringLiteral(COFFER_BINARY_DIR "/screenshots");

int colours(const QImage &image)
{
    QSet<QRgb> seen;
    for (int y = 0; y < image.height(); y += 3) {
        for (int x = 0; x < image.width(); x += 3)
            seen.insert(image.pixel(x, y));
    }
    return int(seen.size());
}


} // namespace

class TestGuiScreenshots : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<GuiFixture> f;

    // The window as the X server shows it, saved as <name>.png.
    void shoot(QWidget *window, const QString &name)
    {
        window->move(16, 16);
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window));
        window->raise();
        QTest::qWait(200); // the first paint after exposure
        const QRect r = window->frameGeometry();
        const QImage image = window->screen()->grabWindow(0, r.x(), r.y(), r.width(), r.height()).toImage();
        QVERIFY2(colours(image) > 8, qPrintable(name + QStringLiteral(": nothing rendered")));
        QVERIFY(image.save(ShotDir + QLatin1Char('/') + name + QStringLiteral(".png")));
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        Ui::installTranslations();
        QDir().mkpath(ShotDir);
        f = std::make_unique<GuiFixture>(m_bus.address());
        qputenv("HOME", QFile::encodeName(f->path(QStringLiteral("home"))));
    }
    void cleanupTestCase() { f.reset(); }

    void mainWindow()
    {
        Ui::PlugFlow plug(f->model.get(), f->controller.get(), nullptr);
        Ui::MainWindow window(f->model.get(), f->controller.get(), &plug, nullptr);
        window.resize(900, 320);
        shoot(&window, QStringLiteral("main-window-empty"));

        f->registerVault(1, "keys");
        f->registerVault(2, "documents");
        f->registerVault(3, "photos");
        Config::VaultEntry photos = *f->registry->vault(fakeVaultUuid(3));
        photos.medium = {"9999-0000", "", "BLUE STICK"};
        f->registry->putVault(photos);
        f->registry->recordSync(fakeVaultUuid(2), {QDateTime::currentDateTimeUtc().addSecs(-2 * 3600), JobOutcome::Ok, 4096, 3});
        f->registry->recordSync(fakeVaultUuid(3), {QDateTime::currentDateTimeUtc().addDays(-12), JobOutcome::Ok, 1, 1});
        f->model->setMedia({f->drive()});
        QVERIFY(f->openInHelper(f->vaultFile("keys")));
        window.select(fakeVaultId(1));
        window.say(QStringLiteral("“documents” is locked. Safe to unplug MY STICK."));
        shoot(&window, QStringLiteral("main-window"));
    }

    void unlockDialog()
    {
        Ui::UnlockDialog plain(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        plain.setRememberOffered(true, false);
        shoot(&plain, QStringLiteral("unlock-dialog"));

        Ui::UnlockDialog wrong(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        wrong.setRememberOffered(true, true);
        auto *field = wrong.findChild<QLineEdit *>(QStringLiteral("passphrase"));
        QTest::keyClicks(field, QStringLiteral("PASS")); // typed with Caps Lock on
        wrong.showError(QStringLiteral("Wrong passphrase. Try again."));
        QTest::keyClicks(field, QStringLiteral("SE"));
        QVERIFY(wrong.isCapsLockWarningShown());
        shoot(&wrong, QStringLiteral("unlock-dialog-wrong-passphrase"));

        Ui::UnlockDialog keyFile(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        keyFile.setKeyFile(QStringLiteral("/home/alice/.config/coffer/keys.key"));
        keyFile.setBusy(true);
        shoot(&keyFile, QStringLiteral("unlock-dialog-key-file-busy"));
    }

    void progressWindow()
    {
        const QString item = QStringLiteral(".password-store/work/servers/a-very-long-directory-name/database.gpg");
        Ui::ProgressWindow w(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        w.setProgress(jobProgress(Sync::Phase::Scan, 0, 1830, 0, 0, 0, QStringLiteral(".ssh/known_hosts")));
        shoot(&w, QStringLiteral("progress-1-scanning"));
        w.setProgress(jobProgress(Sync::Phase::Copy, 0.46, 41, 112, 58 << 20, 131 << 20, item));
        shoot(&w, QStringLiteral("progress-2-copying"));
        w.setProgress(jobProgress(Sync::Phase::Delete, 0.9, 3, 7, 131 << 20, 131 << 20, QStringLiteral(".gnupg/old.key")));
        shoot(&w, QStringLiteral("progress-3-deleting"));
        w.setProgress(jobProgress(Sync::Phase::Flush, 0.95, 112, 112, 131 << 20, 131 << 20, {}));
        shoot(&w, QStringLiteral("progress-4-flushing"));
        Client::JobResult ok;
        ok.sync = Sync::Result{};
        ok.sync->filesCopied = 112;
        ok.sync->bytesCopied = 131 << 20;
        ok.sync->filesDeleted = 7;
        ok.sync->filesScanned = 1830;
        w.setFinished(JobOutcome::Ok, std::nullopt, ok);
        w.setLocking();
        shoot(&w, QStringLiteral("progress-5-locking"));
        w.setLocked({});
        shoot(&w, QStringLiteral("progress-6-safe-to-unplug"));

        Ui::ProgressWindow partial(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        Client::JobResult gaps;
        gaps.sync = Sync::Result{};
        gaps.sync->outcome = Sync::Outcome::Partial;
        gaps.sync->warnings = {{".ssh/id_rsa", "Permission denied", 13}, {".gnupg/S.gpg-agent", "Not a regular file", 0}};
        gaps.sync->filesCopied = 40;
        partial.setFinished(JobOutcome::Partial, std::nullopt, gaps);
        partial.setLocked({QStringLiteral("documents")});
        shoot(&partial, QStringLiteral("progress-7-partial"));

        Ui::ProgressWindow failed(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        failed.setFinished(JobOutcome::Failed,
                           Error(ErrorCode::NoSpace, "The vault is full: 12 MiB more are needed. Grow it, or back up fewer folders."), {});
        failed.setStaysOpen();
        shoot(&failed, QStringLiteral("progress-8-failed"));

        Ui::ProgressWindow cancelled(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        cancelled.setFinished(JobOutcome::Cancelled, Error(ErrorCode::Cancelled, "Cancelled."), {});
        cancelled.setLockFailed(QStringLiteral("“keys” is in use by vim (pid 4242)."));
        shoot(&cancelled, QStringLiteral("progress-9-cancelled-lock-failed"));
    }

    void plugPrompt()
    {
        Ui::PlugPrompt prompt(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        prompt.setAttribute(Qt::WA_DeleteOnClose, false);
        shoot(&prompt, QStringLiteral("plug-prompt"));
    }

    void addVault()
    {
        Media::FoundVault found;
        found.path = "backups/work.coffer";
        found.name = "work";
        found.luksUuid = fakeVaultUuid(7);
        found.coffer = true;
        Ui::AddVaultDialog dialog(f->registry.get(), {{f->drive(), found}});
        dialog.addFolder(QStringLiteral("/home/alice/.ssh"));
        dialog.addFolder(QStringLiteral("/home/alice/.gnupg"));
        dialog.addFolder(QStringLiteral("/home/alice/Documents/taxes"), false);
        shoot(&dialog, QStringLiteral("add-vault"));
    }

    void settings()
    {
        Ui::SettingsDialog dialog(f->registry.get(), QStringLiteral("No idle monitor: no Mutter on the session bus, no "
                                                                    "Wayland compositor, no X server."));
        shoot(&dialog, QStringLiteral("settings"));
    }

    void busyLock()
    {
        Ui::DialogContext context{f->model.get(), f->controller.get()};
        Ui::Dialogs::openBusyLock(context, fakeVaultId(1),
                                  QStringLiteral("The vault is in use by bash (pid 3120, working directory), vim (pid "
                                                 "4242, open file). Close these programs and try again, or lock it "
                                                 "by force"),
                                  nullptr);
        Ui::BusyLockDialog *dialog = nullptr;
        for (QWidget *w : QApplication::topLevelWidgets()) {
            if (auto *d = qobject_cast<Ui::BusyLockDialog *>(w))
                dialog = d;
        }
        QVERIFY(dialog);
        QCOMPARE(dialog->holders()->topLevelItemCount(), 2);
        shoot(dialog, QStringLiteral("busy-lock"));
        dialog->close();
    }

    void trayMenu()
    {
        Ui::TrayIcon tray(f->model.get(), f->controller.get());
        QMenu *menu = tray.menu();
        menu->popup(QPoint(16, 16));
        QVERIFY(QTest::qWaitForWindowExposed(menu));
        QMenu *first = menu->actions().first()->menu();
        QVERIFY(first);
        menu->setActiveAction(menu->actions().first());
        first->popup(QPoint(16 + menu->width(), 16));
        QVERIFY(QTest::qWaitForWindowExposed(first));
        QTest::qWait(200);
        const QRect r = menu->geometry().united(first->geometry());
        const QImage image = menu->screen()->grabWindow(0, r.x(), r.y(), r.width(), r.height()).toImage();
        QVERIFY(colours(image) > 8);
        QVERIFY(image.save(ShotDir + QStringLiteral("/tray-menu.png")));
        first->hide();
        menu->hide();
    }

    void trayIcons()
    {
        // Every state's icon at the sizes a tray uses, and the application icon.
        const QList<Ui::TrayState> states{Ui::TrayState::AllLocked, Ui::TrayState::Open, Ui::TrayState::Syncing,
                                          Ui::TrayState::Error, Ui::TrayState::Stale};
        const QList<int> sizes{16, 22, 32, 48, 64};
        QImage sheet(20 + 80 * sizes.size(), 20 + 80 * (states.size() + 1), QImage::Format_ARGB32);
        sheet.fill(QColor(0xf0, 0xf0, 0xf0));
        QPainter painter(&sheet);
        for (int row = 0; row <= int(states.size()); ++row) {
            const QIcon icon = row < states.size() ? Ui::Icons::tray(states[row]) : Ui::Icons::application();
            QVERIFY(!icon.isNull());
            for (int col = 0; col < sizes.size(); ++col)
                painter.drawPixmap(20 + 80 * col, 20 + 80 * row, icon.pixmap(sizes[col]));
        }
        painter.end();
        QVERIFY(sheet.save(ShotDir + QStringLiteral("/tray-icons.png")));
    }
};

COFFER_XVFB_MAIN(TestGuiScreenshots)
#include "test_gui_screenshots.moc"
