#include "restorebrowser.h"

#include "background.h"
#include "client/vaulthandle.h"
#include "config/registry.h"
#include "paths.h"
#include "texts.h"
#include "uihelpers.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

#include <cctype>
#include <deque>

namespace Coffer::Ui {

namespace {

enum Column { NameColumn, SizeColumn, ModifiedColumn, ChangeColumn };
constexpr int PathRole = Qt::UserRole;
constexpr int InBackupRole = Qt::UserRole + 1;
constexpr int ChangeRole = Qt::UserRole + 2;

QString changeText(Restore::Change change)
{
    switch (change) {
    case Restore::Change::Changed: return RestoreBrowser::tr("Changed since");
    case Restore::Change::Deleted: return RestoreBrowser::tr("Deleted since");
    case Restore::Change::Added: return RestoreBrowser::tr("Added since (not in this backup)");
    case Restore::Change::Unchanged:
    case Restore::Change::NotCompared: break;
    }
    return {};
}

QString backupLabel(const Restore::Backup &b)
{
    if (b.mirror)
        return RestoreBrowser::tr("The mirror (the last backup)");
    return RestoreBrowser::tr("Snapshot of %1").arg(QLocale().toString(b.time->toLocalTime(), QLocale::LongFormat));
}

} // namespace

// One restore of the selection: the items left, where they go, and the running copy's cancel flag.
struct RestoreBrowser::Job
{
    std::deque<std::string> items;
    std::string targetDir;
    std::string backupDir;
    std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
    uint64_t entries = 0, bytes = 0;
    QStringList restored;
};

RestoreBrowser::RestoreBrowser(Client::VaultHandle *vault, const Config::Registry *registry, QWidget *parent)
    : QDialog(parent)
    , m_vault(vault)
    , m_backupList(new QComboBox(this))
    , m_onlyDifferences(named(new QCheckBox(tr("Show only &differences"), this), tr("Show only differences")))
    , m_counts(new QLabel(this))
    , m_tree(new QTreeWidget(this))
    , m_target(new QLineEdit(this))
    , m_restore(makeButton(tr("&Restore"), this))
    , m_cancel(makeButton(tr("&Stop"), this))
    , m_open(makeButton(tr("&Open the folder"), this))
    , m_progress(named(new QProgressBar(this), tr("Restoring")))
    , m_status(new StatusLine(this))
{
    setAttribute(Qt::WA_DeleteOnClose);
    m_backupList->setObjectName(QStringLiteral("backups"));
    m_onlyDifferences->setObjectName(QStringLiteral("onlyDifferences"));
    m_counts->setObjectName(QStringLiteral("counts"));
    m_tree->setObjectName(QStringLiteral("tree"));
    m_target->setObjectName(QStringLiteral("target"));
    m_restore->setObjectName(QStringLiteral("restore"));
    m_cancel->setObjectName(QStringLiteral("cancelRestore"));
    m_open->setObjectName(QStringLiteral("openTarget"));
    m_progress->setObjectName(QStringLiteral("progress"));
    m_status->setObjectName(QStringLiteral("restoreStatus"));
    m_restore->setAccessibleName(tr("Restore the selection"));
    m_cancel->setAccessibleName(tr("Stop restoring"));
    auto *browse = makeButton(tr("Bro&wse…"), this);
    browse->setAccessibleName(tr("Choose where to restore to"));

    const Client::VaultInfo &info = vault->info();
    m_vaultName = info.name;
    m_root = localPath(info.mountPoint);
    std::string id = info.id.toStdString();
    for (char &c : id)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    if (registry) {
        if (const std::optional<Config::VaultEntry> entry = registry->vault(id)) {
            m_liveFolders = entry->sources;
            m_excludes = entry->excludes;
            if (m_vaultName.isEmpty())
                m_vaultName = Texts::fromBytes(entry->name);
        }
    }
    if (m_vaultName.isEmpty())
        m_vaultName = Texts::fromBytes(lastComponent(vault->file()));
    setWindowTitle(tr("Restore from “%1”").arg(m_vaultName));

    m_tree->setColumnCount(4);
    m_tree->setHeaderLabels({tr("Name"), tr("Size"), tr("Modified"), tr("Compared with now")});
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    m_tree->header()->setStretchLastSection(false);
    m_counts->setWordWrap(true);
    m_progress->setRange(0, 1000);
    m_progress->setFocusPolicy(Qt::NoFocus);

    auto *layout = new QVBoxLayout(this);
    auto *top = new QHBoxLayout;
    top->addWidget(makeBuddyLabel(tr("&Backup:"), m_backupList, this));
    top->addWidget(m_backupList, 1);
    top->addWidget(m_onlyDifferences);
    layout->addLayout(top);
    layout->addWidget(m_counts);
    named(m_tree, tr("Files in the backup"));
    layout->addWidget(m_tree, 1);
    auto *targetRow = new QHBoxLayout;
    targetRow->addWidget(makeBuddyLabel(tr("Restore &to:"), m_target, this));
    targetRow->addWidget(m_target, 1);
    targetRow->addWidget(browse);
    targetRow->addWidget(m_restore);
    layout->addLayout(targetRow);
    auto *progressRow = new QHBoxLayout;
    progressRow->addWidget(m_progress, 1);
    progressRow->addWidget(m_cancel);
    layout->addLayout(progressRow);
    auto *statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_open, 0, Qt::AlignTop);
    layout->addLayout(statusRow);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    named(buttons->button(QDialogButtonBox::Close), tr("Close"));
    layout->addWidget(buttons);
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    m_open->setVisible(false);
    m_restore->setDefault(true);
    resize(760, 560);

