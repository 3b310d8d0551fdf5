#include "createwizard.h"

#include "background.h"
#include "block/uniquefd.h"
#include "block/vaultinternal.h"
#include "client/helperclient.h"
#include "config/registry.h"
#include "keyfilechooser.h"
#include "keys/headerbackups.h"
#include "media/mediamonitor.h"
#include "media/vaultscan.h"
#include "passphrasefields.h"
#include "planview.h"
#include "texts.h"
#include "uihelpers.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QStyle>
#include <QVBoxLayout>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <map>
#include <memory>

namespace Coffer::Ui {

namespace {

constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t GiB = 1ull << 30;

// Where the folder of a vault file is, and the drive that holds it, if it is on one.
struct Location
{
    QString folder;
    std::optional<Media::Medium> medium;
    std::string mountPoint; // the medium's, as bytes
};

bool isInside(const std::string &path, const std::string &dir)
{
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0
                           && (dir.back() == '/' || path[dir.size()] == '/'));
}

QString sizeText(double value, bool gib)
{
    return gib ? CreateWizard::tr("%1 GiB").arg(value, 0, 'f', 2) : CreateWizard::tr("%1 MiB").arg(qint64(value));
}

// ---- Where -------------------------------------------------------------------------------------

class MediumStep : public QWizardPage
{
    Q_OBJECT

public:
    explicit MediumStep(CreateWizard *wizard)
        : m_wizard(wizard)
        , m_media(named(new QListWidget(this), tr("Drives")))
        , m_folder(new QLineEdit(this))
        , m_status(new StatusLine(this))
    {
        setTitle(tr("Where should the vault live?"));
        setSubTitle(tr("Pick a USB drive, or another folder. The vault is one file there, encrypted."));
        m_media->setObjectName(QStringLiteral("media"));
        m_folder->setObjectName(QStringLiteral("folder"));
        m_status->setObjectName(QStringLiteral("mediumStatus"));
        auto *browse = makeButton(tr("Bro&wse…"), this);
        browse->setObjectName(QStringLiteral("browseFolder"));
        browse->setAccessibleName(tr("Choose another folder"));

        auto *layout = new QVBoxLayout(this);
        layout->addWidget(makeBuddyLabel(tr("&Drives:"), m_media, this));
        layout->addWidget(m_media, 1);
        auto *row = new QHBoxLayout;
        row->addWidget(makeBuddyLabel(tr("&Folder:"), m_folder, this));
        row->addWidget(m_folder, 1);
        row->addWidget(browse);
        layout->addLayout(row);
        layout->addWidget(m_status);
        m_media->setMinimumHeight(120);

        connect(m_media, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
            if (!item)
                return;
            if (item->data(Qt::UserRole).toString().isEmpty()) {
                m_folder->setFocus();
                return;
            }
            m_folder->setText(item->data(Qt::UserRole).toString());
        });
        connect(m_media, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
            if (item->data(Qt::UserRole).toString().isEmpty())
                browseFolder();
        });
        connect(browse, &QPushButton::clicked, this, &MediumStep::browseFolder);
        connect(m_folder, &QLineEdit::textChanged, this, &MediumStep::evaluate);
        registerField(QStringLiteral("folder*"), m_folder);

        // The drives present now, then as they come, change and go.
        if (Media::MediaMonitor *monitor = wizard->mediaMonitor()) {
            for (const Media::Medium &m : monitor->media())
                m_known[m.devnum] = m;
            const auto update = [this](const Media::Medium &m) {
                m_known[m.devnum] = m;
                listMedia();
            };
            connect(monitor, &Media::MediaMonitor::mediumAdded, this, update);
            connect(monitor, &Media::MediaMonitor::mediumChanged, this, update);
            connect(monitor, &Media::MediaMonitor::mediumRemoved, this, [this](const Media::Medium &m) {
                m_known.erase(m.devnum);
                listMedia();
            });
        }
        listMedia();
    }

    Location location() const { return m_location; }
    const Create::FolderCheck &check() const { return m_check; }

    bool isComplete() const override { return m_usable; }

    void listMedia()
    {
        const QString current = m_folder->text();
        m_media->clear();
        for (const Media::Medium &m : mounted()) {
            const QString mount = QFile::decodeName(QByteArray::fromStdString(m.mountPoints.front()));
            const QString facts = m.freeBytes ? tr("%1, %2 free").arg(QString::fromStdString(m.fsType), Texts::bytes(*m.freeBytes))
                                              : QString::fromStdString(m.fsType);
            auto *item = new QListWidgetItem(style()->standardIcon(QStyle::SP_DriveHDIcon),
                                             tr("%1 (%2)").arg(Media::displayName(m), facts), m_media);
            item->setData(Qt::UserRole, mount);
            item->setToolTip(mount);
        }
        auto *other = new QListWidgetItem(style()->standardIcon(QStyle::SP_DirIcon), tr("Another folder…"), m_media);
        other->setData(Qt::UserRole, QString());
        if (m_media->count() == 1)
            other->setToolTip(tr("No USB drive is mounted now."));
        if (current.isEmpty() && m_media->count() > 1)
            m_media->setCurrentRow(0);
        evaluate();
    }

