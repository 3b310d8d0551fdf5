#pragma once

// A key file for a vault: one the person has, or a new random one (core/keys) saved where they
// say. Never on the vault's own drive by default, and a warning when they put it there: whoever
// finds the drive would find the key with it.

#include <QString>
#include <QWidget>

#include <optional>
#include <string>

class QLineEdit;
class QRadioButton;

namespace Coffer::Ui {

class StatusLine;

class KeyFileChooser : public QWidget
{
    Q_OBJECT

public:
    explicit KeyFileChooser(QWidget *parent = nullptr);

    QRadioButton *existingChoice() const { return m_existing; }
    QRadioButton *newChoice() const { return m_new; }
    QLineEdit *existingPath() const { return m_existingPath; }
    QLineEdit *newPath() const { return m_newPath; }
    StatusLine *status() const { return m_status; }

    // Where a new key file goes unless the person says otherwise.
    void setSuggestedNewPath(const QString &path);
    // Any path on the vault's filesystem (the vault file, or the folder it will be made in).
    void setVaultLocation(const QString &path);

    bool makesNewFile() const;
    QString path() const;
    // Usable as it stands (a warning does not stop it).
    bool isValid() const { return m_valid; }

    // Writes the new key file when one is to be made (0600, never over an existing file); returns
    // the key file's path. Throws Coffer::Error.
    std::string prepare() const;

Q_SIGNALS:
    void changed();

private:
    void evaluate();

    QRadioButton *m_existing;
    QRadioButton *m_new;
    QLineEdit *m_existingPath;
    QLineEdit *m_newPath;
    StatusLine *m_status;
    QString m_vaultLocation;
    bool m_valid = false;
};

} // namespace Coffer::Ui
