#pragma once

// Coffer's window: the vaults (drive here or not, locked or open, last backup and how overdue,
// space) with their actions; New Vault…, Add Existing Vault…, Restore…, Keys… (the dialogs
// engineer's, through dialogentries.h); Settings…; a line that says what just happened ("Safe
// to unplug MY STICK", a failure). Closing it hides it: Coffer keeps running for the drives
// that get plugged in, and quits only from the menu.

#include "dialogentries.h"
#include "plugflow.h"

#include <QMainWindow>

class QLabel;
class QPushButton;
class QStackedWidget;
class QTreeView;

namespace Coffer::Ui {

class AutoLock;
class Notice;

class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    // notice: what the line at the top says (the window makes its own when none is given).
    MainWindow(VaultModel *model, VaultController *controller, PlugFlow *plugFlow, AutoLock *autoLock,
               Notice *notice = nullptr, QWidget *parent = nullptr);

    QTreeView *view() const { return m_view; }
    // The vault selected now ("" if none).
    QString selectedId() const;
    void select(const QString &id);
    QString bannerText() const;
    // The drives the create wizard offers (none: only "another folder").
    void setMediaMonitor(Media::MediaMonitor *media) { m_mediaMonitor = media; }

public Q_SLOTS:
    void showAndRaise();
    void toggle();
    void openSettings();
    void addExistingVault();
    // The add flow for vaults found on a drive.
    void offerToAdd(const std::vector<Coffer::Ui::FoundVault> &found);
    // The programs holding a vault that would not lock, with Force Lock.
    void showBusyLock(const QString &id, const QString &message);
    // aboutLocked: the id of a vault the text says is locked; its unlock takes the text away.
    void say(const QString &text, bool problem = false, const QString &aboutLocked = {});

Q_SIGNALS:
    void quitRequested();
    // The window was closed: Coffer goes on in the background.
    void hiddenToBackground();

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void updateActions();
    void showVaultMenu(const QPoint &where);
    void activate(const QModelIndex &index);
    DialogContext context() const;
    void showNotice();

    VaultModel *m_model;
    VaultController *m_controller;
    PlugFlow *m_plugFlow;
    AutoLock *m_autoLock;
    Media::MediaMonitor *m_mediaMonitor = nullptr;
    Notice *m_notice;
    QLabel *m_banner;
    QStackedWidget *m_stack;
    QTreeView *m_view;
    QAction *m_unlock;
    QAction *m_backUp;
    QAction *m_openFolder;
    QAction *m_lock;
    QAction *m_restore;
    QAction *m_keys;
    QAction *m_lockAll;
};

} // namespace Coffer::Ui