private:
    std::vector<Media::Medium> mounted() const
    {
        std::vector<Media::Medium> out;
        for (const auto &[devnum, m] : m_known) {
            if (m.mounted())
                out.push_back(m);
        }
        return out;
    }

    void browseFolder()
    {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Where should the vault live?"), m_folder->text());
        if (!dir.isEmpty())
            m_folder->setText(dir);
    }

    void evaluate()
    {
        const QString folder = QDir::cleanPath(m_folder->text());
        m_location = {folder, std::nullopt, {}};
        m_usable = false;
        if (m_folder->text().isEmpty()) {
            m_status->setMessage(StatusLine::Kind::Info, tr("Choose a drive or a folder."));
            emit completeChanged();
            return;
        }
        const std::string path = localPath(folder);
        for (const Media::Medium &m : mounted()) {
            for (const std::string &mount : m.mountPoints) {
                if (isInside(path, mount)) {
                    m_location.medium = m;
                    m_location.mountPoint = mount;
                }
            }
        }
        const QFileInfo info(folder);
        if (!info.isAbsolute() || !info.isDir()) {
            m_status->setMessage(StatusLine::Kind::Error, tr("There is no folder %1.").arg(folder));
        } else if (::access(path.c_str(), W_OK) != 0) {
            m_status->setMessage(StatusLine::Kind::Error,
                                 tr("You cannot write in %1. Choose another folder, or a drive you may write on.").arg(folder));
        } else {
            try {
                m_check = Create::checkFolder(path, 0, m_wizard->mediumProbe());
                describe();
            } catch (const Error &e) {
                m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
            }
        }
        emit completeChanged();
    }

    // The facts of the filesystem and what they mean for the vault.
    void describe()
    {
        const Vault::MediumInfo &m = m_check.medium;
        QStringList lines;
        lines << tr("This folder is on a %1 filesystem with %2 free.").arg(QString::fromStdString(m.fsType), Texts::bytes(m.freeBytes));
        if (m.maxFileSize)
            lines << tr("A file there must be smaller than %1, so the vault can be at most %2.")
                         .arg(Texts::bytes(m.maxFileSize + 1), Texts::bytes(m_check.largestVault));
        for (const std::string &w : m.warnings)
            lines << QString::fromStdString(w) + QLatin1Char('.');
        if (!m_location.medium)
            lines << tr("This folder is not on a USB drive Coffer knows: the vault stays on this computer.");
        StatusLine::Kind kind = m.warnings.empty() ? StatusLine::Kind::Info : StatusLine::Kind::Warning;
        if (m_check.largestVault < Vault::minimumSize) {
            lines << tr("There is not room for the smallest vault (%1).").arg(Texts::bytes(Vault::minimumSize));
            kind = StatusLine::Kind::Error;
        } else {
            m_usable = true;
        }
        m_status->setMessage(kind, lines.join(u'\n'));
    }

    CreateWizard *m_wizard;
    QListWidget *m_media;
    QLineEdit *m_folder;
    StatusLine *m_status;
    std::map<dev_t, Media::Medium> m_known;
    Location m_location;
    Create::FolderCheck m_check;
    bool m_usable = false;
};

// ---- Name and size -----------------------------------------------------------------------------

class NameSizeStep : public QWizardPage
{
    Q_OBJECT

public:
    NameSizeStep(CreateWizard *wizard, MediumStep *medium)
        : m_wizard(wizard)
        , m_medium(medium)
        , m_name(new QLineEdit(this))
        , m_size(new QDoubleSpinBox(this))
        , m_unit(named(new QComboBox(this), tr("Size unit")))
        , m_file(new QLabel(this))
        , m_limit(new QLabel(this))
        , m_status(new StatusLine(this))
    {
        setTitle(tr("Name and size"));
        setSubTitle(tr("The name is how Coffer shows the vault; the size is what it can hold, fixed now "
                       "(it can grow later)."));
        m_name->setObjectName(QStringLiteral("name"));
        m_size->setObjectName(QStringLiteral("size"));
        m_unit->setObjectName(QStringLiteral("sizeUnit"));
        m_file->setObjectName(QStringLiteral("fileName"));
        m_limit->setObjectName(QStringLiteral("sizeLimit"));
        m_status->setObjectName(QStringLiteral("sizeStatus"));
        m_name->setText(tr("secrets"));
        m_name->setMaxLength(int(Vault::maximumNameLength));
        m_unit->addItems({tr("MiB"), tr("GiB")});
        m_unit->setCurrentIndex(1);
        m_size->setDecimals(2);
        m_size->setRange(double(Vault::minimumSize) / double(GiB), double(Vault::maximumSize) / double(GiB));
        m_size->setValue(1);
        m_file->setWordWrap(true);
        m_file->setTextFormat(Qt::PlainText);
        m_limit->setWordWrap(true);

        auto *layout = new QVBoxLayout(this);
        auto *form = new QFormLayout;
        form->addRow(makeBuddyLabel(tr("Na&me:"), m_name, this), m_name);
        auto *sizeRow = new QHBoxLayout;
        sizeRow->addWidget(m_size, 1);
        sizeRow->addWidget(m_unit);
        form->addRow(makeBuddyLabel(tr("&Size:"), m_size, this), sizeRow);
        form->addRow(tr("File:"), m_file);
        layout->addLayout(form);
        layout->addWidget(m_limit);
        layout->addWidget(m_status);
        layout->addStretch(1);

        connect(m_name, &QLineEdit::textChanged, this, &NameSizeStep::evaluate);
        connect(m_size, &QDoubleSpinBox::valueChanged, this, &NameSizeStep::evaluate);
        connect(m_unit, &QComboBox::currentIndexChanged, this, [this](int unit) {
            // Keep the size, in the other unit.
            const double bytes = double(m_bytes);
            const bool gib = unit == 1;
            m_size->blockSignals(true);
            m_size->setDecimals(gib ? 2 : 0);
            m_size->setRange(double(Vault::minimumSize) / (gib ? GiB : MiB), double(Vault::maximumSize) / (gib ? GiB : MiB));
            m_size->setValue(bytes / (gib ? GiB : MiB));
            m_size->blockSignals(false);
            evaluate();
        });
        m_bytes = GiB;
    }

    void initializePage() override
    {
        // A size that fits where the vault goes, unless one was chosen already.
        const uint64_t largest = m_medium->check().largestVault;
        if (!m_sizeChosen && largest >= Vault::minimumSize)
            setSize(std::min<uint64_t>(GiB, largest));
        evaluate();
    }

    QString name() const { return m_name->text().trimmed(); }
    uint64_t size() const { return m_bytes; }
    QString file() const { return m_medium->location().folder + QLatin1Char('/') + name() + QStringLiteral(".coffer"); }

