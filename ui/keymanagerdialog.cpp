#include "keymanagerdialog.h"

#include "client/request.h"
#include "client/vaulthandle.h"
#include "error.h"
#include "keyfilechooser.h"
#include "keys/headerbackups.h"
#include "keys/placement.h"
#include "keys/recovery.h"
#include "passphrasefields.h"
#include "texts.h"
#include "uihelpers.h"

#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPrintDialog>
#include <QPrinter>
#include <QPushButton>
#include <QTabWidget>
#include <QTextDocument>
#include <QVBoxLayout>

#include <cstdio>

namespace Coffer::Ui {

namespace {

QLabel *explanation(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    return label;
}

} // namespace

KeyManagerDialog::KeyManagerDialog(Client::VaultHandle *vault, const QString &vaultId, const QString &name,
                                   QWidget *parent)
    : QDialog(parent)
    , m_vault(vault)
    , m_id(vaultId)
    , m_name(name)
    , m_current(new SecretField(tr("Current passphrase"), this))
    , m_tabs(new QTabWidget(this))
    , m_status(new StatusLine(this))
{
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowTitle(tr("Keys of “%1”").arg(name));
    m_current->setObjectName(QStringLiteral("current"));
    m_tabs->setObjectName(QStringLiteral("tabs"));
    m_status->setObjectName(QStringLiteral("keyStatus"));
    named(m_tabs, tr("What to change"));

    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    form->addRow(makeBuddyLabel(tr("C&urrent passphrase:"), m_current->passphrase()->lineEdit(), this), m_current);
    layout->addLayout(form);
    layout->addWidget(explanation(tr("Changing a passphrase, adding a key file and making a recovery passphrase "
                                     "need a key that opens the vault now."),
                                  this));
    // No mnemonics on the tabs (Ctrl+Tab goes through them): the letters belong to the controls.
    m_tabs->addTab(makePassphraseTab(), tr("Passphrase"));
    m_tabs->addTab(makeKeyFilesTab(), tr("Key files"));
    m_tabs->addTab(makeHeaderTab(), tr("Header backup"));
    m_tabs->addTab(makeRecoveryTab(), tr("Recovery passphrase"));
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    named(buttons->button(QDialogButtonBox::Close), tr("Close"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_current, &SecretField::changed, this, &KeyManagerDialog::updateActions);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] { m_status->clear(); });
    resize(620, 520);
    updateActions();
}

KeyManagerDialog::~KeyManagerDialog()
{
    m_current->clear();
    m_newPassphrase->clear();
}

QWidget *KeyManagerDialog::makePassphraseTab()
{
    auto *page = new QWidget(m_tabs);
    m_newPassphrase = new NewPassphraseFields(page);
    m_newPassphrase->setObjectName(QStringLiteral("newPassphrase"));
    m_change = makeButton(tr("C&hange Passphrase"), page);
    m_change->setObjectName(QStringLiteral("change"));
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(explanation(tr("The new passphrase replaces the current one in its key slot; the old one "
                                     "stops opening the vault. Key files and other passphrases stay."),
                                  page));
    layout->addWidget(m_newPassphrase);
    layout->addWidget(m_change, 0, Qt::AlignRight);
    layout->addStretch();
    connect(m_newPassphrase, &NewPassphraseFields::acceptableChanged, this, &KeyManagerDialog::updateActions);
    connect(m_change, &QPushButton::clicked, this, &KeyManagerDialog::changePassphrase);
    return page;
}

