#pragma once

// The desktop app put together: the registry, the helper's client, the drives (MediaMonitor,
// run here as the user), the shared model, the vault actions, the plug flow, auto-lock,
// notifications, the keyring, the tray and the main window. app/coffer/main.cpp makes one.

#include <QDBusConnection>
#include <QObject>

namespace Coffer {
class Notifications;
class PassphraseStore;
class ScreenLockMonitor;
namespace Client {
class HelperClient;
}
namespace Config {
class Registry;
}
namespace Media {
class MediaMonitor;
}
}

namespace Coffer::Ui {

class AutoLock;
class MainWindow;
class Notice;
class PlugFlow;
class TrayIcon;
class VaultController;
class VaultModel;

class Shell : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        bool minimized = false; // start in the tray only (autostart)
    };
    // systemBus: the helper's and logind's; sessionBus: notifications, screensavers, idle.
    Shell(const QDBusConnection &systemBus, const QDBusConnection &sessionBus, const Options &options,
          QObject *parent = nullptr);
    ~Shell() override;

    VaultModel *model() const { return m_model; }
    VaultController *controller() const { return m_controller; }
    // The main window, made on first use.
    MainWindow *window();
    TrayIcon *tray() const { return m_tray; }

public Q_SLOTS:
    void activate();

Q_SIGNALS:
    void quitRequested();

private:
    Config::Registry *m_registry;
    Client::HelperClient *m_client;
    Media::MediaMonitor *m_media;
    Notifications *m_notifications;
    PassphraseStore *m_store;
    ScreenLockMonitor *m_screenLock;
    VaultModel *m_model;
    VaultController *m_controller;
    PlugFlow *m_plugFlow;
    AutoLock *m_autoLock;
    Notice *m_notice;
    MainWindow *m_window = nullptr;
    TrayIcon *m_tray;
    QStringList m_problems; // what went wrong at startup
    bool m_toldAboutBackground = false;
};

} // namespace Coffer::Ui