    void setSize(uint64_t bytes)
    {
        const bool gib = bytes >= GiB;
        m_unit->blockSignals(true);
        m_unit->setCurrentIndex(gib ? 1 : 0);
        m_unit->blockSignals(false);
        m_size->blockSignals(true);
        m_size->setDecimals(gib ? 2 : 0);
        m_size->setRange(double(Vault::minimumSize) / (gib ? GiB : MiB), double(Vault::maximumSize) / (gib ? GiB : MiB));
        // Rounded up, so that a size asked for to fit something is never a little short.
        const double unit = gib ? double(GiB) : double(MiB);
        const double scale = gib ? 100.0 : 1.0;
        m_size->setValue(std::ceil(double(bytes) / unit * scale) / scale);
        m_size->blockSignals(false);
        evaluate();
    }

    bool isComplete() const override { return m_valid; }
    bool validatePage() override
    {
        m_sizeChosen = true;
        return true;
    }

private:
    void evaluate()
    {
        const bool gib = m_unit->currentIndex() == 1;
        m_bytes = uint64_t(std::llround(m_size->value() * double(gib ? GiB : MiB))) / MiB * MiB;
        m_file->setText(file());
        const Create::FolderCheck &where = m_medium->check();
        m_limit->setText(where.medium.maxFileSize
                             ? tr("At most %1 here (%2 free; files on %3 must be smaller than 4 GiB).")
                                   .arg(Texts::bytes(where.largestVault), Texts::bytes(where.medium.freeBytes),
                                        QString::fromStdString(where.medium.fsType))
                             : tr("At most %1 here (the free space).").arg(Texts::bytes(where.largestVault)));
        m_valid = false;
        try {
            Vault::validateName(localPath(name()));
        } catch (const Error &e) {
            m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
            emit completeChanged();
            return;
        }
        if (QFileInfo::exists(file()) || QFileInfo(file()).isSymLink()) {
            m_status->setMessage(StatusLine::Kind::Error, tr("There is a file of that name there already; choose another name."));
            emit completeChanged();
            return;
        }
        try {
            const Create::FolderCheck check =
                Create::checkFolder(localPath(m_medium->location().folder), m_bytes, m_wizard->mediumProbe());
            if (check.refusal) {
                m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(check.refusal->message()) + QLatin1Char('.'));
            } else {
                m_valid = true;
                m_status->setMessage(check.medium.canSparse ? StatusLine::Kind::Info : StatusLine::Kind::Warning,
                                     check.medium.canSparse
                                         ? tr("The vault holds about %1 of files.").arg(Texts::bytes(Create::usableBytes(m_bytes)))
                                         : tr("The vault holds about %1 of files. All %2 are written to the drive "
                                              "when it is made, which takes a while.")
                                               .arg(Texts::bytes(Create::usableBytes(m_bytes)), sizeText(m_size->value(), gib)));
            }
        } catch (const Error &e) {
            m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
        }
        emit completeChanged();
    }

    CreateWizard *m_wizard;
    MediumStep *m_medium;
    QLineEdit *m_name;
    QDoubleSpinBox *m_size;
    QComboBox *m_unit;
    QLabel *m_file;
    QLabel *m_limit;
    StatusLine *m_status;
    uint64_t m_bytes = 0;
    bool m_valid = false;
    bool m_sizeChosen = false;
};

// ---- Passphrase ----------------------------------------------------------------------------------

class PassphraseStep : public QWizardPage
{
    Q_OBJECT

public:
    PassphraseStep()
        : m_fields(new NewPassphraseFields(this))
    {
        setTitle(tr("Passphrase"));
        setSubTitle(tr("The passphrase opens the vault. Nobody can recover a forgotten one, Coffer neither: "
                       "choose one you will remember, or write it down and keep it safe."));
        m_fields->setObjectName(QStringLiteral("newPassphraseFields"));
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_fields);
        layout->addStretch(1);
        connect(m_fields, &NewPassphraseFields::acceptableChanged, this, &QWizardPage::completeChanged);
    }

    NewPassphraseFields *fields() const { return m_fields; }
    bool isComplete() const override { return m_fields->isAcceptable(); }

private:
    NewPassphraseFields *m_fields;
};

// ---- Key file ------------------------------------------------------------------------------------

class KeyFileStep : public QWizardPage
{
    Q_OBJECT

public:
    KeyFileStep(MediumStep *medium, NameSizeStep *name)
        : m_medium(medium)
        , m_name(name)
        , m_use(named(new QCheckBox(tr("Also open the vault with a &key file"), this), tr("Also open the vault with a key file")))
        , m_chooser(new KeyFileChooser(this))
    {
        setTitle(tr("Key file (optional)"));
        setSubTitle(tr("A key file is a second way in: Coffer can open the vault with it without asking "
                       "for the passphrase, for example to back up as soon as the drive is plugged in."));
        m_use->setObjectName(QStringLiteral("useKeyFile"));
        m_chooser->setObjectName(QStringLiteral("keyFileChooser"));
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_use);
        layout->addWidget(m_chooser);
        layout->addStretch(1);
        m_chooser->setEnabled(false);
        connect(m_use, &QCheckBox::toggled, m_chooser, &QWidget::setEnabled);
        connect(m_use, &QCheckBox::toggled, this, &QWizardPage::completeChanged);
        connect(m_chooser, &KeyFileChooser::changed, this, &QWizardPage::completeChanged);
    }

    void initializePage() override
    {
        // Beside the person's home, never beside the vault.
        if (!m_suggested || m_chooser->newPath()->text() == m_lastSuggestion) {
            m_lastSuggestion = QDir::homePath() + QLatin1Char('/') + m_name->name() + QStringLiteral(".coffer-key");
            m_chooser->setSuggestedNewPath(m_lastSuggestion);
            m_suggested = true;
        }
        m_chooser->setVaultLocation(m_medium->location().folder);
    }

    bool usesKeyFile() const { return m_use->isChecked(); }
    KeyFileChooser *chooser() const { return m_chooser; }
    bool isComplete() const override { return !m_use->isChecked() || m_chooser->isValid(); }

