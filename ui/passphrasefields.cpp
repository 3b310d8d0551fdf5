#include "passphrasefields.h"

#include "keys/passphrasestrength.h"
#include "uihelpers.h"

#include <QCheckBox>
#include <QColor>
#include <QPalette>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <cstring>

namespace Coffer::Ui {

PassphraseEdit::PassphraseEdit(const QString &accessibleName, QWidget *parent)
    : QWidget(parent)
    , m_edit(named(new QLineEdit(this), accessibleName))
    , m_show(named(new QToolButton(this), tr("Show passphrase")))
    , m_capsLock(named(new QLabel(tr("Caps Lock is on."), this), tr("Caps Lock warning")))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto *row = new QHBoxLayout;
    row->addWidget(m_edit, 1);
    row->addWidget(m_show);
    layout->addLayout(row);
    layout->addWidget(m_capsLock);
    m_capsLock->setObjectName(QStringLiteral("capsLockWarning"));
    m_capsLock->setStyleSheet(QStringLiteral("color: #a15c00;"));
    m_capsLock->hide();
    m_edit->installEventFilter(this);
    m_edit->setEchoMode(QLineEdit::Password);
    m_edit->setInputMethodHints(Qt::ImhHiddenText | Qt::ImhSensitiveData | Qt::ImhNoPredictiveText);
    m_show->setText(tr("Show"));
    m_show->setCheckable(true);
    m_show->setFocusPolicy(Qt::TabFocus);
    setFocusProxy(m_edit);
    connect(m_show, &QToolButton::toggled, this, &PassphraseEdit::setShown);
    connect(m_edit, &QLineEdit::textChanged, this, &PassphraseEdit::textChanged);
}

void PassphraseEdit::setShown(bool shown)
{
    if ((m_edit->echoMode() == QLineEdit::Normal) == shown)
        return;
    m_edit->setEchoMode(shown ? QLineEdit::Normal : QLineEdit::Password);
    if (m_show->isChecked() != shown)
        m_show->setChecked(shown);
    m_show->setText(shown ? tr("Hide") : tr("Show"));
    m_show->setAccessibleName(shown ? tr("Hide passphrase") : tr("Show passphrase"));
    emit shownChanged(shown);
}

bool PassphraseEdit::isCapsLockWarningShown() const
{
    return !m_capsLock->isHidden();
}

void PassphraseEdit::setCapsLock(bool on)
{
    m_capsLockOn = on;
    m_capsLock->setVisible(on && isEnabled());
}

bool PassphraseEdit::eventFilter(QObject *watched, QEvent *event)
{
    // Qt does not tell the Caps Lock state; a letter does: upper case without Shift (or lower
    // case with it) means Caps Lock is on. Caps Lock itself flips what is known.
    if (watched == m_edit && event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        const QString text = key->text();
        if (key->key() == Qt::Key_CapsLock) {
            setCapsLock(!m_capsLockOn);
        } else if (text.size() == 1 && text.at(0).isLetter() && text.at(0).isUpper() != text.at(0).isLower()) {
            const bool shift = key->modifiers().testFlag(Qt::ShiftModifier);
            setCapsLock(text.at(0).isUpper() != shift);
        }
    }
    return QWidget::eventFilter(watched, event);
}

void PassphraseEdit::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::EnabledChange)
        setCapsLock(m_capsLockOn);
    QWidget::changeEvent(event);
}

SecretBuffer PassphraseEdit::secret() const
{
    QByteArray utf8 = m_edit->text().toUtf8();
    SecretBuffer out = SecretBuffer::fromString(std::string_view(utf8.constData(), size_t(utf8.size())));
    std::memset(utf8.data(), 0, size_t(utf8.size()));
    return out;
}

QString weaknessText(int weakness)
{
    switch (Keys::Weakness(weakness)) {
    case Keys::Weakness::TooShort:
        return QObject::tr("Use at least %n characters.", nullptr, Keys::minimumLength);
    case Keys::Weakness::CommonPassword:
        return QObject::tr("It contains a password or word that attackers try first.");
    case Keys::Weakness::Repetition:
        return QObject::tr("It repeats the same characters.");
    case Keys::Weakness::Sequence:
        return QObject::tr("It follows a sequence (abcd, 1234, keyboard rows).");
    case Keys::Weakness::FewKinds:
        return QObject::tr("It uses one kind of character only.");
    case Keys::Weakness::None:
        break;
    }
    return {};
}

NewPassphraseFields::NewPassphraseFields(QWidget *parent)
    : QWidget(parent)
    , m_passphrase(new PassphraseEdit(tr("New passphrase"), this))
    , m_confirmation(new PassphraseEdit(tr("Repeat the passphrase"), this))
    , m_strength(named(new QProgressBar(this), tr("Passphrase strength")))
    , m_status(new StatusLine(this))
{
    m_passphrase->setObjectName(QStringLiteral("newPassphrase"));
    m_confirmation->setObjectName(QStringLiteral("confirmation"));
    m_strength->setObjectName(QStringLiteral("strength"));
    m_status->setObjectName(QStringLiteral("passphraseStatus"));
    m_strength->setRange(0, 100);
    m_strength->setTextVisible(true);
    m_strength->setFocusPolicy(Qt::NoFocus);

    auto *form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(makeBuddyLabel(tr("New &passphrase:"), m_passphrase->lineEdit(), this), m_passphrase);
    form->addRow(makeBuddyLabel(tr("R&epeat it:"), m_confirmation->lineEdit(), this), m_confirmation);
    form->addRow(new QLabel(tr("Strength:"), this), m_strength);
    form->addRow(m_status);
    setFocusProxy(m_passphrase);

    // One Show toggle shows both: the second is typed to check the first.
    connect(m_passphrase, &PassphraseEdit::shownChanged, m_confirmation, &PassphraseEdit::setShown);
    connect(m_confirmation, &PassphraseEdit::shownChanged, m_passphrase, &PassphraseEdit::setShown);
    connect(m_passphrase, &PassphraseEdit::textChanged, this, &NewPassphraseFields::evaluate);
    connect(m_confirmation, &PassphraseEdit::textChanged, this, &NewPassphraseFields::evaluate);
    evaluate();
}

