#pragma once

// Key management of one vault (issue 13), locked or open (core/client does it through the helper
// while the vault is open, else on the user's own file). The current passphrase or key file at
// the top opens the vault's header for the changes that need it; then, one tab each:
//   Passphrase        a new one, with strength and confirmation
//   Key files         add one (an existing file, or a new random one kept off the drive), or
//                     remove one
//   Header backup     a copy of the LUKS header, refused on the vault's own filesystem and
//                     warned about on another partition of the same drive
//   Recovery          a generated passphrase (core/keys) added as a key slot and shown once,
//                     to print or save as PDF
// A wrong current passphrase is said inline and the dialog stays. After a key change the
// automatic header backup ($XDG_DATA_HOME/coffer/headers) is refreshed, so a replaced passphrase
// does not live on in it.
//
// Opening it: (new Coffer::Ui::KeyManagerDialog(vault, id, name, window))->show(); it deletes
// itself when closed.

#include "client/secret.h"

#include <QDialog>

#include <functional>
#include <optional>

class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;

namespace Coffer {
class Error;
}
namespace Coffer::Client {
class Request;
class VaultHandle;
}

namespace Coffer::Ui {

class KeyFileChooser;
class NewPassphraseFields;
class SecretField;
class StatusLine;

class KeyManagerDialog : public QDialog
{
    Q_OBJECT

public:
    enum Tab { PassphraseTab, KeyFilesTab, HeaderTab, RecoveryTab };

    // vaultId: its LUKS UUID (for the automatic header backup); name: as the person calls it.
    KeyManagerDialog(Client::VaultHandle *vault, const QString &vaultId, const QString &name,
                     QWidget *parent = nullptr);
    ~KeyManagerDialog() override;

    QTabWidget *tabs() const { return m_tabs; }
    StatusLine *status() const { return m_status; }
    bool isBusy() const { return m_busy; }

    // The recovery passphrase while it is shown (empty before and after).
    QString shownRecoveryPassphrase() const;
    // Writes the recovery sheet (the vault, the date, the passphrase, what to do with it) as a
    // PDF into `path`. Throws Coffer::Error.
    void saveRecoverySheet(const QString &path) const;

Q_SIGNALS:
    // A change ended (ok or not): the status line says what happened.
    void operationFinished(bool ok);

private:
    QWidget *makePassphraseTab();
    QWidget *makeKeyFilesTab();
    QWidget *makeHeaderTab();
    QWidget *makeRecoveryTab();

    void changePassphrase();
    void addKeyFile();
    void removeKeyFile();
    void saveHeaderBackup();
    void addRecoveryPassphrase();
    void printRecoverySheet();
    void saveRecoverySheetAs();

    // The current key, or nothing (and the status says so).
    std::optional<Client::Secret> currentKey();
    // Runs `request`; `done` with its error (none: it worked) once it ends.
    void run(Client::Request *request, std::function<void(const std::optional<Error> &)> done);
    void setBusy(bool busy);
    // What a failed change says; a wrong current key sends the focus back to it.
    void sayFailure(const Error &error);
    void refreshAutomaticHeaderBackup();
    void updateActions();

    Client::VaultHandle *m_vault;
    QString m_id;
    QString m_name;
    bool m_busy = false;

    SecretField *m_current;
    QTabWidget *m_tabs;
    NewPassphraseFields *m_newPassphrase;
    QPushButton *m_change;
    KeyFileChooser *m_newKeyFile;
    QPushButton *m_addKeyFile;
    QLineEdit *m_removeKeyFile;
    QPushButton *m_remove;
    QLineEdit *m_headerTarget;
    QPushButton *m_saveHeader;
    QPushButton *m_generate;
    QLabel *m_recovery;
    QPushButton *m_print;
    QPushButton *m_savePdf;
    StatusLine *m_status;
};

} // namespace Coffer::Ui