QWidget *KeyManagerDialog::makeKeyFilesTab()
{
    auto *page = new QWidget(m_tabs);
    m_newKeyFile = new KeyFileChooser(page);
    m_newKeyFile->setObjectName(QStringLiteral("newKeyFile"));
    m_newKeyFile->setVaultLocation(QFile::decodeName(QByteArray::fromStdString(m_vault->file())));
    m_newKeyFile->setSuggestedNewPath(QDir::homePath() + QLatin1Char('/') + m_name + QStringLiteral(".key"));
    m_addKeyFile = makeButton(tr("A&dd Key File"), page);
    m_addKeyFile->setObjectName(QStringLiteral("addKeyFile"));
    m_removeKeyFile = named(new QLineEdit(page), tr("Key file to remove"));
    m_removeKeyFile->setObjectName(QStringLiteral("removeKeyFile"));
    auto *browse = makeButton(tr("Choose fil&e…"), page);
    browse->setAccessibleName(tr("Choose the key file to remove"));
    m_remove = makeButton(tr("Remo&ve Key File"), page);
    m_remove->setObjectName(QStringLiteral("remove"));

    auto *layout = new QVBoxLayout(page);
    layout->addWidget(explanation(tr("Add a key file: the vault then opens with it as well."), page));
    layout->addWidget(m_newKeyFile);
    layout->addWidget(m_addKeyFile, 0, Qt::AlignRight);
    layout->addSpacing(12);
    layout->addWidget(explanation(tr("Remove a key file: it no longer opens the vault (the file itself stays). "
                                     "The vault's last key cannot be removed."),
                                  page));
    auto *row = new QHBoxLayout;
    row->addWidget(makeBuddyLabel(tr("Key file to re&move:"), m_removeKeyFile, page));
    row->addWidget(m_removeKeyFile, 1);
    row->addWidget(browse);
    layout->addLayout(row);
    layout->addWidget(m_remove, 0, Qt::AlignRight);
    layout->addStretch();
    connect(m_newKeyFile, &KeyFileChooser::changed, this, &KeyManagerDialog::updateActions);
    connect(m_removeKeyFile, &QLineEdit::textChanged, this, &KeyManagerDialog::updateActions);
    connect(m_addKeyFile, &QPushButton::clicked, this, &KeyManagerDialog::addKeyFile);
    connect(m_remove, &QPushButton::clicked, this, &KeyManagerDialog::removeKeyFile);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Key file to remove"), m_removeKeyFile->text());
        if (!file.isEmpty())
            m_removeKeyFile->setText(file);
    });
    return page;
}

QWidget *KeyManagerDialog::makeHeaderTab()
{
    auto *page = new QWidget(m_tabs);
    m_headerTarget = named(new QLineEdit(page), tr("Where to save the header backup"));
    m_headerTarget->setObjectName(QStringLiteral("headerTarget"));
    m_headerTarget->setText(QDir::homePath() + QLatin1Char('/') + tr("%1 header backup.img").arg(m_name));
    auto *browse = makeButton(tr("Sa&ve as…"), page);
    browse->setAccessibleName(tr("Choose where to save the header backup"));
    m_saveHeader = makeButton(tr("Save &Header Backup"), page);
    m_saveHeader->setObjectName(QStringLiteral("saveHeader"));

    auto *layout = new QVBoxLayout(page);
    layout->addWidget(explanation(tr("The header holds the vault's key slots. If it is damaged, no passphrase "
                                     "opens the vault again; a copy of it can repair it. Keep the copy away "
                                     "from the drive (it is lost with the drive), and safe: it opens with the "
                                     "keys the vault had when it was saved."),
                                  page));
    auto *row = new QHBoxLayout;
    row->addWidget(makeBuddyLabel(tr("Save &to:"), m_headerTarget, page));
    row->addWidget(m_headerTarget, 1);
    row->addWidget(browse);
    layout->addLayout(row);
    layout->addWidget(m_saveHeader, 0, Qt::AlignRight);
    layout->addStretch();
    connect(m_headerTarget, &QLineEdit::textChanged, this, &KeyManagerDialog::updateActions);
    connect(m_saveHeader, &QPushButton::clicked, this, &KeyManagerDialog::saveHeaderBackup);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getSaveFileName(this, tr("Save the header backup"), m_headerTarget->text(),
                                                          {}, nullptr, QFileDialog::DontConfirmOverwrite);
        if (!file.isEmpty())
            m_headerTarget->setText(file);
    });
    return page;
}