    connect(buttons, &QDialogButtonBox::rejected, this, &RestoreBrowser::reject);
    connect(m_backupList, &QComboBox::currentIndexChanged, this, &RestoreBrowser::showBackup);
    connect(m_onlyDifferences, &QCheckBox::toggled, this, &RestoreBrowser::applyFilter);
    connect(m_tree, &QTreeWidget::itemSelectionChanged, this, &RestoreBrowser::updateActions);
    connect(m_target, &QLineEdit::textChanged, this, &RestoreBrowser::updateActions);
    connect(m_restore, &QPushButton::clicked, this, &RestoreBrowser::startRestore);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_job)
            m_job->cancel->store(true);
    });
    connect(m_open, &QPushButton::clicked, this, [this] {
        QDesktopServices::openUrl(QUrl::fromLocalFile(m_target->text()));
    });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Restore to"), QDir::homePath());
        if (!dir.isEmpty())
            m_target->setText(dir);
    });
    connect(vault, &Client::VaultHandle::locked, this, &RestoreBrowser::vaultLocked);

    if (!vault->isUnlocked()) {
        vaultLocked();
        return;
    }
    try {
        m_backups = Restore::listBackups(m_root);
    } catch (const Error &e) {
        m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
    }
    if (m_backups.empty() && m_status->text().isEmpty())
        m_status->setMessage(StatusLine::Kind::Info, tr("This vault holds no backup yet."));
    for (const Restore::Backup &b : m_backups)
        m_backupList->addItem(backupLabel(b));
    updateActions();
}

RestoreBrowser::~RestoreBrowser()
{
    if (m_readCancel)
        m_readCancel->store(true);
    if (m_job)
        m_job->cancel->store(true);
}

std::string RestoreBrowser::backupDir() const
{
    const int i = m_backupList->currentIndex();
    return i < 0 ? std::string() : m_root + "/" + m_backups[size_t(i)].path;
}

QString RestoreBrowser::defaultTarget() const
{
    const int i = m_backupList->currentIndex();
    const QString backup = i < 0 ? QString()
        : m_backups[size_t(i)].mirror ? tr("last backup")
                                      : QString::fromStdString(m_backups[size_t(i)].name);
    // A new folder of its own, named after the vault and the backup: nothing of the person's is in it.
    QString base = QDir::homePath() + QLatin1Char('/') + tr("Restored from %1, %2").arg(m_vaultName, backup);
    base.replace(u':', u'.');
    QString candidate = base;
    for (int n = 2; QFileInfo::exists(candidate); ++n)
        candidate = base + QStringLiteral(" (%1)").arg(n);
    return candidate;
}