private:
    MediumStep *m_medium;
    NameSizeStep *m_name;
    QCheckBox *m_use;
    KeyFileChooser *m_chooser;
    QString m_lastSuggestion;
    bool m_suggested = false;
};

// ---- Folders -------------------------------------------------------------------------------------

class FoldersStep : public QWizardPage
{
    Q_OBJECT

public:
    FoldersStep()
        : m_folders(named(new QListWidget(this), tr("Folders to back up")))
        , m_excludes(named(new QPlainTextEdit(this), tr("Leave out")))
        , m_status(new StatusLine(this))
    {
        setTitle(tr("What to back up"));
        setSubTitle(tr("The folders go into the vault, each under its own name. Patterns below leave "
                       "files out (one per line, as rsync's --exclude: *.tmp, cache/, /build/)."));
        m_folders->setObjectName(QStringLiteral("folders"));
        m_excludes->setObjectName(QStringLiteral("excludes"));
        m_status->setObjectName(QStringLiteral("foldersStatus"));
        auto *add = makeButton(tr("&Add folder…"), this);
        add->setObjectName(QStringLiteral("addFolder"));
        auto *remove = makeButton(tr("&Remove"), this);
        remove->setObjectName(QStringLiteral("removeFolder"));
        remove->setAccessibleName(tr("Remove the selected folder"));
        m_excludes->setPlaceholderText(tr("*.tmp"));
        m_excludes->setTabChangesFocus(true);
        m_excludes->setMaximumHeight(90);

        auto *layout = new QVBoxLayout(this);
        layout->addWidget(makeBuddyLabel(tr("&Folders:"), m_folders, this));
        auto *row = new QHBoxLayout;
        row->addWidget(m_folders, 1);
        auto *buttons = new QVBoxLayout;
        buttons->addWidget(add);
        buttons->addWidget(remove);
        buttons->addStretch(1);
        row->addLayout(buttons);
        layout->addLayout(row, 1);
        layout->addWidget(makeBuddyLabel(tr("&Leave out:"), m_excludes, this));
        layout->addWidget(m_excludes);
        layout->addWidget(m_status);

        // What people keep their secrets in, when they have it.
        for (const char *suggestion : {".ssh", ".gnupg", ".password-store"}) {
            const QString path = QDir::homePath() + QLatin1Char('/') + QLatin1String(suggestion);
            if (QFileInfo(path).isDir())
                addFolder(path);
        }
        connect(add, &QPushButton::clicked, this, [this] {
            const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a folder to back up"), QDir::homePath());
            if (!dir.isEmpty())
                addFolder(dir);
        });
        connect(remove, &QPushButton::clicked, this, [this] {
            delete m_folders->currentItem();
            evaluate();
        });
        connect(m_folders, &QListWidget::itemChanged, this, &FoldersStep::evaluate);
        evaluate();
    }

    void addFolder(const QString &path)
    {
        const QString clean = QDir::cleanPath(path);
        for (int i = 0; i < m_folders->count(); ++i) {
            if (m_folders->item(i)->data(Qt::UserRole).toString() == clean) {
                m_folders->item(i)->setCheckState(Qt::Checked);
                return;
            }
        }
        auto *item = new QListWidgetItem(clean, m_folders);
        item->setData(Qt::UserRole, clean);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Checked);
        m_folders->setCurrentItem(item);
        evaluate();
    }

    std::vector<std::string> sources() const
    {
        std::vector<std::string> out;
        for (int i = 0; i < m_folders->count(); ++i) {
            if (m_folders->item(i)->checkState() == Qt::Checked)
                out.push_back(localPath(m_folders->item(i)->data(Qt::UserRole).toString()));
        }
        return out;
    }

    std::vector<std::string> excludes() const
    {
        std::vector<std::string> out;
        for (const QString &line : m_excludes->toPlainText().split(u'\n')) {
            if (!line.trimmed().isEmpty())
                out.push_back(line.trimmed().toStdString());
        }
        return out;
    }

    bool isComplete() const override { return m_valid; }

private:
    void evaluate()
    {
        m_valid = false;
        const std::vector<std::string> chosen = sources();
        if (chosen.empty()) {
            m_status->setMessage(StatusLine::Kind::Info, tr("Add a folder to back up."));
        } else {
            try {
                Create::sourcesFor(chosen);
                m_valid = true;
                m_status->clear();
            } catch (const Error &e) {
                m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
            }
        }
        emit completeChanged();
    }

    QListWidget *m_folders;
    QPlainTextEdit *m_excludes;
    StatusLine *m_status;
    bool m_valid = false;
};

// ---- Mode ----------------------------------------------------------------------------------------