void NewPassphraseFields::evaluate()
{
    const QString text = m_passphrase->lineEdit()->text();
    const Keys::StrengthEstimate e = Keys::estimateStrength(text);
    m_strength->setValue(int(std::min(100.0, e.bits)));
    static const char *const names[] = {QT_TR_NOOP("None"), QT_TR_NOOP("Weak"), QT_TR_NOOP("Fair"),
                                        QT_TR_NOOP("Good"), QT_TR_NOOP("Strong")};
    const QString name = tr(names[int(e.strength)]);
    m_strength->setFormat(text.isEmpty() ? tr("None") : tr("%1 (about %2 bits)").arg(name).arg(int(e.bits)));
    m_strength->setAccessibleDescription(m_strength->format());
    // Red to green as it grows stronger.
    static const QColor colors[] = {Qt::gray, QColor(0xc0, 0x1c, 0x28), QColor(0xe5, 0xa5, 0x0a), QColor(0x63, 0xa0, 0x2f),
                                    QColor(0x26, 0xa2, 0x69)};
    QPalette palette = m_strength->palette();
    palette.setColor(QPalette::Highlight, colors[int(e.strength)]);
    m_strength->setPalette(palette);

    bool acceptable = false;
    if (text.isEmpty()) {
        m_status->clear();
    } else if (e.strength == Keys::Strength::Weak) {
        m_status->setMessage(StatusLine::Kind::Error,
                             tr("This passphrase is too easy to guess. %1 A few unrelated words make a strong one.")
                                 .arg(weaknessText(int(e.weakness))));
    } else if (m_confirmation->lineEdit()->text().isEmpty()) {
        m_status->setMessage(StatusLine::Kind::Info, tr("Type it again to be sure it is what you meant."));
    } else if (m_confirmation->lineEdit()->text() != text) {
        m_status->setMessage(StatusLine::Kind::Error, tr("The two passphrases differ."));
    } else {
        acceptable = true;
        m_status->setMessage(StatusLine::Kind::Success,
                             e.strength == Keys::Strength::Fair
                                 ? tr("The passphrases match. A longer one would be safer.")
                                 : tr("The passphrases match."));
    }
    if (acceptable != m_acceptable) {
        m_acceptable = acceptable;
        emit acceptableChanged(acceptable);
    }
}

void NewPassphraseFields::clear()
{
    m_passphrase->clear();
    m_confirmation->clear();
}

SecretField::SecretField(const QString &label, QWidget *parent)
    : QWidget(parent)
    , m_passphrase(new PassphraseEdit(label, this))
    , m_useKeyFile(named(new QCheckBox(tr("Use a &key file instead"), this), tr("Use a key file instead")))
    , m_keyFile(named(new QLineEdit(this), tr("Key file")))
    , m_stack(new QStackedWidget(this))
{
    auto *browse = makeButton(tr("Bro&wse…"), this);
    browse->setAccessibleName(tr("Choose the key file"));
    auto *filePage = new QWidget(m_stack);
    auto *fileLayout = new QHBoxLayout(filePage);
    fileLayout->setContentsMargins(0, 0, 0, 0);
    fileLayout->addWidget(m_keyFile, 1);
    fileLayout->addWidget(browse);
    m_keyFile->setPlaceholderText(tr("The key file"));
    m_stack->addWidget(m_passphrase);
    m_stack->addWidget(filePage);
    m_stack->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
    layout->addWidget(m_useKeyFile);
    setFocusProxy(m_passphrase);

    connect(m_useKeyFile, &QCheckBox::toggled, this, [this](bool file) {
        m_stack->setCurrentIndex(file ? 1 : 0);
        setFocusProxy(file ? static_cast<QWidget *>(m_keyFile) : m_passphrase);
        emit changed();
    });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Choose the key file"), m_keyFile->text());
        if (!file.isEmpty())
            m_keyFile->setText(file);
    });
    connect(m_passphrase, &PassphraseEdit::textChanged, this, &SecretField::changed);
    connect(m_keyFile, &QLineEdit::textChanged, this, &SecretField::changed);
}

bool SecretField::isEmpty() const
{
    return m_useKeyFile->isChecked() ? m_keyFile->text().isEmpty() : m_passphrase->isEmpty();
}

Client::Secret SecretField::secret() const
{
    if (m_useKeyFile->isChecked())
        return Client::Secret::keyFile(localPath(m_keyFile->text()));
    return Client::Secret::passphrase(m_passphrase->secret());
}

void SecretField::clear()
{
    m_passphrase->clear();
}

} // namespace Coffer::Ui
