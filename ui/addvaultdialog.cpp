#include "addvaultdialog.h"

#include "config/registry.h"
#include "texts.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace Coffer::Ui {

AddVaultDialog::AddVaultDialog(Config::Registry *registry, std::vector<FoundVault> found, QWidget *parent)
    : QDialog(parent)
    , m_registry(registry)
    , m_found(std::move(found))
    , m_vault(new QComboBox(this))
    , m_name(new QLineEdit(this))
    , m_folders(new QListWidget(this))
    , m_addFolder(new QPushButton(tr("A&dd folder…"), this))
    , m_removeFolder(new QPushButton(tr("&Remove"), this))
    , m_trigger(new QComboBox(this))
    , m_error(new QLabel(this))
{
    setObjectName(QStringLiteral("addVaultDialog"));
    setWindowTitle(tr("Add a Vault to Coffer"));
    for (const FoundVault &f : m_found) {
        m_vault->addItem(tr("%1 on %2 (%3)")
                             .arg(Texts::foundName(f.vault), Media::displayName(f.medium), Texts::fromBytes(f.vault.path)));
    }
    m_vault->setAccessibleName(tr("Vault"));
    m_name->setAccessibleName(tr("Name"));
    m_folders->setObjectName(QStringLiteral("folders"));
    m_folders->setAccessibleName(tr("Folders to back up"));
    m_addFolder->setAccessibleName(tr("Add a folder to back up"));
    m_removeFolder->setAccessibleName(tr("Remove the selected folder"));
    for (Config::Trigger t : {Config::Trigger::Ask, Config::Trigger::Backup, Config::Trigger::Manual})
        m_trigger->addItem(Texts::trigger(t), int(t));
    m_trigger->setAccessibleName(tr("When the drive is plugged in"));
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    m_error->setAccessibleName(tr("Error"));
    m_error->setStyleSheet(QStringLiteral("color: #c01c28;"));
    m_error->hide();

    for (const char *suggested : {".ssh", ".gnupg", ".password-store"}) {
        const QString folder = QDir::home().filePath(QLatin1String(suggested));
        if (QFileInfo(folder).isDir())
            addFolder(folder);
    }

    auto *form = new QFormLayout;
    auto *vaultLabel = new QLabel(tr("&Vault:"), this);
    vaultLabel->setBuddy(m_vault);
    form->addRow(vaultLabel, m_vault);
    auto *nameLabel = new QLabel(tr("&Name:"), this);
    nameLabel->setBuddy(m_name);
    form->addRow(nameLabel, m_name);
    auto *foldersLabel = new QLabel(tr("&Folders to back up:"), this);
    foldersLabel->setBuddy(m_folders);
    auto *folderButtons = new QVBoxLayout;
    folderButtons->addWidget(m_addFolder);
    folderButtons->addWidget(m_removeFolder);
    folderButtons->addStretch();
    auto *foldersRow = new QHBoxLayout;
    foldersRow->addWidget(m_folders, 1);
    foldersRow->addLayout(folderButtons);
    form->addRow(foldersLabel, foldersRow);
    auto *triggerLabel = new QLabel(tr("When &plugged in:"), this);
    triggerLabel->setBuddy(m_trigger);
    form->addRow(triggerLabel, m_trigger);

    auto *buttons = new QDialogButtonBox(this);
    QPushButton *ok = buttons->addButton(tr("&Add to Coffer"), QDialogButtonBox::AcceptRole);
    ok->setAccessibleName(tr("Add the vault to Coffer"));
    ok->setDefault(true);
    buttons->addButton(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));
    connect(buttons, &QDialogButtonBox::accepted, this, &AddVaultDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &AddVaultDialog::reject);
    connect(m_addFolder, &QPushButton::clicked, this, &AddVaultDialog::chooseFolder);
    connect(m_removeFolder, &QPushButton::clicked, this, [this] { delete m_folders->currentItem(); });
    connect(m_vault, &QComboBox::currentIndexChanged, this, &AddVaultDialog::vaultChosen);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    setMinimumWidth(520);
    vaultChosen(0);
    m_name->setFocus();
}

void AddVaultDialog::vaultChosen(int index)
{
    if (index >= 0 && size_t(index) < m_found.size())
        m_name->setText(Texts::foundName(m_found[size_t(index)].vault));
}

void AddVaultDialog::addFolder(const QString &folder, bool checked)
{
    auto *item = new QListWidgetItem(QDir::toNativeSeparators(folder), m_folders);
    item->setData(Qt::UserRole, folder);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

QStringList AddVaultDialog::folders() const
{
    QStringList out;
    for (int i = 0; i < m_folders->count(); ++i) {
        if (m_folders->item(i)->checkState() == Qt::Checked)
            out << m_folders->item(i)->data(Qt::UserRole).toString();
    }
    return out;
}

void AddVaultDialog::chooseFolder()
{
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Choose a folder to back up"), QDir::homePath());
    if (!folder.isEmpty())
        addFolder(folder);
}

void AddVaultDialog::accept()
{
    auto say = [this](const QString &text) {
        m_error->setText(text);
        m_error->show();
    };
    const int index = m_vault->currentIndex();
    if (index < 0 || size_t(index) >= m_found.size())
        return say(tr("There is no vault to add."));
    if (m_name->text().trimmed().isEmpty())
        return say(tr("Give the vault a name."));
    if (folders().isEmpty())
        return say(tr("Choose at least one folder to back up."));
    const FoundVault &f = m_found[size_t(index)];
    Config::VaultEntry entry;
    entry.luksUuid = f.vault.luksUuid;
    entry.name = m_name->text().trimmed().toStdString();
    entry.medium = Config::mediumRefOf(f.medium);
    entry.path = f.vault.path;
    for (const QString &folder : folders())
        entry.sources.push_back(QFile::encodeName(folder).toStdString());
    entry.trigger = Config::Trigger(m_trigger->currentData().toInt());
    try {
        m_registry->putVault(entry);
    } catch (const Error &e) {
        return say(QString::fromStdString(e.message()));
    }
    m_addedId = QString::fromStdString(entry.luksUuid);
    Q_EMIT added(m_addedId);
    QDialog::accept();
}

} // namespace Coffer::Ui