class ModeStep : public QWizardPage
{
    Q_OBJECT

public:
    ModeStep()
        : m_mirror(named(new QRadioButton(tr("&Mirror: one copy, the same as the folders at the last backup"), this),
                         tr("Mirror")))
        , m_snapshots(named(new QRadioButton(tr("&Snapshots: earlier versions too (unchanged files take no room)"), this),
                            tr("Snapshots")))
        , m_keepLast(named(new QSpinBox(this), tr("Keep the last")))
        , m_keepDaily(named(new QSpinBox(this), tr("Keep one a day, for days")))
        , m_keepWeekly(named(new QSpinBox(this), tr("Keep one a week, for weeks")))
    {
        setTitle(tr("How to keep them"));
        setSubTitle(tr("A mirror is simplest. Snapshots let you go back to how a file was before a mistake."));
        m_mirror->setObjectName(QStringLiteral("mirror"));
        m_snapshots->setObjectName(QStringLiteral("snapshots"));
        m_keepLast->setObjectName(QStringLiteral("keepLast"));
        m_keepDaily->setObjectName(QStringLiteral("keepDaily"));
        m_keepWeekly->setObjectName(QStringLiteral("keepWeekly"));
        auto *group = new QButtonGroup(this);
        group->addButton(m_mirror);
        group->addButton(m_snapshots);
        m_mirror->setChecked(true);
        for (QSpinBox *box : {m_keepLast, m_keepDaily, m_keepWeekly})
            box->setRange(0, int(Helper1::maxKeepCount));
        m_keepLast->setValue(10);
        m_keepDaily->setValue(7);
        m_keepWeekly->setValue(4);
        m_keepLast->setSpecialValueText(tr("no rule"));
        m_keepDaily->setSpecialValueText(tr("no rule"));
        m_keepWeekly->setSpecialValueText(tr("no rule"));

        auto *retention = new QGroupBox(tr("Which snapshots to keep"), this);
        auto *form = new QFormLayout(retention);
        form->addRow(makeBuddyLabel(tr("The &last:"), m_keepLast, retention), m_keepLast);
        form->addRow(makeBuddyLabel(tr("One a &day, for days:"), m_keepDaily, retention), m_keepDaily);
        form->addRow(makeBuddyLabel(tr("One a &week, for weeks:"), m_keepWeekly, retention), m_keepWeekly);
        auto *note = new QLabel(tr("A snapshot any rule keeps stays; with no rule at all, every snapshot stays."), retention);
        note->setWordWrap(true);
        form->addRow(note);

        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_mirror);
        layout->addWidget(m_snapshots);
        layout->addWidget(retention);
        layout->addStretch(1);
        retention->setEnabled(false);
        connect(m_snapshots, &QRadioButton::toggled, retention, &QWidget::setEnabled);
    }

    Sync::Mode mode() const { return m_snapshots->isChecked() ? Sync::Mode::Snapshot : Sync::Mode::Mirror; }
    Sync::Retention retention() const
    {
        if (mode() == Sync::Mode::Mirror)
            return {};
        return {m_keepLast->value(), m_keepDaily->value(), m_keepWeekly->value()};
    }

private:
    QRadioButton *m_mirror;
    QRadioButton *m_snapshots;
    QSpinBox *m_keepLast;
    QSpinBox *m_keepDaily;
    QSpinBox *m_keepWeekly;
};

// ---- Preview -------------------------------------------------------------------------------------

class PreviewStep : public QWizardPage
{
    Q_OBJECT

public:
    PreviewStep(NameSizeStep *size, FoldersStep *folders, ModeStep *mode)
        : m_size(size)
        , m_folders(folders)
        , m_mode(mode)
        , m_busy(named(new QProgressBar(this), tr("Looking at the folders")))
        , m_status(new StatusLine(this))
        , m_grow(makeButton(QString(), this))
        , m_plan(new PlanView(this))
    {
        setTitle(tr("What goes in"));
        setSubTitle(tr("A trial run over your folders: nothing is written yet."));
        m_busy->setObjectName(QStringLiteral("previewProgress"));
        m_status->setObjectName(QStringLiteral("previewStatus"));
        m_grow->setObjectName(QStringLiteral("growToFit"));
        m_plan->setObjectName(QStringLiteral("planView"));
        m_busy->setRange(0, 0);
        m_busy->setFocusPolicy(Qt::NoFocus);
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_busy);
        layout->addWidget(m_plan, 1);
        auto *row = new QHBoxLayout;
        row->addWidget(m_status, 1);
        row->addWidget(m_grow, 0, Qt::AlignTop);
        layout->addLayout(row);
        m_grow->setVisible(false);
        connect(m_grow, &QPushButton::clicked, this, [this] {
            m_size->setSize(m_preview->sizeToFit);
            run();
        });
    }

    ~PreviewStep() override { stop(); }

    void initializePage() override { run(); }
    void cleanupPage() override { stop(); }
    bool isComplete() const override { return m_preview && m_preview->fits; }
    const std::optional<Create::Preview> &preview() const { return m_preview; }

private:
    void stop()
    {
        if (m_cancel)
            m_cancel->store(true);
        m_cancel.reset();
    }

    void run()
    {
        stop();
        m_preview.reset();
        m_plan->clear();
        m_grow->setVisible(false);
        m_busy->setVisible(true);
        m_status->setMessage(StatusLine::Kind::Info, tr("Looking at your folders…"));
        emit completeChanged();
        auto cancel = std::make_shared<std::atomic<bool>>(false);
        m_cancel = cancel;
        const std::vector<std::string> sources = m_folders->sources();
        const std::vector<std::string> excludes = m_folders->excludes();
        const Sync::Mode mode = m_mode->mode();
        const uint64_t size = m_size->size();
        runInBackground<Create::Preview>(
            this, [=] { return Create::preview(sources, mode, excludes, size, cancel.get()); },
            [this, cancel](Create::Preview p) {
                if (m_cancel != cancel)
                    return; // an earlier run's answer
                m_busy->setVisible(false);
                m_plan->setPlan(p.dryRun, p.needed, p.usable, p.fits);
                if (p.fits) {
                    m_status->clear();
                } else {
                    m_status->setMessage(StatusLine::Kind::Error,
                                         tr("Choose a vault of at least %1, or fewer folders (Back).").arg(Texts::bytes(p.sizeToFit)));
                    m_grow->setText(tr("&Make it %1").arg(Texts::bytes(p.sizeToFit)));
                    m_grow->setAccessibleName(tr("Make the vault %1").arg(Texts::bytes(p.sizeToFit)));
                    m_grow->setVisible(true);
                }
                m_preview = std::move(p);
                emit completeChanged();
            },
            [this, cancel](const Error &e) {
                if (m_cancel != cancel)
                    return;
                m_busy->setVisible(false);
                m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
            });
    }

    NameSizeStep *m_size;
    FoldersStep *m_folders;
    ModeStep *m_mode;
    QProgressBar *m_busy;
    StatusLine *m_status;
    QPushButton *m_grow;
    PlanView *m_plan;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::optional<Create::Preview> m_preview;
};

