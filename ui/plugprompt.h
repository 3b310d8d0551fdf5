#pragma once

// What a plugged-in drive asks when no notification server shows actions (or notifications are
// off): a small window with the notification's choices. Enter backs up (the default), Esc is
// "Not now".

#include <QDialog>

class QPushButton;

namespace Coffer::Ui {

enum class PlugAnswer { BackUpNow, UnlockOnly, NotNow, Always };

class PlugPrompt : public QDialog
{
    Q_OBJECT

public:
    PlugPrompt(const QString &vaultName, const QString &driveName, QWidget *parent = nullptr);

    QPushButton *button(PlugAnswer answer) const;

Q_SIGNALS:
    // Once, then the window closes itself.
    void answered(Coffer::Ui::PlugAnswer answer);

protected:
    void reject() override;

private:
    void answer(PlugAnswer answer);

    QPushButton *m_buttons[4];
    bool m_answered = false;
};

} // namespace Coffer::Ui
