#include "mainwindow.h"

#include "addvaultdialog.h"
#include "autolock.h"
#include "icons.h"
#include "notice.h"
#include "settingsdialog.h"
#include "vaultcontroller.h"
#include "vaultmodel.h"

#include <QAction>
#include <QCloseEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QStackedWidget>
#include <QTreeView>
#include <QVBoxLayout>

namespace Coffer::Ui {

MainWindow::MainWindow(VaultModel *model, VaultController *controller, PlugFlow *plugFlow, AutoLock *autoLock,
                       Notice *notice, QWidget *parent)
    : QMainWindow(parent)
    , m_model(model)
    , m_controller(controller)
    , m_plugFlow(plugFlow)
    , m_autoLock(autoLock)
    , m_notice(notice ? notice : new Notice(model, controller, this))
    , m_banner(new QLabel(this))
    , m_stack(new QStackedWidget(this))
    , m_view(new QTreeView(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Coffer"));
    setWindowIcon(Icons::application());

    auto selected = [this](void (VaultController::*action)(const QString &)) {
        return [this, action] {
            if (const QString id = selectedId(); !id.isEmpty())
                (m_controller->*action)(id);
        };
    };
    m_unlock = new QAction(tr("&Unlock…"), this);
    connect(m_unlock, &QAction::triggered, this, selected(&VaultController::unlock));
    m_backUp = new QAction(tr("&Back Up Now"), this);
    m_backUp->setShortcut(tr("Ctrl+B"));
    connect(m_backUp, &QAction::triggered, this, selected(&VaultController::backUp));
    m_openFolder = new QAction(tr("&Open Folder"), this);
    m_openFolder->setShortcut(tr("Ctrl+O"));
    connect(m_openFolder, &QAction::triggered, this, selected(&VaultController::openFolder));
    m_lock = new QAction(tr("&Lock"), this);
    m_lock->setShortcut(tr("Ctrl+L"));
    connect(m_lock, &QAction::triggered, this, selected(&VaultController::lock));
    m_restore = new QAction(tr("&Restore…"), this);
    m_restore->setShortcut(tr("Ctrl+R"));
    connect(m_restore, &QAction::triggered, this, [this] { Dialogs::openRestoreBrowser(context(), selectedId(), this); });
    m_keys = new QAction(tr("&Keys…"), this);
    m_keys->setShortcut(tr("Ctrl+K"));
    connect(m_keys, &QAction::triggered, this, [this] { Dialogs::openKeyManager(context(), selectedId(), this); });
    m_lockAll = new QAction(tr("Lock &All"), this);
    m_lockAll->setShortcut(tr("Ctrl+Shift+L"));
    connect(m_lockAll, &QAction::triggered, controller, &VaultController::lockAll);
    auto *newVault = new QAction(tr("&New Vault…"), this);
    newVault->setShortcut(QKeySequence::New);
    connect(newVault, &QAction::triggered, this, [this] { Dialogs::openNewVaultWizard(context(), this); });
    auto *addVault = new QAction(tr("A&dd Existing Vault…"), this);
    connect(addVault, &QAction::triggered, this, &MainWindow::addExistingVault);
    auto *settings = new QAction(tr("&Settings…"), this);
    settings->setShortcut(QKeySequence::Preferences);
    connect(settings, &QAction::triggered, this, &MainWindow::openSettings);
    auto *close = new QAction(tr("&Close Window"), this);
    close->setShortcut(QKeySequence::Close);
    connect(close, &QAction::triggered, this, &QWidget::close);
    auto *quit = new QAction(tr("&Quit"), this);
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &MainWindow::quitRequested);

    QMenu *coffer = menuBar()->addMenu(tr("&Coffer"));
    coffer->addAction(newVault);
    coffer->addAction(addVault);
    coffer->addSeparator();
    coffer->addAction(settings);
    coffer->addSeparator();
    coffer->addAction(close);
    coffer->addAction(quit);
    QMenu *vault = menuBar()->addMenu(tr("&Vault"));
    for (QAction *a : {m_unlock, m_backUp, m_openFolder, m_lock})
        vault->addAction(a);
    vault->addSeparator();
    vault->addAction(m_restore);
    vault->addAction(m_keys);
    vault->addSeparator();
    vault->addAction(m_lockAll);

    m_banner->setObjectName(QStringLiteral("banner"));
    m_banner->setTextFormat(Qt::PlainText);
    m_banner->setWordWrap(true);
    m_banner->setAccessibleName(tr("What happened"));
    m_banner->setMargin(8);
    m_banner->hide();

    m_view->setObjectName(QStringLiteral("vaults"));
    m_view->setAccessibleName(tr("Vaults"));
    m_view->setModel(model);
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setAllColumnsShowFocus(true);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->header()->setStretchLastSection(true);
    // ResizeToContents only once shown (showEvent): a hidden window that measures its columns
    // loads the fonts, a megabyte and more of idle memory for an app that lives in the tray.
    connect(m_view, &QTreeView::customContextMenuRequested, this, &MainWindow::showVaultMenu);
    connect(m_view, &QTreeView::activated, this, &MainWindow::activate);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &MainWindow::updateActions);