// ---- When ----------------------------------------------------------------------------------------

class TriggerStep : public QWizardPage
{
    Q_OBJECT

public:
    TriggerStep()
        : m_ask(named(new QRadioButton(tr("&Ask me each time"), this), tr("Ask me each time")))
        , m_backup(named(new QRadioButton(tr("Back up at &once"), this), tr("Back up at once")))
        , m_manual(named(new QRadioButton(tr("Do nothing; I start backups &myself"), this),
                         tr("Do nothing; I start backups myself")))
    {
        setTitle(tr("When the drive is plugged in"));
        setSubTitle(tr("What Coffer does when it sees this vault's drive."));
        m_ask->setObjectName(QStringLiteral("triggerAsk"));
        m_backup->setObjectName(QStringLiteral("triggerBackup"));
        m_manual->setObjectName(QStringLiteral("triggerManual"));
        auto *group = new QButtonGroup(this);
        for (QRadioButton *b : {m_ask, m_backup, m_manual})
            group->addButton(b);
        m_ask->setChecked(true);
        auto *note = new QLabel(tr("Backing up at once asks for the passphrase, unless a key file opens the vault."), this);
        note->setWordWrap(true);
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_ask);
        layout->addWidget(m_backup);
        layout->addWidget(m_manual);
        layout->addWidget(note);
        layout->addStretch(1);
    }

    Config::Trigger trigger() const
    {
        return m_backup->isChecked() ? Config::Trigger::Backup
            : m_manual->isChecked()  ? Config::Trigger::Manual
                                     : Config::Trigger::Ask;
    }

private:
    QRadioButton *m_ask;
    QRadioButton *m_backup;
    QRadioButton *m_manual;
};

// ---- Summary -------------------------------------------------------------------------------------

class SummaryStep : public QWizardPage
{
    Q_OBJECT

public:
    explicit SummaryStep(std::function<QString()> describe)
        : m_describe(std::move(describe))
        , m_summary(new QLabel(this))
    {
        setTitle(tr("Ready to make the vault"));
        setSubTitle(tr("Check what Coffer is about to do; Back changes it."));
        m_summary->setObjectName(QStringLiteral("summary"));
        m_summary->setWordWrap(true);
        m_summary->setTextFormat(Qt::PlainText);
        m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
        m_summary->setFocusPolicy(Qt::StrongFocus);
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_summary);
        layout->addStretch(1);
        setButtonText(QWizard::NextButton, tr("&Create"));
    }

    void initializePage() override
    {
        m_summary->setText(m_describe());
        m_summary->setAccessibleName(tr("Summary"));
        m_summary->setAccessibleDescription(m_summary->text());
    }

private:
    std::function<QString()> m_describe;
    QLabel *m_summary;
};

// ---- Create --------------------------------------------------------------------------------------

// The last page: the helper makes the vault; then it is registered, its header is saved off the
// drive and the first backup is offered.
class CreatingStep : public QWizardPage
{
    Q_OBJECT

public:
    struct Inputs
    {
        MediumStep *medium;
        NameSizeStep *nameSize;
        PassphraseStep *passphrase;
        KeyFileStep *keyFile;
        FoldersStep *folders;
        ModeStep *mode;
        TriggerStep *trigger;
    };

    CreatingStep(CreateWizard *wizard, const Inputs &inputs)
        : m_wizard(wizard)
        , m_in(inputs)
        , m_progress(named(new QProgressBar(this), tr("Making the vault")))
        , m_status(new StatusLine(this))
        , m_header(new StatusLine(this))
        , m_backUpNow(named(new QCheckBox(tr("Back &up now"), this), tr("Back up now")))
        , m_goBack(makeButton(tr("&Go back and change it"), this))
    {
        setTitle(tr("Making the vault"));
        setSubTitle(tr("The helper writes the vault's header and filesystem into the file."));
        m_progress->setObjectName(QStringLiteral("createProgress"));
        m_status->setObjectName(QStringLiteral("createStatus"));
        m_header->setObjectName(QStringLiteral("headerStatus"));
        m_backUpNow->setObjectName(QStringLiteral("backUpNow"));
        m_goBack->setObjectName(QStringLiteral("goBack"));
        m_progress->setRange(0, 1000);
        m_progress->setFocusPolicy(Qt::NoFocus);
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_progress);
        layout->addWidget(m_status);
        layout->addWidget(m_header);
        layout->addWidget(m_backUpNow);
        layout->addWidget(m_goBack, 0, Qt::AlignLeft);
        layout->addStretch(1);
        m_backUpNow->setChecked(true);
        m_backUpNow->setVisible(false);
        m_goBack->setVisible(false);
        connect(m_goBack, &QPushButton::clicked, wizard, &QWizard::back);
    }

    void initializePage() override { start(); }
    void cleanupPage() override
    {
        m_status->clear();
        m_header->clear();
        m_goBack->setVisible(false);
    }
    bool isComplete() const override { return m_done; }
    bool isRunning() const { return m_job != nullptr || m_finishing; }
    bool backUpNow() const { return m_done && m_backUpNow->isChecked(); }
    // Closing was asked for while the helper worked: close once it is done.
    void closeWhenStopped() { m_closeWhenStopped = true; }

    // Asks the helper to stop; the job's end says when it has.
    void cancel()
    {
        if (m_job) {
            m_status->setMessage(StatusLine::Kind::Info, tr("Stopping…"));
            m_job->cancel();
        }
    }