QWidget *KeyManagerDialog::makeRecoveryTab()
{
    auto *page = new QWidget(m_tabs);
    m_generate = makeButton(tr("&Generate Recovery Passphrase"), page);
    m_generate->setObjectName(QStringLiteral("generate"));
    m_recovery = new QLabel(page);
    m_recovery->setObjectName(QStringLiteral("recovery"));
    m_recovery->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_recovery->setAlignment(Qt::AlignCenter);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    mono.setPointSizeF(mono.pointSizeF() * 1.6);
    mono.setBold(true);
    m_recovery->setFont(mono);
    m_recovery->setFrameShape(QFrame::StyledPanel);
    m_recovery->setMargin(12);
    m_recovery->setVisible(false);
    m_print = makeButton(tr("P&rint…"), page);
    m_print->setObjectName(QStringLiteral("print"));
    m_savePdf = makeButton(tr("Save as P&DF…"), page);
    m_savePdf->setObjectName(QStringLiteral("savePdf"));
    m_print->setVisible(false);
    m_savePdf->setVisible(false);

    auto *layout = new QVBoxLayout(page);
    layout->addWidget(explanation(tr("A recovery passphrase is made up by Coffer, added as a key of its own and "
                                     "shown once: print it or save it, and keep the paper somewhere safe, away "
                                     "from the drive. It opens the vault when every other key is lost."),
                                  page));
    layout->addWidget(m_generate, 0, Qt::AlignRight);
    layout->addWidget(m_recovery);
    auto *row = new QHBoxLayout;
    row->addStretch();
    row->addWidget(m_print);
    row->addWidget(m_savePdf);
    layout->addLayout(row);
    layout->addStretch();
    connect(m_generate, &QPushButton::clicked, this, &KeyManagerDialog::addRecoveryPassphrase);
    connect(m_print, &QPushButton::clicked, this, &KeyManagerDialog::printRecoverySheet);
    connect(m_savePdf, &QPushButton::clicked, this, &KeyManagerDialog::saveRecoverySheetAs);
    return page;
}

void KeyManagerDialog::updateActions()
{
    const bool key = !m_current->isEmpty() && !m_busy;
    m_change->setEnabled(key && m_newPassphrase->isAcceptable());
    m_addKeyFile->setEnabled(key && m_newKeyFile->isValid());
    m_remove->setEnabled(!m_busy && !m_removeKeyFile->text().isEmpty());
    m_saveHeader->setEnabled(!m_busy && QDir::isAbsolutePath(m_headerTarget->text()));
    m_generate->setEnabled(key);
}

void KeyManagerDialog::setBusy(bool busy)
{
    m_busy = busy;
    m_current->setEnabled(!busy);
    if (busy)
        m_status->setMessage(StatusLine::Kind::Info, tr("Working… (deriving a key takes a few seconds)"));
    updateActions();
}

std::optional<Client::Secret> KeyManagerDialog::currentKey()
{
    if (m_current->isEmpty()) {
        m_status->setMessage(StatusLine::Kind::Error, tr("Type the current passphrase first (or choose a key file)."));
        m_current->setFocus();
        return std::nullopt;
    }
    return m_current->secret();
}

void KeyManagerDialog::run(Client::Request *request, std::function<void(const std::optional<Error> &)> done)
{
    setBusy(true);
    connect(request, &Client::Request::finished, this, [this, done](const std::optional<Error> &error) {
        setBusy(false);
        m_status->clear();
        done(error);
        if (!error)
            refreshAutomaticHeaderBackup();
        emit operationFinished(!error);
    });
}

void KeyManagerDialog::sayFailure(const Error &error)
{
    if (error.code() == ErrorCode::BadPassphrase) {
        m_status->setMessage(StatusLine::Kind::Error,
                             tr("The current passphrase (or key file) does not open “%1”. Nothing was changed.").arg(m_name));
        m_current->setFocus();
        m_current->passphrase()->lineEdit()->selectAll();
        return;
    }
    m_status->setMessage(StatusLine::Kind::Error,
                         tr("Nothing was changed: %1").arg(QString::fromStdString(error.message())));
}

void KeyManagerDialog::changePassphrase()
{
    const std::optional<Client::Secret> current = currentKey();
    if (!current || !m_newPassphrase->isAcceptable())
        return;
    const Client::Secret replacement = Client::Secret::passphrase(m_newPassphrase->secret());
    run(m_vault->changePassphrase(*current, replacement), [this](const std::optional<Error> &error) {
        if (error) {
            sayFailure(*error);
            return;
        }
        m_current->clear();
        m_newPassphrase->clear();
        m_status->setMessage(StatusLine::Kind::Success,
                             tr("The passphrase of “%1” is changed. The old one no longer opens it.").arg(m_name));
    });
}