void RestoreBrowser::showBackup(int index)
{
    if (index < 0)
        return;
    if (m_readCancel)
        m_readCancel->store(true);
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    m_readCancel = cancel;
    m_reading = true;
    m_tree->clear();
    m_counts->setText(tr("Reading the backup…"));
    m_target->setText(defaultTarget());
    updateActions();
    const std::string dir = backupDir();
    const std::vector<std::string> live = m_liveFolders;
    const std::vector<std::string> excludes = m_excludes;
    runInBackground<Restore::Tree>(
        this, [=] { return Restore::readBackup(dir, live, excludes, cancel.get()); },
        [this, cancel](Restore::Tree tree) {
            if (m_readCancel != cancel)
                return;
            m_reading = false;
            fillTree(tree);
            updateActions();
            emit treeShown();
        },
        [this, cancel](const Error &e) {
            if (m_readCancel != cancel)
                return;
            m_reading = false;
            m_counts->clear();
            m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
            updateActions();
        });
}

void RestoreBrowser::fillTree(const Restore::Tree &tree)
{
    m_tree->clear();
    // Entries come parents first: a directory's item is the parent of what follows under its path.
    std::vector<std::pair<std::string, QTreeWidgetItem *>> parents;
    const QIcon folderIcon = style()->standardIcon(QStyle::SP_DirIcon);
    const QIcon fileIcon = style()->standardIcon(QStyle::SP_FileIcon);
    const QIcon linkIcon = style()->standardIcon(QStyle::SP_FileLinkIcon);
    for (const Restore::Entry &e : tree.entries) {
        while (!parents.empty() && e.path.compare(0, parents.back().first.size() + 1, parents.back().first + "/") != 0)
            parents.pop_back();
        const QString name = Texts::fromBytes(lastComponent(e.path));
        auto *item = parents.empty() ? new QTreeWidgetItem(m_tree) : new QTreeWidgetItem(parents.back().second);
        item->setText(NameColumn, name);
        item->setIcon(NameColumn, e.type == 'd' ? folderIcon : e.type == 'l' ? linkIcon : fileIcon);
        if (e.type == 'f')
            item->setText(SizeColumn, Texts::bytes(e.size));
        item->setText(ModifiedColumn, QLocale().toString(QDateTime::fromMSecsSinceEpoch(e.mtimeNs / 1000000), QLocale::ShortFormat));
        item->setText(ChangeColumn, changeText(e.change));
        item->setData(NameColumn, PathRole, QByteArray::fromStdString(e.path));
        item->setData(NameColumn, InBackupRole, e.inBackup());
        item->setData(NameColumn, ChangeRole, int(e.change));
        if (e.change == Restore::Change::Added) {
            item->setForeground(NameColumn, palette().brush(QPalette::Disabled, QPalette::Text));
            item->setFlags(item->flags() & ~Qt::ItemIsSelectable);
        } else if (e.change == Restore::Change::Changed || e.change == Restore::Change::Deleted) {
            QFont bold = item->font(ChangeColumn);
            bold.setBold(true);
            item->setFont(ChangeColumn, bold);
        }
        // Screen readers hear the comparison with the name.
        if (!changeText(e.change).isEmpty())
            item->setData(NameColumn, Qt::AccessibleTextRole, QStringLiteral("%1, %2").arg(name, changeText(e.change)));
        if (e.type == 'd')
            parents.emplace_back(e.path, item);
    }
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        m_tree->topLevelItem(i)->setExpanded(true);
    m_tree->resizeColumnToContents(SizeColumn);
    m_tree->resizeColumnToContents(ModifiedColumn);
    m_tree->resizeColumnToContents(ChangeColumn);

    QString counts = m_liveFolders.empty()
        ? tr("Not compared: Coffer does not know which folders this vault backs up.")
        : tr("Compared with your folders now: %1 changed, %2 deleted and %3 added since this backup; %4 unchanged.")
              .arg(tree.changed).arg(tree.deleted).arg(tree.added).arg(tree.unchanged);
    if (!tree.problems.empty())
        counts += QLatin1Char(' ') + tr("Some folders could not be read: %1").arg(Texts::fromBytes(tree.problems.front()));
    m_counts->setText(counts);
    m_counts->setAccessibleName(counts);
    applyFilter();
}

