#pragma once

// Unlock a vault: the passphrase (no echo unless "Show" is ticked; a caps-lock warning), or a
// key file instead, and "Remember in the keyring". The dialog only asks: unlockRequested()
// carries the secret, the caller tries it and either closes the dialog (accept()) or says what
// went wrong with showError(), and the dialog stays for another try. Enter unlocks, Esc cancels.

#include "client/secret.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;

namespace Coffer::Ui {

class UnlockDialog : public QDialog
{
    Q_OBJECT

public:
    UnlockDialog(const QString &vaultName, const QString &driveName, QWidget *parent = nullptr);

    // Whether "Remember in the keyring" is offered (a keyring is running), and ticked.
    void setRememberOffered(bool offered, bool checked);
    // Starts with "Key file" chosen and this file in it.
    void setKeyFile(const QString &path);
    // While the secret is being tried: the fields are disabled and the dialog says so.
    void setBusy(bool busy);
    // What went wrong with the last try, said inline; the fields are enabled again and the
    // passphrase field is empty and focused.
    void showError(const QString &message);

    bool isCapsLockWarningShown() const;
    QString errorText() const;
    bool usesKeyFile() const;

Q_SIGNALS:
    void unlockRequested(const Coffer::Client::Secret &secret, bool remember);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void submit();
    void updateMode();
    void setCapsLock(bool on);
    void chooseKeyFile();

    QRadioButton *m_usePassphrase;
    QRadioButton *m_useKeyFile;
    QLineEdit *m_passphrase;
    QCheckBox *m_show;
    QLabel *m_capsLock;
    QLineEdit *m_keyFile;
    QPushButton *m_browse;
    QCheckBox *m_remember;
    QLabel *m_error;
    QLabel *m_status;
    QDialogButtonBox *m_buttons;
    QPushButton *m_unlock;
    bool m_capsLockOn = false;
};

} // namespace Coffer::Ui