private:
    void start()
    {
        m_done = false;
        setTitle(tr("Making the vault"));
        m_progress->setValue(0);
        m_progress->setVisible(true);
        m_goBack->setVisible(false);
        m_header->clear();
        const Create::FolderCheck &where = m_in.medium->check();
        m_status->setMessage(StatusLine::Kind::Info, where.medium.canSparse
                                                         ? tr("Making the vault…")
                                                         : tr("Writing all %1 of the vault to the drive…")
                                                               .arg(Texts::bytes(m_in.nameSize->size())));
        m_file = localPath(m_in.nameSize->file());
        m_generatedKey.clear();
        Helper1::CreateOptions options;
        options.label = m_in.nameSize->name();
        options.pbkdf = m_wizard->keyDerivation();
        try {
            if (m_in.keyFile->usesKeyFile()) {
                const std::string key = m_in.keyFile->chooser()->prepare();
                if (m_in.keyFile->chooser()->makesNewFile())
                    m_generatedKey = key;
                m_keyFile = key;
                options.keyFile = Client::keyFileFd(key);
            } else {
                m_keyFile.clear();
            }
        } catch (const Error &e) {
            fail(e);
            return;
        }
        m_job = m_wizard->helper()->createVault(m_file, m_in.nameSize->size(),
                                                Client::Secret::passphrase(m_in.passphrase->fields()->secret()), options);
        connect(m_job, &Client::JobHandle::progressChanged, this, [this](const Client::JobProgress &p) {
            m_progress->setValue(int(p.fraction * 1000));
        });
        connect(m_job, &Client::JobHandle::finished, this,
                [this](Helper1::JobOutcome outcome, const std::optional<Error> &error, const Client::JobResult &) {
            m_job = nullptr;
            if (outcome != Helper1::JobOutcome::Ok) {
                fail(error.value_or(Error(ErrorCode::Failed, "The vault could not be made.")));
                return;
            }
            m_progress->setValue(1000);
            created();
        });
        emit completeChanged();
    }

    void fail(const Error &e)
    {
        if (!m_generatedKey.empty())
            ::unlink(m_generatedKey.c_str()); // it opens nothing
        m_progress->setVisible(false);
        setTitle(tr("No vault was made"));
        m_status->setMessage(e.code() == ErrorCode::Cancelled ? StatusLine::Kind::Info : StatusLine::Kind::Error,
                             e.code() == ErrorCode::Cancelled ? tr("Stopped; no vault was made.")
                                                              : tr("The vault was not made: %1")
                                                                    .arg(QString::fromStdString(e.message())));
        m_goBack->setVisible(true);
        m_goBack->setFocus();
        emit completeChanged();
        if (m_closeWhenStopped)
            m_wizard->QWizard::reject();
    }

    // The vault exists: its UUID from its header, the registry entry, the header backup.
    void created()
    {
        std::string uuid;
        {
            const UniqueFd fd(::open(m_file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            char head[Media::luksProbeSize] = {};
            const ssize_t n = fd ? ::pread(fd.get(), head, sizeof head, 0) : -1;
            if (const auto header = Media::parseLuksHeader(std::string_view(head, n > 0 ? size_t(n) : 0)))
                uuid = header->uuid;
        }
        for (char &c : uuid)
            c = char(std::tolower(static_cast<unsigned char>(c)));
        if (uuid.empty()) {
            m_status->setMessage(StatusLine::Kind::Error,
                                 tr("The vault was made, but its header cannot be read back: %1").arg(Texts::fromBytes(m_file)));
            return;
        }
        m_wizard->setCreated(QString::fromStdString(uuid));
        emit m_wizard->vaultCreated(QString::fromStdString(uuid));
        try {
            remember(uuid);
            m_status->setMessage(StatusLine::Kind::Success,
                                 tr("The vault “%1” is ready: %2.").arg(m_in.nameSize->name(), Texts::fromBytes(m_file)));
        } catch (const Error &e) {
            m_status->setMessage(StatusLine::Kind::Warning,
                                 tr("The vault is ready (%1), but Coffer could not remember it: %2")
                                     .arg(Texts::fromBytes(m_file), QString::fromStdString(e.message())));
        }
        saveHeader(uuid);
    }

    void remember(const std::string &uuid)
    {
        Config::VaultEntry entry;
        entry.luksUuid = uuid;
        entry.name = m_in.nameSize->name().toStdString();
        const Location where = m_in.medium->location();
        if (where.medium) {
            entry.medium = Config::mediumRefOf(*where.medium);
            std::string relative = m_file.substr(where.mountPoint.size());
            while (!relative.empty() && relative.front() == '/')
                relative.erase(0, 1);
            entry.path = relative;
        } else {
            entry.path = m_file; // on no drive Coffer knows: the file itself
        }
        entry.sources = m_in.folders->sources();
        entry.excludes = m_in.folders->excludes();
        entry.mode = m_in.mode->mode();
        entry.retention = m_in.mode->retention();
        entry.trigger = m_in.trigger->trigger();
        if (!m_keyFile.empty()) {
            entry.secretSource = Config::SecretSource::KeyFile;
            entry.keyFile = m_keyFile;
        }
        m_wizard->registry()->putVault(entry);
    }

    void saveHeader(const std::string &uuid)
    {
        std::string out;
        try {
            Keys::makeHeaderBackupDirectory();
            out = Keys::automaticHeaderBackupPath(uuid);
        } catch (const Error &e) {
            headerSaved(out, e);
            return;
        }
        m_finishing = true;
        Client::VaultRequest *lookup = m_wizard->helper()->vault(m_file);
        connect(lookup, &Client::Request::finished, this, [this, lookup, out](const std::optional<Error> &error) {
            if (error || !lookup->vault()) {
                headerSaved(out, error);
                return;
            }
            connect(lookup->vault()->backupHeader(out), &Client::Request::finished, this,
                    [this, out](const std::optional<Error> &e) { headerSaved(out, e); });
        });
    }

    void headerSaved(const std::string &out, const std::optional<Error> &error)
    {
        m_finishing = false;
        if (error)
            m_header->setMessage(StatusLine::Kind::Warning,
                                 tr("Coffer could not keep a copy of the vault's header on this computer: %1")
                                     .arg(QString::fromStdString(error->message())));
        else
            m_header->setMessage(StatusLine::Kind::Info,
                                 tr("A copy of the vault's header is kept at %1. If the header on the drive is "
                                    "ever damaged, it saves the vault.").arg(Texts::fromBytes(out)));
        m_progress->setVisible(false);
        m_backUpNow->setVisible(true);
        m_done = true;
        setTitle(tr("The vault is ready"));
        setSubTitle(tr("It is locked now. Its first backup fills it with your folders."));
        m_wizard->setOption(QWizard::NoCancelButtonOnLastPage, true); // Finish is the way out
        emit completeChanged();
        m_backUpNow->setFocus();
        if (m_closeWhenStopped)
            m_wizard->QWizard::reject(); // closed as asked: no backup now
    }

    CreateWizard *m_wizard;
    Inputs m_in;
    QProgressBar *m_progress;
    StatusLine *m_status;
    StatusLine *m_header;
    QCheckBox *m_backUpNow;
    QPushButton *m_goBack;
    QPointer<Client::JobHandle> m_job;
    std::string m_file;
    std::string m_keyFile;
    std::string m_generatedKey;
    bool m_done = false;
    bool m_finishing = false;
    bool m_closeWhenStopped = false;
};

} // namespace