void RestoreBrowser::applyFilter()
{
    const bool only = m_onlyDifferences->isChecked();
    // Bottom-up: a folder stays visible when anything below it differs.
    std::function<bool(QTreeWidgetItem *)> visit = [&](QTreeWidgetItem *item) {
        bool differs = Restore::Change(item->data(NameColumn, ChangeRole).toInt()) != Restore::Change::Unchanged
            && Restore::Change(item->data(NameColumn, ChangeRole).toInt()) != Restore::Change::NotCompared;
        for (int i = 0; i < item->childCount(); ++i)
            differs = visit(item->child(i)) || differs;
        item->setHidden(only && !differs);
        return differs;
    };
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        visit(m_tree->topLevelItem(i));
}

void RestoreBrowser::updateActions()
{
    bool restorable = !m_tree->selectedItems().isEmpty();
    for (QTreeWidgetItem *item : m_tree->selectedItems())
        restorable = restorable && item->data(NameColumn, InBackupRole).toBool();
    m_restore->setEnabled(restorable && !m_reading && !m_restoring && QDir::isAbsolutePath(m_target->text()));
    m_backupList->setEnabled(!m_restoring && m_vault->isUnlocked());
}

void RestoreBrowser::startRestore()
{
    m_job = std::make_unique<Job>();
    // A folder selected with things inside it: the folder alone brings them.
    QList<QTreeWidgetItem *> selected = m_tree->selectedItems();
    for (QTreeWidgetItem *item : selected) {
        bool insideAnother = false;
        for (QTreeWidgetItem *p = item->parent(); p; p = p->parent())
            insideAnother = insideAnother || selected.contains(p);
        if (!insideAnother)
            m_job->items.push_back(item->data(NameColumn, PathRole).toByteArray().toStdString());
    }
    m_job->targetDir = localPath(QDir::cleanPath(m_target->text()));
    m_job->backupDir = backupDir();
    m_restoring = true;
    m_open->setVisible(false);
    m_status->clear();
    updateActions();
    restoreNext();
}

void RestoreBrowser::restoreNext()
{
    if (m_job->items.empty()) {
        finishRestore(tr("Restored %1 to %2 (items: %3, %4).")
                          .arg(m_job->restored.join(QStringLiteral(", ")), m_target->text())
                          .arg(m_job->entries)
                          .arg(Texts::bytes(m_job->bytes)),
                      true);
        return;
    }
    const std::string item = m_job->items.front();
    m_job->items.pop_front();
    Restore::RestoreRequest request{m_job->backupDir, item, m_job->targetDir, lastComponent(item), false};
    if (!Restore::targetExists(request.targetDir, request.targetName)) {
        runRestore(request);
        return;
    }
    // Never over something of the person's without asking.
    auto *ask = new QMessageBox(QMessageBox::Question, tr("Replace %1?").arg(Texts::fromBytes(request.targetName)),
                                tr("%1 already holds “%2”. Replace it with the copy from the backup, or keep both?")
                                    .arg(m_target->text(), Texts::fromBytes(request.targetName)),
                                QMessageBox::NoButton, this);
    ask->setObjectName(QStringLiteral("conflict"));
    QPushButton *replace = ask->addButton(tr("&Replace"), QMessageBox::DestructiveRole);
    QPushButton *both = ask->addButton(tr("&Keep both"), QMessageBox::AcceptRole);
    QPushButton *stop = ask->addButton(tr("&Cancel"), QMessageBox::RejectRole);
    replace->setObjectName(QStringLiteral("replace"));
    both->setObjectName(QStringLiteral("keepBoth"));
    stop->setObjectName(QStringLiteral("cancelConflict"));
    for (QPushButton *b : {replace, both, stop})
        named(b, b->text());
    ask->setDefaultButton(both);
    ask->setEscapeButton(stop);
    ask->setAttribute(Qt::WA_DeleteOnClose);
    connect(ask, &QMessageBox::finished, this, [this, ask, replace, both, request]() mutable {
        if (ask->clickedButton() == replace) {
            request.replace = true;
        } else if (ask->clickedButton() == both) {
            const std::string base = request.targetName + " (" + tr("restored").toStdString() + ")";
            request.targetName = base;
            for (int n = 2; Restore::targetExists(request.targetDir, request.targetName); ++n)
                request.targetName = base.substr(0, base.size() - 1) + " " + std::to_string(n) + ")";
        } else {
            finishRestore(tr("Nothing more was restored."), false);
            return;
        }
        runRestore(request);
    });
    ask->open();
}

