#include "settingsdialog.h"

#include "autostart.h"
#include "config/registry.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace Coffer::Ui {

namespace {

QSpinBox *minutesBox(QWidget *parent, int maximum, int value, const QString &accessibleName)
{
    auto *box = new QSpinBox(parent);
    box->setRange(0, maximum);
    box->setValue(value);
    box->setSpecialValueText(SettingsDialog::tr("Never"));
    box->setSuffix(SettingsDialog::tr(" min"));
    box->setAccessibleName(accessibleName);
    return box;
}

} // namespace

SettingsDialog::SettingsDialog(Config::Registry *registry, const QString &idleUnavailable, QWidget *parent)
    : QDialog(parent)
    , m_registry(registry)
    , m_screenLock(new QCheckBox(tr("Lock open vaults when the &screen locks"), this))
    , m_idleMinutes(minutesBox(this, Config::maxIdleMinutes, registry->settings().idleLockMinutes,
                               tr("Lock open vaults after this many minutes idle")))
    , m_maxOpenMinutes(minutesBox(this, Config::maxOpenMinutesLimit, registry->settings().maxOpenMinutes,
                                  tr("Lock a vault this many minutes after it was unlocked")))
    , m_notifications(new QCheckBox(tr("Show &notifications"), this))
    , m_staleDays(new QSpinBox(this))
    , m_autostart(new QCheckBox(tr("Start Coffer when I &log in"), this))
    , m_error(new QLabel(this))
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Coffer Settings"));
    const Config::Settings &s = registry->settings();
    m_screenLock->setChecked(s.lockOnScreenLock);
    m_screenLock->setAccessibleName(tr("Lock open vaults when the screen locks"));
    m_notifications->setChecked(s.notifications);
    m_notifications->setAccessibleName(tr("Show notifications"));
    m_staleDays->setRange(1, Config::maxStaleAfterDays);
    m_staleDays->setValue(s.staleAfterDays);
    m_staleDays->setSuffix(tr(" days"));
    m_staleDays->setAccessibleName(tr("A backup is overdue after this many days"));
    m_autostart->setChecked(Autostart::isEnabled());
    m_autostart->setAccessibleName(tr("Start Coffer when I log in"));
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    m_error->setAccessibleName(tr("Error"));
    m_error->setStyleSheet(QStringLiteral("color: #c01c28;"));
    m_error->hide();

    auto *form = new QFormLayout;
    form->addRow(m_screenLock);
    auto *idleLabel = new QLabel(tr("Lock after &idle for:"), this);
    idleLabel->setBuddy(m_idleMinutes);
    form->addRow(idleLabel, m_idleMinutes);
    if (!idleUnavailable.isEmpty()) {
        auto *why = new QLabel(tr("Idle time cannot be measured in this session: %1").arg(idleUnavailable), this);
        why->setObjectName(QStringLiteral("idleUnavailable"));
        why->setTextFormat(Qt::PlainText);
        why->setWordWrap(true);
        why->setAccessibleName(tr("Idle locking unavailable"));
        form->addRow(QString(), why);
    }
    auto *openLabel = new QLabel(tr("Lock after &open for:"), this);
    openLabel->setBuddy(m_maxOpenMinutes);
    form->addRow(openLabel, m_maxOpenMinutes);
    form->addRow(m_notifications);
    auto *staleLabel = new QLabel(tr("A backup is &overdue after:"), this);
    staleLabel->setBuddy(m_staleDays);
    form->addRow(staleLabel, m_staleDays);
    form->addRow(m_autostart);

    auto *note = new QLabel(tr("Each vault can have its own rules; these apply where it has none."), this);
    note->setWordWrap(true);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setAccessibleName(tr("Save the settings"));
    buttons->button(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    m_screenLock->setFocus();
}

void SettingsDialog::accept()
{
    try {
        Config::Settings s = m_registry->settings();
        s.lockOnScreenLock = m_screenLock->isChecked();
        s.idleLockMinutes = m_idleMinutes->value();
        s.maxOpenMinutes = m_maxOpenMinutes->value();
        s.notifications = m_notifications->isChecked();
        s.staleAfterDays = m_staleDays->value();
        m_registry->setSettings(s);
        if (m_autostart->isChecked() != Autostart::isEnabled())
            Autostart::setEnabled(m_autostart->isChecked());
    } catch (const Error &e) {
        m_error->setText(QString::fromStdString(e.message()));
        m_error->show();
        return;
    }
    QDialog::accept();
}

} // namespace Coffer::Ui