void KeyManagerDialog::addKeyFile()
{
    const std::optional<Client::Secret> current = currentKey();
    if (!current)
        return;
    const bool made = m_newKeyFile->makesNewFile();
    std::string path;
    try {
        path = m_newKeyFile->prepare();
    } catch (const Error &e) {
        m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
        return;
    }
    run(m_vault->addKey(*current, Client::Secret::keyFile(path)), [this, made, path](const std::optional<Error> &error) {
        if (error) {
            // A key file made for nothing goes again: it opens nothing.
            if (made)
                std::remove(path.c_str());
            sayFailure(*error);
            return;
        }
        m_status->setMessage(StatusLine::Kind::Success,
                             tr("“%1” now opens with the key file %2 too. Keep it off the drive.")
                                 .arg(m_name, Texts::fromBytes(path)));
    });
}

void KeyManagerDialog::removeKeyFile()
{
    const QString file = m_removeKeyFile->text();
    QMessageBox ask(QMessageBox::Question, tr("Remove the key file?"),
                    tr("After this, %1 no longer opens “%2”. The file itself stays where it is.").arg(file, m_name),
                    QMessageBox::Cancel, this);
    QPushButton *remove = ask.addButton(tr("&Remove"), QMessageBox::DestructiveRole);
    named(remove, tr("Remove"));
    ask.setDefaultButton(QMessageBox::Cancel);
    ask.setObjectName(QStringLiteral("confirmRemove"));
    ask.exec();
    if (ask.clickedButton() != remove)
        return;
    run(m_vault->removeKey(Client::Secret::keyFile(localPath(file))), [this, file](const std::optional<Error> &error) {
        if (error) {
            if (error->code() == ErrorCode::BadPassphrase)
                m_status->setMessage(StatusLine::Kind::Error, tr("%1 is not a key of “%2”. Nothing was changed.").arg(file, m_name));
            else
                sayFailure(*error);
            return;
        }
        m_removeKeyFile->clear();
        m_status->setMessage(StatusLine::Kind::Success, tr("%1 no longer opens “%2”.").arg(file, m_name));
    });
}

void KeyManagerDialog::saveHeaderBackup()
{
    const QString target = QDir::cleanPath(m_headerTarget->text());
    if (QFileInfo::exists(target)) {
        m_status->setMessage(StatusLine::Kind::Error, tr("%1 already exists: choose a new file name.").arg(target));
        return;
    }
    Keys::Placement placement;
    try {
        placement = Keys::placementOf(localPath(target), m_vault->file());
    } catch (const Error &e) {
        m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
        return;
    }
    if (placement == Keys::Placement::SameFilesystem) {
        m_status->setMessage(StatusLine::Kind::Error,
                             tr("%1 is on the vault's own drive: a copy there is lost with the drive, and whoever "
                                "finds the drive finds it too. Choose a place on this computer or another drive.")
                                 .arg(target));
        return;
    }
    if (placement == Keys::Placement::SameDrive) {
        const auto answer = QMessageBox::warning(
            this, tr("Same drive"),
            tr("%1 is on another partition of the drive the vault is on: it is lost with the drive. Save it there "
               "anyway?").arg(target),
            QMessageBox::Save | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Save)
            return;
    }
    run(m_vault->backupHeader(localPath(target)), [this, target](const std::optional<Error> &error) {
        if (error) {
            m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(error->message()));
            return;
        }
        m_status->setMessage(StatusLine::Kind::Success,
                             tr("The header of “%1” is saved in %2. Keep it safe: it opens with today's keys.")
                                 .arg(m_name, target));
    });
}

