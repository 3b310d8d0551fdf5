#pragma once

// Add a vault found on a drive to Coffer (the simple add flow; creating a new vault is the
// create wizard's): which vault, its name, the folders to back up into it (~/.ssh, ~/.gnupg
// and ~/.password-store offered when they exist) and what plugging the drive in does. OK
// registers it (Registry::putVault); a failure is said in the dialog, which stays.

#include "plugflow.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace Coffer::Config {
class Registry;
}

namespace Coffer::Ui {

class AddVaultDialog : public QDialog
{
    Q_OBJECT

public:
    AddVaultDialog(Config::Registry *registry, std::vector<FoundVault> found, QWidget *parent = nullptr);

    // The folders ticked now.
    QStringList folders() const;
    void addFolder(const QString &folder, bool checked = true);
    // The LUKS UUID of the vault added, once accepted.
    QString addedId() const { return m_addedId; }

    void accept() override;

Q_SIGNALS:
    void added(const QString &id);

private:
    void chooseFolder();
    void vaultChosen(int index);

    Config::Registry *m_registry;
    std::vector<FoundVault> m_found;
    QComboBox *m_vault;
    QLineEdit *m_name;
    QListWidget *m_folders;
    QPushButton *m_addFolder;
    QPushButton *m_removeFolder;
    QComboBox *m_trigger;
    QLabel *m_error;
    QString m_addedId;
};

} // namespace Coffer::Ui