void RestoreBrowser::runRestore(const Restore::RestoreRequest &request)
{
    m_progress->setValue(0);
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_cancel->setFocus();
    m_status->setMessage(StatusLine::Kind::Info, tr("Restoring %1…").arg(Texts::fromBytes(request.item)));
    const auto cancel = m_job->cancel;
    QPointer<RestoreBrowser> self(this);
    // Progress comes from the worker thread; it is shown on the GUI thread, if the window is still there.
    const Restore::RestoreCallback onProgress = [self](const Restore::RestoreProgress &p) {
        QMetaObject::invokeMethod(QCoreApplication::instance(), [self, p] {
            if (!self || !self->m_restoring)
                return;
            const uint64_t total = std::max<uint64_t>(p.bytesTotal, 1);
            self->m_progress->setValue(int(1000 * (p.bytesTotal ? p.bytesDone : p.filesDone) /
                                           (p.bytesTotal ? total : std::max<uint64_t>(p.filesTotal, 1))));
            if (!p.currentItem.empty())
                self->m_progress->setFormat(
                    self->fontMetrics().elidedText(Texts::fromBytes(p.currentItem), Qt::ElideMiddle, self->m_progress->width() - 20));
        }, Qt::QueuedConnection);
    };
    runInBackground<Restore::RestoreResult>(
        this, [request, onProgress, cancel] { return Restore::restore(request, onProgress, cancel.get()); },
        [this](Restore::RestoreResult r) {
            m_job->entries += r.entries;
            m_job->bytes += r.bytes;
            m_job->restored << Texts::fromBytes(lastComponent(r.restored));
            restoreNext();
        },
        [this](const Error &e) {
            finishRestore(QString::fromStdString(e.message()), false);
        });
}

void RestoreBrowser::finishRestore(const QString &message, bool ok)
{
    const bool cancelled = m_job && m_job->cancel->load();
    m_restoring = false;
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
    m_status->setMessage(ok ? StatusLine::Kind::Success : cancelled ? StatusLine::Kind::Info : StatusLine::Kind::Error, message);
    m_open->setVisible(ok || (m_job && !m_job->restored.isEmpty()));
    const QString restored = ok ? m_target->text() : QString();
    m_job.reset();
    updateActions();
    if (ok)
        m_open->setFocus();
    emit restoreFinished(restored);
}

void RestoreBrowser::vaultLocked()
{
    if (m_readCancel)
        m_readCancel->store(true);
    m_readCancel.reset(); // what it comes to is of no interest now
    m_reading = false;
    if (m_job)
        m_job->cancel->store(true);
    m_tree->clear();
    m_tree->setEnabled(false);
    m_counts->clear();
    m_status->setMessage(StatusLine::Kind::Info, tr("The vault “%1” is locked; unlock it to restore from it.").arg(m_vaultName));
    updateActions();
}

void RestoreBrowser::reject()
{
    // Closing stops a restore first: the partial copy goes, nothing is left half-made.
    if (m_job)
        m_job->cancel->store(true);
    QDialog::reject();
}

} // namespace Coffer::Ui