    auto *empty = new QLabel(tr("No vaults yet.\n\nCreate one with New Vault…, or plug in a drive that has one: "
                                "Coffer offers to add it."),
                             this);
    empty->setObjectName(QStringLiteral("empty"));
    empty->setAlignment(Qt::AlignCenter);
    empty->setWordWrap(true);
    empty->setAccessibleName(tr("No vaults"));
    m_stack->addWidget(m_view);
    m_stack->addWidget(empty);

    auto *buttons = new QHBoxLayout;
    const struct {
        QAction *action;
        QString label;
    } buttonActions[] = {
        {m_unlock, tr("&Unlock…")}, {m_backUp, tr("&Back Up Now")}, {m_openFolder, tr("&Open Folder")},
        {m_lock, tr("&Lock")},      {m_restore, tr("&Restore…")},   {m_keys, tr("&Keys…")},
    };
    for (const auto &b : buttonActions) {
        auto *button = new QPushButton(b.label, this);
        button->setAccessibleName(QString(b.label).remove(QLatin1Char('&')).remove(QStringLiteral("…")));
        connect(button, &QPushButton::clicked, b.action, &QAction::trigger);
        connect(b.action, &QAction::changed, button, [button, a = b.action] { button->setEnabled(a->isEnabled()); });
        buttons->addWidget(button);
    }
    buttons->addStretch();
    auto *newButton = new QPushButton(tr("&New Vault…"), this);
    newButton->setAccessibleName(tr("New vault"));
    connect(newButton, &QPushButton::clicked, newVault, &QAction::trigger);
    buttons->addWidget(newButton);

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->addWidget(m_banner);
    layout->addWidget(m_stack, 1);
    layout->addLayout(buttons);
    setCentralWidget(central);
    resize(820, 380);

    connect(model, &VaultModel::modelReset, this, &MainWindow::updateActions);
    connect(model, &VaultModel::dataChanged, this, &MainWindow::updateActions);
    connect(m_notice, &Notice::changed, this, &MainWindow::showNotice);
    connect(controller, &VaultController::lockBusy, this, &MainWindow::showBusyLock);
    connect(plugFlow, &PlugFlow::addRequested, this, &MainWindow::offerToAdd);
    showNotice();
    updateActions();
}

QString MainWindow::selectedId() const
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    return current.isValid() ? m_model->idAt(current.row()) : QString();
}