void KeyManagerDialog::addRecoveryPassphrase()
{
    const std::optional<Client::Secret> current = currentKey();
    if (!current)
        return;
    SecretBuffer generated;
    try {
        generated = Keys::generateRecoveryPassphrase();
    } catch (const Error &e) {
        m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
        return;
    }
    const QString text = QString::fromLatin1(generated.data(), qsizetype(generated.size()));
    run(m_vault->addKey(*current, Client::Secret::passphrase(std::move(generated))),
        [this, text](const std::optional<Error> &error) {
            if (error) {
                sayFailure(*error);
                return;
            }
            m_current->clear();
            m_recovery->setText(text);
            m_recovery->setAccessibleName(tr("Recovery passphrase: %1").arg(text));
            m_recovery->setVisible(true);
            m_print->setVisible(true);
            m_savePdf->setVisible(true);
            m_generate->setVisible(false);
            m_status->setMessage(StatusLine::Kind::Success,
                                 tr("The recovery passphrase opens “%1” from now on. It is shown only until this "
                                    "window closes: print it or save it now.").arg(m_name));
            m_print->setFocus();
        });
}

QString KeyManagerDialog::shownRecoveryPassphrase() const
{
    return m_recovery->isVisible() ? m_recovery->text() : QString();
}

namespace {

void renderSheet(QPrinter *printer, const QString &name, const QString &passphrase)
{
    QTextDocument sheet;
    const QString html =
        QStringLiteral("<h1>%1</h1><p>%2</p><p style=\"font-family: monospace; font-size: 20pt\"><b>%3</b></p>"
                       "<p>%4</p><p>%5</p>")
            .arg(KeyManagerDialog::tr("Coffer recovery passphrase").toHtmlEscaped(),
                 KeyManagerDialog::tr("Vault: “%1”, made on %2.")
                     .arg(name, QLocale().toString(QDate::currentDate(), QLocale::LongFormat))
                     .toHtmlEscaped(),
                 passphrase.toHtmlEscaped(),
                 KeyManagerDialog::tr("Type it exactly as printed, dashes included, where Coffer asks for the "
                                      "passphrase.").toHtmlEscaped(),
                 KeyManagerDialog::tr("Keep this sheet somewhere safe and away from the drive: whoever has it "
                                      "and the drive can read the vault.").toHtmlEscaped());
    sheet.setHtml(html);
    sheet.print(printer);
}

} // namespace

void KeyManagerDialog::saveRecoverySheet(const QString &path) const
{
    QPrinter printer(QPrinter::HighResolution);
    printer.setOutputFormat(QPrinter::PdfFormat);
    printer.setOutputFileName(path);
    printer.setDocName(tr("Coffer recovery passphrase"));
    renderSheet(&printer, m_name, m_recovery->text());
    if (!QFileInfo(path).isFile() || QFileInfo(path).size() == 0)
        throw Error(ErrorCode::Failed, tr("Could not write %1.").arg(path).toStdString());
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
}

void KeyManagerDialog::printRecoverySheet()
{
    QPrinter printer(QPrinter::HighResolution);
    QPrintDialog dialog(&printer, this);
    dialog.setWindowTitle(tr("Print the recovery passphrase"));
    if (dialog.exec() == QDialog::Accepted)
        renderSheet(&printer, m_name, m_recovery->text());
}

void KeyManagerDialog::saveRecoverySheetAs()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save the recovery passphrase"),
        QDir::homePath() + QLatin1Char('/') + tr("%1 recovery passphrase.pdf").arg(m_name), tr("PDF (*.pdf)"));
    if (path.isEmpty())
        return;
    try {
        saveRecoverySheet(path);
        m_status->setMessage(StatusLine::Kind::Success,
                             tr("Saved in %1. Print it, or keep it off the drive, and delete other copies.").arg(path));
    } catch (const Error &e) {
        m_status->setMessage(StatusLine::Kind::Error, QString::fromStdString(e.message()));
    }
}

void KeyManagerDialog::refreshAutomaticHeaderBackup()
{
    std::string path;
    try {
        path = Keys::automaticHeaderBackupPath(m_id.toLower().toStdString());
    } catch (const Error &) {
        return; // no UUID known: no automatic backup either
    }
    if (!QFileInfo::exists(QFile::decodeName(QByteArray::fromStdString(path))))
        return;
    // The new copy under a temporary name, renamed over the old one once it is whole.
    const std::string fresh = path + ".new";
    std::remove(fresh.c_str());
    connect(m_vault->backupHeader(fresh), &Client::Request::finished, this,
            [path, fresh](const std::optional<Error> &error) {
                if (error || std::rename(fresh.c_str(), path.c_str()) != 0)
                    std::remove(fresh.c_str());
            });
}

} // namespace Coffer::Ui
