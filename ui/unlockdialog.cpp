#include "unlockdialog.h"

#include "block/secretbuffer.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace Coffer::Ui {

UnlockDialog::UnlockDialog(const QString &vaultName, const QString &driveName, QWidget *parent)
    : QDialog(parent)
    , m_usePassphrase(new QRadioButton(tr("&Passphrase:"), this))
    , m_useKeyFile(new QRadioButton(tr("&Key file:"), this))
    , m_passphrase(new QLineEdit(this))
    , m_show(new QCheckBox(tr("&Show"), this))
    , m_capsLock(new QLabel(tr("Caps Lock is on."), this))
    , m_keyFile(new QLineEdit(this))
    , m_browse(new QPushButton(tr("&Browse…"), this))
    , m_remember(new QCheckBox(tr("&Remember in the keyring"), this))
    , m_error(new QLabel(this))
    , m_status(new QLabel(this))
    , m_buttons(new QDialogButtonBox(this))
    , m_unlock(m_buttons->addButton(tr("&Unlock"), QDialogButtonBox::AcceptRole))
{
    setObjectName(QStringLiteral("unlockDialog"));
    setWindowTitle(tr("Unlock “%1”").arg(vaultName));
    auto *intro = new QLabel(driveName.isEmpty()
                                 ? tr("Unlock the vault “%1”.").arg(vaultName.toHtmlEscaped())
                                 : tr("Unlock the vault “%1” on %2.").arg(vaultName.toHtmlEscaped(),
                                                                          driveName.toHtmlEscaped()),
                             this);
    intro->setTextFormat(Qt::PlainText);
    intro->setWordWrap(true);

    m_usePassphrase->setChecked(true);
    m_usePassphrase->setAccessibleName(tr("Use a passphrase"));
    m_useKeyFile->setAccessibleName(tr("Use a key file"));
    m_passphrase->setObjectName(QStringLiteral("passphrase"));
    m_passphrase->setEchoMode(QLineEdit::Password);
    m_passphrase->setAccessibleName(tr("Passphrase"));
    m_passphrase->setInputMethodHints(Qt::ImhHiddenText | Qt::ImhNoPredictiveText | Qt::ImhNoAutoUppercase);
    m_passphrase->installEventFilter(this);
    m_show->setObjectName(QStringLiteral("showPassphrase"));
    m_show->setAccessibleName(tr("Show the passphrase"));
    m_capsLock->setObjectName(QStringLiteral("capsLockWarning"));
    m_capsLock->setAccessibleName(tr("Caps Lock warning"));
    m_capsLock->setStyleSheet(QStringLiteral("color: #a15c00;"));
    m_capsLock->hide();
    m_keyFile->setObjectName(QStringLiteral("keyFile"));
    m_keyFile->setAccessibleName(tr("Key file"));
    m_keyFile->setPlaceholderText(tr("A file whose contents open the vault"));
    m_browse->setAccessibleName(tr("Choose the key file"));
    m_remember->setObjectName(QStringLiteral("remember"));
    m_remember->setAccessibleName(tr("Remember the passphrase in the keyring"));
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setAccessibleName(tr("Error"));
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c01c28;"));
    m_error->hide();
    m_status->setAccessibleName(tr("Status"));
    m_status->hide();
    m_unlock->setObjectName(QStringLiteral("unlockButton"));
    m_unlock->setDefault(true);
    m_unlock->setAccessibleName(tr("Unlock"));
    QPushButton *cancel = m_buttons->addButton(QDialogButtonBox::Cancel);
    cancel->setAccessibleName(tr("Cancel"));

    auto *grid = new QGridLayout;
    grid->addWidget(m_usePassphrase, 0, 0);
    grid->addWidget(m_passphrase, 0, 1);
    grid->addWidget(m_show, 0, 2);
    grid->addWidget(m_capsLock, 1, 1, 1, 2);
    grid->addWidget(m_useKeyFile, 2, 0);
    grid->addWidget(m_keyFile, 2, 1);
    grid->addWidget(m_browse, 2, 2);
    grid->setColumnStretch(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(grid);
    layout->addWidget(m_remember);
    layout->addWidget(m_error);
    layout->addWidget(m_status);
    layout->addStretch();
    layout->addWidget(m_buttons);
    setMinimumWidth(460);

    connect(m_show, &QCheckBox::toggled, this, [this](bool show) {
        m_passphrase->setEchoMode(show ? QLineEdit::Normal : QLineEdit::Password);
    });
    connect(m_usePassphrase, &QRadioButton::toggled, this, &UnlockDialog::updateMode);
    connect(m_browse, &QPushButton::clicked, this, &UnlockDialog::chooseKeyFile);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &UnlockDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &UnlockDialog::reject);
    updateMode();
    m_passphrase->setFocus();
}