void MainWindow::select(const QString &id)
{
    const int row = m_model->rowOf(id);
    if (row >= 0)
        m_view->selectionModel()->setCurrentIndex(m_model->index(row, 0),
                                                  QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

QString MainWindow::bannerText() const
{
    return m_banner->isHidden() ? QString() : m_banner->text();
}

void MainWindow::showAndRaise()
{
    m_model->refresh(); // "2 hours ago" is recomputed when someone looks
    show();
    setWindowState(windowState() & ~Qt::WindowMinimized);
    raise();
    activateWindow();
}

void MainWindow::toggle()
{
    if (isVisible() && isActiveWindow())
        hide();
    else
        showAndRaise();
}

void MainWindow::openSettings()
{
    auto *dialog = findChild<SettingsDialog *>();
    if (!dialog) {
        dialog = new SettingsDialog(m_model->registry(), m_autoLock ? m_autoLock->idleUnavailable() : QString(), this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
    }
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

void MainWindow::addExistingVault()
{
    say(tr("Looking for vaults on the drives plugged in…"));
    m_plugFlow->findUnknown(m_model->media(), [this](const std::vector<FoundVault> &found) {
        if (found.empty()) {
            say(tr("No vault that Coffer does not know yet is on the drives plugged in (and mounted)."));
            return;
        }
        m_notice->clear();
        offerToAdd(found);
    });
}

void MainWindow::offerToAdd(const std::vector<FoundVault> &found)
{
    showAndRaise();
    auto *dialog = new AddVaultDialog(m_model->registry(), found, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &AddVaultDialog::added, this, [this](const QString &id) {
        select(id);
        const std::optional<VaultRow> row = m_model->row(id);
        say(tr("“%1” is in Coffer now.").arg(row ? row->name() : id));
    });
    dialog->show();
}

void MainWindow::showBusyLock(const QString &id, const QString &message)
{
    Dialogs::openBusyLock(context(), id, message, this);
}

void MainWindow::say(const QString &text, bool problem, const QString &aboutLocked)
{
    m_notice->say(text, problem, aboutLocked);
}

void MainWindow::showNotice()
{
    const QString text = m_notice->text();
    m_banner->setVisible(!text.isEmpty());
    m_banner->setText(text);
    m_banner->setStyleSheet(m_notice->isProblem() ? QStringLiteral("background: #fbe3e4; color: #7a1016; border-radius: 4px;")
                                    : QStringLiteral("background: #e3f4e8; color: #0f5223; border-radius: 4px;"));
}

void MainWindow::showEvent(QShowEvent *event)
{
    m_view->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    QMainWindow::showEvent(event);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    event->ignore();
    hide();
    Q_EMIT hiddenToBackground();
}

DialogContext MainWindow::context() const
{
    return {m_model, m_controller, m_mediaMonitor};
}

void MainWindow::updateActions()
{
    m_stack->setCurrentIndex(m_model->rowCount() ? 0 : 1);
    if (!m_view->selectionModel()->currentIndex().isValid() && m_model->rowCount())
        m_view->selectionModel()->setCurrentIndex(m_model->index(0, 0),
                                                  QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    const std::optional<VaultRow> row = m_model->row(selectedId());
    m_unlock->setEnabled(row && !row->isOpen() && row->isRegistered() && row->file());
    m_backUp->setEnabled(row && !m_controller->whyNoBackup(row->id));
    m_openFolder->setEnabled(row && row->isOpen());
    m_lock->setEnabled(row && row->isOpen() && !row->isSyncing());
    m_restore->setEnabled(row.has_value());
    m_keys->setEnabled(row && row->isRegistered());
    bool anyOpen = false;
    for (const VaultRow &r : m_model->rows())
        anyOpen = anyOpen || r.isOpen();
    m_lockAll->setEnabled(anyOpen);
}

void MainWindow::showVaultMenu(const QPoint &where)
{
    if (selectedId().isEmpty())
        return;
    QMenu menu(this);
    menu.setAccessibleName(tr("Vault actions"));
    for (QAction *a : {m_unlock, m_backUp, m_openFolder, m_lock, m_restore, m_keys})
        menu.addAction(a);
    menu.exec(m_view->viewport()->mapToGlobal(where));
}

void MainWindow::activate(const QModelIndex &index)
{
    const std::optional<VaultRow> row = m_model->row(m_model->idAt(index.row()));
    if (!row)
        return;
    if (row->isOpen())
        m_controller->openFolder(row->id);
    else if (m_unlock->isEnabled())
        m_controller->unlock(row->id);
}

} // namespace Coffer::Ui
