#include "dialogentries.h"

#include "vaultcontroller.h"
#include "vaultmodel.h"

#include <QCoreApplication>
#include <QMessageBox>
#include <QPushButton>

namespace Coffer::Ui::Dialogs {

namespace {

class Tr
{
    Q_DECLARE_TR_FUNCTIONS(DialogEntries)
};

// Until the dialog exists: what to use instead, in a window of its own.
void sayNotYet(QWidget *parent, const QString &title, const QString &text)
{
    auto *box = new QMessageBox(QMessageBox::Information, title, text, QMessageBox::Close, parent);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setAccessibleName(title);
    box->show();
}

} // namespace

void openNewVaultWizard(const DialogContext &, QWidget *parent)
{
    sayNotYet(parent, Tr::tr("New Vault"),
              Tr::tr("The create wizard is not in this build yet. Create a vault with\n"
                        "  cofferctl create FILE --size SIZE --name NAME\n"
                        "on the drive, then use Add Existing Vault."));
}

void openRestoreBrowser(const DialogContext &, const QString &, QWidget *parent)
{
    sayNotYet(parent, Tr::tr("Restore"),
              Tr::tr("The restore browser is not in this build yet. Unlock the vault and open its folder to copy "
                        "files back."));
}

void openKeyManager(const DialogContext &, const QString &, QWidget *parent)
{
    sayNotYet(parent, Tr::tr("Keys"),
              Tr::tr("Key management is not in this build yet. Use cofferctl passwd, addkey and headerbackup."));
}

void openBusyLock(const DialogContext &context, const QString &id, const QString &message, QWidget *parent)
{
    const std::optional<VaultRow> row = context.model->row(id);
    const QString name = row ? row->name() : id;
    auto *box = new QMessageBox(QMessageBox::Warning, Tr::tr("“%1” is in use").arg(name),
                                Tr::tr("“%1” cannot be locked while programs use it.").arg(name),
                                QMessageBox::Cancel, parent);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setInformativeText(message);
    QPushButton *force = box->addButton(Tr::tr("&Force Lock"), QMessageBox::DestructiveRole);
    force->setAccessibleName(Tr::tr("Stop those programs and lock"));
    QObject::connect(force, &QPushButton::clicked, context.controller, [controller = context.controller, id] {
        controller->forceLock(id);
    });
    box->show();
}

} // namespace Coffer::Ui::Dialogs
