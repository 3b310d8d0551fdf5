#include "shell.h"

#include "autolock.h"
#include "client/helperclient.h"
#include "config/registry.h"
#include "desktop/notifications.h"
#include "desktop/passphrasestore.h"
#include "desktop/screenlockmonitor.h"
#include "mainwindow.h"
#include "media/mediamonitor.h"
#include "notice.h"
#include "plugflow.h"
#include "trayicon.h"
#include "vaultcontroller.h"
#include "vaultmodel.h"

namespace Coffer::Ui {

Shell::Shell(const QDBusConnection &systemBus, const QDBusConnection &sessionBus, const Options &options,
             QObject *parent)
    : QObject(parent)
    , m_registry(new Config::Registry(Config::Registry::defaultPath(), this))
    , m_client(new Client::HelperClient(systemBus, this))
    , m_media(new Media::MediaMonitor(this))
    , m_notifications(new Notifications(sessionBus, tr("Coffer"), this))
    , m_store(new PassphraseStore(this))
    , m_screenLock(new ScreenLockMonitor(systemBus, sessionBus, this))
{
    try {
        m_registry->load();
    } catch (const Error &e) {
        m_problems << QString::fromStdString(e.message());
    }
    for (const std::string &problem : m_registry->problems())
        m_problems << QString::fromStdString(problem);
    m_registry->watch();
    connect(m_registry, &Config::Registry::loadFailed, this, [this](const QString &message) {
        m_notice->say(message, true);
    });
    try {
        m_media->start();
    } catch (const Error &e) {
        m_problems << tr("Drives that are plugged in cannot be seen: %1").arg(QString::fromStdString(e.message()));
    }

    m_model = new VaultModel(m_registry, m_client, this);
    m_model->setMedia(m_media->media());
    m_controller = new VaultController(m_model, this);
    m_controller->setPassphraseStore(m_store);
    m_controller->setNotifications(m_notifications);
    m_plugFlow = new PlugFlow(m_model, m_controller, m_notifications, this);
    // The model first: the plug flow reads the drive from it.
    connect(m_media, &Media::MediaMonitor::mediumAdded, m_model, &VaultModel::addMedium);
    connect(m_media, &Media::MediaMonitor::mediumChanged, m_model, &VaultModel::changeMedium);
    connect(m_media, &Media::MediaMonitor::mediumRemoved, m_model, &VaultModel::removeMedium);
    connect(m_media, &Media::MediaMonitor::mediumAdded, m_plugFlow, &PlugFlow::mediumAdded);
    connect(m_media, &Media::MediaMonitor::mediumChanged, m_plugFlow, &PlugFlow::mediumChanged);
    connect(m_media, &Media::MediaMonitor::mediumRemoved, m_plugFlow, &PlugFlow::mediumRemoved);
    m_autoLock = new AutoLock(m_model, m_controller, m_screenLock, AutoLock::sessionIdleMonitors(sessionBus), this);

    m_notice = new Notice(m_model, m_controller, this);
    // The window is made when first needed: until then a tray-only session does without its
    // widgets (about 3.5 MiB of RSS at idle, tests/bench/bench-tray).
    connect(m_controller, &VaultController::lockBusy, this, [this](const QString &id, const QString &message) {
        if (!m_window) // from now on the window hears it itself
            window()->showBusyLock(id, message);
    });
    connect(m_plugFlow, &PlugFlow::addRequested, this, [this](const std::vector<FoundVault> &found) {
        if (!m_window)
            window()->offerToAdd(found);
    });
    m_tray = new TrayIcon(m_model, m_controller, this);
    connect(m_tray, &TrayIcon::quitRequested, this, &Shell::quitRequested);
    connect(m_tray, &TrayIcon::openWindowRequested, this, [this] { window()->showAndRaise(); });
    connect(m_tray, &TrayIcon::toggleWindowRequested, this, [this] { window()->toggle(); });
    connect(m_tray, &TrayIcon::settingsRequested, this, [this] { window()->openSettings(); });

    m_tray->show();
    // With no tray to come back through, the window is the way in: show it unless autostarted.
    if (!m_problems.isEmpty())
        m_notice->say(m_problems.join(QLatin1Char('\n')), true);
    if (!options.minimized)
        window()->showAndRaise();
}

Shell::~Shell()
{
    delete m_window;
}

void Shell::activate()
{
    window()->showAndRaise();
}

MainWindow *Shell::window()
{
    if (m_window)
        return m_window;
    m_window = new MainWindow(m_model, m_controller, m_plugFlow, m_autoLock, m_notice);
    m_window->setMediaMonitor(m_media);
    connect(m_window, &MainWindow::quitRequested, this, &Shell::quitRequested);
    connect(m_window, &MainWindow::hiddenToBackground, this, [this] {
        // Without a tray, say once where Coffer went.
        if (TrayIcon::isHostAvailable() || m_toldAboutBackground || !m_notifications->isServerPresent())
            return;
        m_toldAboutBackground = true;
        Notifications::Notification n;
        n.summary = tr("Coffer keeps running");
        n.body = tr("It offers a backup when you plug in a vault's drive. Start Coffer again to open its window.");
        n.iconName = QStringLiteral("org.coffer.Coffer");
        n.desktopEntry = QStringLiteral("org.coffer.Coffer");
        m_notifications->notify(n);
    });
    return m_window;
}

} // namespace Coffer::Ui
