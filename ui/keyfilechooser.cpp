#include "keyfilechooser.h"

#include "keys/placement.h"
#include "keys/recovery.h"
#include "uihelpers.h"

#include <QButtonGroup>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QStyle>

namespace Coffer::Ui {

KeyFileChooser::KeyFileChooser(QWidget *parent)
    : QWidget(parent)
    , m_existing(named(new QRadioButton(tr("Use a key file I &have:"), this), tr("Use a key file I have")))
    , m_new(named(new QRadioButton(tr("Make a new &random key file, saved as:"), this),
                  tr("Make a new random key file")))
    , m_existingPath(named(new QLineEdit(this), tr("Existing key file")))
    , m_newPath(named(new QLineEdit(this), tr("Where to save the new key file")))
    , m_status(new StatusLine(this))
{
    m_existing->setObjectName(QStringLiteral("existingKeyFile"));
    m_new->setObjectName(QStringLiteral("newKeyFile"));
    m_existingPath->setObjectName(QStringLiteral("existingKeyFilePath"));
    m_newPath->setObjectName(QStringLiteral("newKeyFilePath"));
    m_status->setObjectName(QStringLiteral("keyFileStatus"));
    auto *browse = makeButton(tr("Choose &file…"), this);
    browse->setAccessibleName(tr("Choose an existing key file"));
    auto *saveAs = makeButton(tr("Save &as…"), this);
    saveAs->setAccessibleName(tr("Choose where to save the new key file"));
    auto *group = new QButtonGroup(this);
    group->addButton(m_new);
    group->addButton(m_existing);
    m_new->setChecked(true);

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    // The paths sit under their choices, indented past the radio buttons.
    grid->setColumnMinimumWidth(0, style()->pixelMetric(QStyle::PM_ExclusiveIndicatorWidth) + 6);
    grid->setColumnStretch(1, 1);
    grid->addWidget(m_new, 0, 0, 1, 3);
    grid->addWidget(m_newPath, 1, 1);
    grid->addWidget(saveAs, 1, 2);
    grid->addWidget(m_existing, 2, 0, 1, 3);
    grid->addWidget(m_existingPath, 3, 1);
    grid->addWidget(browse, 3, 2);
    grid->addWidget(m_status, 4, 0, 1, 3);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Choose a key file"), m_existingPath->text());
        if (!file.isEmpty()) {
            m_existingPath->setText(file);
            m_existing->setChecked(true);
        }
    });
    connect(saveAs, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getSaveFileName(this, tr("Save the new key file as"), m_newPath->text());
        if (!file.isEmpty()) {
            m_newPath->setText(file);
            m_new->setChecked(true);
        }
    });
    for (QLineEdit *edit : {m_existingPath, m_newPath})
        connect(edit, &QLineEdit::textChanged, this, &KeyFileChooser::evaluate);
    connect(m_new, &QRadioButton::toggled, this, &KeyFileChooser::evaluate);
    evaluate();
}

void KeyFileChooser::setSuggestedNewPath(const QString &path)
{
    m_newPath->setText(path);
}

void KeyFileChooser::setVaultLocation(const QString &path)
{
    m_vaultLocation = path;
    evaluate();
}

bool KeyFileChooser::makesNewFile() const
{
    return m_new->isChecked();
}

QString KeyFileChooser::path() const
{
    return makesNewFile() ? m_newPath->text() : m_existingPath->text();
}

void KeyFileChooser::evaluate()
{
    m_existingPath->setEnabled(!makesNewFile());
    m_newPath->setEnabled(makesNewFile());
    const QString file = path();
    const QFileInfo info(file);
    m_valid = false;
    if (file.isEmpty()) {
        m_status->setMessage(StatusLine::Kind::Info, makesNewFile() ? tr("Say where to save the new key file.")
                                                                    : tr("Choose the key file."));
    } else if (!info.isAbsolute()) {
        m_status->setMessage(StatusLine::Kind::Error, tr("Give the key file's full path."));
    } else if (makesNewFile() && info.exists()) {
        m_status->setMessage(StatusLine::Kind::Error, tr("%1 exists already; choose a new name.").arg(file));
    } else if (makesNewFile() && !info.dir().exists()) {
        m_status->setMessage(StatusLine::Kind::Error, tr("There is no folder %1.").arg(info.dir().path()));
    } else if (!makesNewFile() && !info.isFile()) {
        m_status->setMessage(StatusLine::Kind::Error, tr("There is no file %1.").arg(file));
    } else {
        m_valid = true;
        m_status->clear();
        if (!m_vaultLocation.isEmpty()) {
            try {
                if (Keys::placementOf(localPath(file), localPath(m_vaultLocation)) != Keys::Placement::OtherDrive)
                    m_status->setMessage(StatusLine::Kind::Warning,
                                         tr("The key file would be on the vault's own drive: whoever finds the drive "
                                            "finds the key with it, and losing the drive loses both."));
            } catch (const Error &) {
                // where the vault goes is checked on its own page
            }
        }
        if (makesNewFile() && m_status->text().isEmpty())
            m_status->setMessage(StatusLine::Kind::Info,
                                 tr("%n random bytes are saved there when the vault is made. Keep a copy somewhere safe.",
                                    nullptr, int(Keys::keyFileBytes)));
    }
    emit changed();
}

std::string KeyFileChooser::prepare() const
{
    const std::string file = localPath(path());
    if (makesNewFile())
        Keys::writeKeyFile(file, Keys::generateKeyFileContents());
    return file;
}

} // namespace Coffer::Ui
