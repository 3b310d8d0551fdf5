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

class PassphraseEdit;

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

private:
    void submit();
    void updateMode();
    void chooseKeyFile();

    QRadioButton *m_usePassphrase;
    QRadioButton *m_useKeyFile;
    PassphraseEdit *m_passphrase;
    QLineEdit *m_keyFile;
    QPushButton *m_browse;
    QCheckBox *m_remember;
    QLabel *m_error;
    QLabel *m_status;
    QDialogButtonBox *m_buttons;
    QPushButton *m_unlock;
};

} // namespace Coffer::Ui
