#pragma once

// The fields through which a person hands Coffer a secret:
//   PassphraseEdit       one passphrase, not echoed, with a Show toggle and a Caps Lock warning
//   NewPassphraseFields  a new passphrase twice, with the strength estimate (core/keys) and the
//                        reasons it is refused (too weak, the two differ)
//   SecretField          an existing key: a passphrase, or a key file instead
// A typed passphrase leaves Qt's string only as a SecretBuffer (locked memory); Qt keeps its own
// copies of what a line edit held (it offers no wiping), so the fields are cleared once used.

#include "block/secretbuffer.h"
#include "client/secret.h"

#include <QLineEdit>
#include <QWidget>

class QProgressBar;
class QToolButton;
class QCheckBox;
class QLabel;
class QStackedWidget;

namespace Coffer::Ui {

class StatusLine;

class PassphraseEdit : public QWidget
{
    Q_OBJECT

public:
    explicit PassphraseEdit(const QString &accessibleName, QWidget *parent = nullptr);

    QLineEdit *lineEdit() const { return m_edit; }
    QToolButton *showButton() const { return m_show; }
    // "Caps Lock is on." under the field while typing says so (and the field is enabled).
    bool isCapsLockWarningShown() const;
    bool isEmpty() const { return m_edit->text().isEmpty(); }
    // The text as UTF-8 in locked memory.
    SecretBuffer secret() const;
    void clear() { m_edit->clear(); }
    void setShown(bool shown);

Q_SIGNALS:
    void textChanged();
    void shownChanged(bool shown);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void setCapsLock(bool on);

    QLineEdit *m_edit;
    QToolButton *m_show;
    QLabel *m_capsLock;
    bool m_capsLockOn = false;
};

class NewPassphraseFields : public QWidget
{
    Q_OBJECT

public:
    explicit NewPassphraseFields(QWidget *parent = nullptr);

    PassphraseEdit *passphrase() const { return m_passphrase; }
    PassphraseEdit *confirmation() const { return m_confirmation; }
    QProgressBar *strengthBar() const { return m_strength; }
    StatusLine *status() const { return m_status; }

    // Strong enough, and typed the same twice.
    bool isAcceptable() const { return m_acceptable; }
    SecretBuffer secret() const { return m_passphrase->secret(); }
    void clear();

Q_SIGNALS:
    void acceptableChanged(bool acceptable);

private:
    void evaluate();

    PassphraseEdit *m_passphrase;
    PassphraseEdit *m_confirmation;
    QProgressBar *m_strength;
    StatusLine *m_status;
    bool m_acceptable = false;
};

class SecretField : public QWidget
{
    Q_OBJECT

public:
    // label: what the key is for ("Current passphrase", "Passphrase to remove").
    explicit SecretField(const QString &label, QWidget *parent = nullptr);

    PassphraseEdit *passphrase() const { return m_passphrase; }
    QCheckBox *useKeyFile() const { return m_useKeyFile; }
    QLineEdit *keyFilePath() const { return m_keyFile; }

    bool isEmpty() const;
    // A passphrase, or the key file (opened as the user when it is used).
    Client::Secret secret() const;
    void clear();

Q_SIGNALS:
    void changed();

private:
    PassphraseEdit *m_passphrase;
    QCheckBox *m_useKeyFile;
    QLineEdit *m_keyFile;
    QStackedWidget *m_stack;
};

// The text of the weakness core/keys found, for people.
QString weaknessText(int weakness);

} // namespace Coffer::Ui
