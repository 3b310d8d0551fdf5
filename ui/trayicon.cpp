#include "trayicon.h"

#include "icons.h"
#include "vaultcontroller.h"
#include "vaultmodel.h"

#include <QMenu>
#include <QSystemTrayIcon>

namespace Coffer::Ui {

TrayIcon::TrayIcon(VaultModel *model, VaultController *controller, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_controller(controller)
    , m_menu(new QMenu)
    , m_icon(new QSystemTrayIcon(this))
{
    m_menu->setObjectName(QStringLiteral("trayMenu"));
    m_menu->setAccessibleName(tr("Coffer"));
    m_icon->setContextMenu(m_menu);
    connect(m_icon, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
            Q_EMIT toggleWindowRequested();
    });
    connect(model, &VaultModel::vaultChanged, this, &TrayIcon::update);
    connect(model, &VaultModel::modelReset, this, &TrayIcon::update);
    connect(model, &VaultModel::trayStateChanged, this, &TrayIcon::update);
    update();
}

TrayIcon::~TrayIcon()
{
    delete m_menu;
}

bool TrayIcon::isHostAvailable()
{
    return QSystemTrayIcon::isSystemTrayAvailable();
}

void TrayIcon::show()
{
    m_icon->show();
}

void TrayIcon::update()
{
    const TrayState state = m_model->trayState();
    const QString name = Icons::trayName(state);
    if (m_icon->property("iconName").toString() != name) {
        m_icon->setIcon(Icons::tray(state));
        m_icon->setProperty("iconName", name);
    }
    QStringList lines{tr("Coffer")};
    const QStringList summary = m_model->summary();
    lines << (summary.isEmpty() ? QStringList{tr("No vaults yet")} : summary);
    const QString tooltip = lines.join(QLatin1Char('\n'));
    if (m_icon->toolTip() != tooltip)
        m_icon->setToolTip(tooltip);
    const QString signature = menuSignature();
    if (signature != m_signature) {
        m_signature = signature;
        rebuildMenu();
    }
}

QString TrayIcon::menuSignature() const
{
    QStringList parts;
    for (const VaultRow &r : m_model->rows()) {
        parts << r.id << r.name() << QString::number(int(r.state())) << QString::number(r.isOpen())
              << QString::number(r.file().has_value()) << QString::number(r.isRegistered());
    }
    return parts.join(QLatin1Char('\x1f'));
}

void TrayIcon::rebuildMenu()
{
    m_menu->clear();
    bool anyOpen = false;
    for (const VaultRow &r : m_model->rows()) {
        const QString id = r.id;
        QString title = r.name();
        switch (r.state()) {
        case VaultState::Open: title = tr("%1 (open)").arg(title); break;
        case VaultState::Syncing: title = tr("%1 (backing up)").arg(title); break;
        case VaultState::Error: title = tr("%1 (failed)").arg(title); break;
        case VaultState::Locked: break;
        }
        // An & in a vault's name is not a mnemonic.
        QMenu *sub = m_menu->addMenu(QString(title).replace(QLatin1Char('&'), QLatin1String("&&")));
        sub->setAccessibleName(title);
        QAction *unlock = sub->addAction(tr("&Unlock…"), this, [this, id] { m_controller->unlock(id); });
        unlock->setEnabled(!r.isOpen() && r.file().has_value() && r.isRegistered());
        QAction *backUp = sub->addAction(tr("&Back up now"), this, [this, id] { m_controller->backUp(id); });
        backUp->setEnabled(!m_controller->whyNoBackup(id).has_value());
        QAction *open = sub->addAction(tr("&Open folder"), this, [this, id] { m_controller->openFolder(id); });
        open->setEnabled(r.isOpen());
        QAction *lock = sub->addAction(tr("&Lock"), this, [this, id] { m_controller->lock(id); });
        lock->setEnabled(r.isOpen() && !r.isSyncing());
        anyOpen = anyOpen || r.isOpen();
    }
    if (!m_model->rows().empty())
        m_menu->addSeparator();
    QAction *lockAll = m_menu->addAction(tr("Lock &all"), m_controller, &VaultController::lockAll);
    lockAll->setEnabled(anyOpen);
    m_menu->addAction(tr("Open &Coffer"), this, &TrayIcon::openWindowRequested);
    m_menu->addAction(tr("&Settings…"), this, &TrayIcon::settingsRequested);
    m_menu->addSeparator();
    m_menu->addAction(tr("&Quit"), this, &TrayIcon::quitRequested);
}

} // namespace Coffer::Ui