// ---- the wizard ----------------------------------------------------------------------------------

CreateWizard::CreateWizard(Client::HelperClient *helper, Config::Registry *registry, Media::MediaMonitor *media,
                           QWidget *parent)
    : QWizard(parent)
    , m_helper(helper)
    , m_registry(registry)
    , m_media(media)
{
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowTitle(tr("New vault"));
    setWizardStyle(QWizard::ModernStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoCancelButtonOnLastPage, false);
    setMinimumSize(680, 560);

    auto *medium = new MediumStep(this);
    auto *nameSize = new NameSizeStep(this, medium);
    auto *passphrase = new PassphraseStep;
    auto *keyFile = new KeyFileStep(medium, nameSize);
    auto *folders = new FoldersStep;
    auto *mode = new ModeStep;
    auto *preview = new PreviewStep(nameSize, folders, mode);
    auto *trigger = new TriggerStep;
    auto *summary = new SummaryStep([=] {
        QStringList lines;
        lines << tr("Vault: “%1”, %2 (holds about %3)")
                     .arg(nameSize->name(), Texts::bytes(nameSize->size()), Texts::bytes(Create::usableBytes(nameSize->size())));
        lines << tr("File: %1").arg(nameSize->file());
        lines << (keyFile->usesKeyFile() ? (keyFile->chooser()->makesNewFile()
                                                ? tr("Opens with: the passphrase, or a new key file saved as %1")
                                                : tr("Opens with: the passphrase, or the key file %1"))
                                               .arg(keyFile->chooser()->path())
                                         : tr("Opens with: the passphrase"));
        QStringList names;
        for (const std::string &s : folders->sources())
            names << Texts::fromBytes(s);
        lines << tr("Backs up: %1").arg(names.join(QStringLiteral(", ")));
        if (!folders->excludes().empty()) {
            QStringList patterns;
            for (const std::string &p : folders->excludes())
                patterns << QString::fromStdString(p);
            lines << tr("Leaves out: %1").arg(patterns.join(QStringLiteral(" ")));
        }
        lines << (mode->mode() == Sync::Mode::Mirror ? tr("Keeps: a mirror") : tr("Keeps: snapshots"));
        if (preview->preview())
            lines << tr("First backup: %1 to copy").arg(Texts::bytes(preview->preview()->dryRun.plan.bytesToWrite));
        const Config::Trigger t = trigger->trigger();
        lines << (t == Config::Trigger::Ask      ? tr("When plugged in: ask")
                  : t == Config::Trigger::Backup ? tr("When plugged in: back up at once")
                                                 : tr("When plugged in: nothing"));
        return lines.join(u'\n');
    });
    auto *creating = new CreatingStep(this, {medium, nameSize, passphrase, keyFile, folders, mode, trigger});
    setPage(MediumPage, medium);
    setPage(NameSizePage, nameSize);
    setPage(PassphrasePage, passphrase);
    setPage(KeyFilePage, keyFile);
    setPage(FoldersPage, folders);
    setPage(ModePage, mode);
    setPage(PreviewPage, preview);
    setPage(TriggerPage, trigger);
    setPage(SummaryPage, summary);
    setPage(CreatingPage, creating);
    setStartId(MediumPage);

    // Every button of the wizard is named for screen readers by what it says.
    for (WizardButton b : {BackButton, NextButton, CommitButton, FinishButton, CancelButton, HelpButton})
        named(button(b), buttonText(b));
    connect(this, &QWizard::currentIdChanged, this, [this] {
        for (WizardButton b : {BackButton, NextButton, CommitButton, FinishButton, CancelButton})
            named(button(b), buttonText(b));
    });
}

CreateWizard::~CreateWizard() = default;

void CreateWizard::setMediumProbe(Create::MediumProbe probe)
{
    m_probe = std::move(probe);
    if (auto *p = qobject_cast<MediumStep *>(page(MediumPage)))
        p->listMedia();
}

void CreateWizard::addFolder(const QString &path)
{
    if (auto *p = qobject_cast<FoldersStep *>(page(FoldersPage)))
        p->addFolder(path);
}

void CreateWizard::reject()
{
    auto *creating = qobject_cast<CreatingStep *>(page(CreatingPage));
    if (creating && currentId() == CreatingPage && creating->isRunning()) {
        creating->closeWhenStopped();
        creating->cancel();
        return;
    }
    QWizard::reject();
}

void CreateWizard::accept()
{
    auto *creating = qobject_cast<CreatingStep *>(page(CreatingPage));
    const bool backUp = creating && creating->backUpNow();
    const QString id = m_createdId;
    QWizard::accept();
    if (backUp)
        emit firstBackupRequested(id);
}

} // namespace Coffer::Ui

#include "createwizard.moc"
