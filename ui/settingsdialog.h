#pragma once

// The application's settings (core/config's Settings: lock on screen lock, idle minutes, the
// maximum open time, notifications, when a backup is overdue) and "Start Coffer when I log in"
// (Autostart). Saved on OK; what failed to save is said in the dialog, which then stays.

#include <QDialog>

class QCheckBox;
class QLabel;
class QSpinBox;

namespace Coffer::Config {
class Registry;
}

namespace Coffer::Ui {

class SettingsDialog : public QDialog
{
    Q_OBJECT

public:
    // idleUnavailable: why idle locking does not work here ("" when it does).
    SettingsDialog(Config::Registry *registry, const QString &idleUnavailable, QWidget *parent = nullptr);

    void accept() override;

private:
    Config::Registry *m_registry;
    QCheckBox *m_screenLock;
    QSpinBox *m_idleMinutes;
    QSpinBox *m_maxOpenMinutes;
    QCheckBox *m_notifications;
    QSpinBox *m_staleDays;
    QCheckBox *m_autostart;
    QLabel *m_error;
};

} // namespace Coffer::Ui
