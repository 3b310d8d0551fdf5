#pragma once

// The tray icon (QSystemTrayIcon: StatusNotifierItem when the session has a watcher, XEmbed
// otherwise): an SVG icon per state (all locked, open, backing up, failed, a backup overdue),
// one tooltip line per vault, and the menu: per vault Unlock…, Back up now, Open folder, Lock;
// then Lock all, Open Coffer, Settings…, Quit. The menu is rebuilt only when what it shows
// changes. Without a tray host nothing here shows; the window and notifications still work.

#include <QObject>

class QMenu;
class QSystemTrayIcon;

namespace Coffer::Ui {

class VaultController;
class VaultModel;

class TrayIcon : public QObject
{
    Q_OBJECT

public:
    TrayIcon(VaultModel *model, VaultController *controller, QObject *parent = nullptr);
    ~TrayIcon() override;

    QMenu *menu() const { return m_menu; }
    QSystemTrayIcon *icon() const { return m_icon; }
    static bool isHostAvailable();
    // Shows the icon (when a tray host is there).
    void show();

Q_SIGNALS:
    void openWindowRequested();
    void toggleWindowRequested();
    void settingsRequested();
    void quitRequested();

private:
    void update();
    void rebuildMenu();
    QString menuSignature() const;

    VaultModel *m_model;
    VaultController *m_controller;
    QMenu *m_menu;
    QSystemTrayIcon *m_icon;
    QString m_signature;
};

} // namespace Coffer::Ui