void UnlockDialog::setRememberOffered(bool offered, bool checked)
{
    m_remember->setVisible(offered);
    m_remember->setChecked(offered && checked);
}

void UnlockDialog::setKeyFile(const QString &path)
{
    m_keyFile->setText(path);
    m_useKeyFile->setChecked(true);
}

void UnlockDialog::setBusy(bool busy)
{
    for (QWidget *w : std::initializer_list<QWidget *>{m_usePassphrase, m_useKeyFile, m_show, m_remember, m_unlock})
        w->setEnabled(!busy);
    m_passphrase->setEnabled(!busy && m_usePassphrase->isChecked());
    m_keyFile->setEnabled(!busy && m_useKeyFile->isChecked());
    m_browse->setEnabled(!busy && m_useKeyFile->isChecked());
    m_status->setText(busy ? tr("Unlocking…") : QString());
    m_status->setVisible(busy);
    if (busy)
        m_error->hide();
}

void UnlockDialog::showError(const QString &message)
{
    setBusy(false);
    m_error->setText(message);
    m_error->show();
    if (m_usePassphrase->isChecked()) {
        m_passphrase->clear();
        m_passphrase->setFocus();
    } else {
        m_keyFile->setFocus();
        m_keyFile->selectAll();
    }
}

bool UnlockDialog::isCapsLockWarningShown() const
{
    return !m_capsLock->isHidden();
}

QString UnlockDialog::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

bool UnlockDialog::usesKeyFile() const
{
    return m_useKeyFile->isChecked();
}

void UnlockDialog::updateMode()
{
    const bool passphrase = m_usePassphrase->isChecked();
    m_passphrase->setEnabled(passphrase);
    m_show->setEnabled(passphrase);
    m_keyFile->setEnabled(!passphrase);
    m_browse->setEnabled(!passphrase);
    // A key file is not a passphrase to remember.
    m_remember->setEnabled(passphrase);
    m_capsLock->setVisible(passphrase && m_capsLockOn);
    (passphrase ? static_cast<QWidget *>(m_passphrase) : m_keyFile)->setFocus();
}

void UnlockDialog::chooseKeyFile()
{
    const QString file = QFileDialog::getOpenFileName(this, tr("Choose the key file"), m_keyFile->text());
    if (!file.isEmpty())
        m_keyFile->setText(file);
}

void UnlockDialog::submit()
{
    if (m_usePassphrase->isChecked()) {
        if (m_passphrase->text().isEmpty()) {
            showError(tr("Type the vault's passphrase."));
            return;
        }
        QByteArray utf8 = m_passphrase->text().toUtf8();
        Client::Secret secret = Client::Secret::passphrase(SecretBuffer::fromString({utf8.constData(), size_t(utf8.size())}));
        utf8.fill('\0');
        // Out of the widget at once: the line edit's copy is the one Coffer cannot lock.
        m_passphrase->clear();
        setBusy(true);
        Q_EMIT unlockRequested(secret, m_remember->isVisible() && m_remember->isChecked());
        return;
    }
    if (m_keyFile->text().isEmpty()) {
        showError(tr("Choose the key file."));
        return;
    }
    setBusy(true);
    Q_EMIT unlockRequested(Client::Secret::keyFile(QFile::encodeName(m_keyFile->text()).toStdString()), false);
}

void UnlockDialog::setCapsLock(bool on)
{
    m_capsLockOn = on;
    m_capsLock->setVisible(on && m_usePassphrase->isChecked());
}

bool UnlockDialog::eventFilter(QObject *watched, QEvent *event)
{
    // Qt does not tell the Caps Lock state; a letter does: upper case without Shift (or lower
    // case with it) means Caps Lock is on. Caps Lock itself flips what is known.
    if (watched == m_passphrase && event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        const QString text = key->text();
        if (key->key() == Qt::Key_CapsLock) {
            setCapsLock(!m_capsLockOn);
        } else if (text.size() == 1 && text.at(0).isLetter() && text.at(0).isUpper() != text.at(0).isLower()) {
            const bool shift = key->modifiers().testFlag(Qt::ShiftModifier);
            setCapsLock(text.at(0).isUpper() != shift);
        }
    }
    return QDialog::eventFilter(watched, event);
}

} // namespace Coffer::Ui
