#include "dialogentries.h"

#include "busylockdialog.h"
#include "client/holders.h"
#include "client/vaulthandle.h"
#include "createwizard.h"
#include "keymanagerdialog.h"
#include "restorebrowser.h"
#include "vaultcontroller.h"
#include "vaultmodel.h"

#include <QCoreApplication>
#include <QMessageBox>
#include <QPointer>

namespace Coffer::Ui::Dialogs {

namespace {

class Tr
{
    Q_DECLARE_TR_FUNCTIONS(DialogEntries)
};

void sayProblem(QWidget *parent, const QString &title, const QString &text)
{
    auto *box = new QMessageBox(QMessageBox::Information, title, text, QMessageBox::Close, parent);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setAccessibleName(title);
    box->show();
}

// One window of a kind per vault: a second "Keys…" raises the first.
template<typename Dialog>
bool raiseOpen(QWidget *parent, const QString &id)
{
    if (!parent)
        return false;
    for (Dialog *d : parent->findChildren<Dialog *>(QString(), Qt::FindDirectChildrenOnly)) {
        if (d->property("vaultId").toString() == id && d->isVisible()) {
            d->raise();
            d->activateWindow();
            return true;
        }
    }
    return false;
}

template<typename Dialog>
void showFor(Dialog *dialog, const QString &id)
{
    dialog->setProperty("vaultId", id);
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

} // namespace

void openNewVaultWizard(const DialogContext &context, QWidget *parent)
{
    if (parent) {
        if (auto *open = parent->findChild<CreateWizard *>(QString(), Qt::FindDirectChildrenOnly)) {
            open->raise();
            open->activateWindow();
            return;
        }
    }
    auto *wizard = new CreateWizard(context.model->client(), context.model->registry(), context.media, parent);
    QObject::connect(wizard, &CreateWizard::vaultCreated, context.model, &VaultModel::refresh);
    QObject::connect(wizard, &CreateWizard::firstBackupRequested, context.controller,
                     [controller = context.controller](const QString &id) { controller->backUp(id.toLower()); });
    wizard->show();
}

void openRestoreBrowser(const DialogContext &context, const QString &id, QWidget *parent)
{
    if (id.isEmpty() || raiseOpen<RestoreBrowser>(parent, id))
        return;
    // The backups are read on the vault's mount: it must be open (the unlock dialog if needed).
    QPointer<QWidget> window(parent);
    context.controller->withUnlocked(id, [window, id, context](Client::VaultHandle *vault) {
        if (raiseOpen<RestoreBrowser>(window, id))
            return;
        showFor(new RestoreBrowser(vault, context.model->registry(), window), id);
    });
}

void openKeyManager(const DialogContext &context, const QString &id, QWidget *parent)
{
    const std::optional<VaultRow> row = context.model->row(id);
    if (!row || raiseOpen<KeyManagerDialog>(parent, id))
        return;
    const QString name = row->name();
    auto open = [parent = QPointer<QWidget>(parent), id, name](Client::VaultHandle *vault) {
        showFor(new KeyManagerDialog(vault, id, name, parent), id);
    };
    if (row->handle) {
        open(row->handle);
        return;
    }
    // Locked: the keys are changed in the header of the user's own file.
    const std::optional<std::string> file = row->file();
    if (!file) {
        sayProblem(parent, Tr::tr("Keys of “%1”").arg(name),
                   Tr::tr("Plug in %1 (and let it be mounted) to change the keys of “%2”.").arg(row->driveName(), name));
        return;
    }
    Client::VaultRequest *lookup = context.model->client()->vault(*file);
    QObject::connect(lookup, &Client::Request::finished, context.model,
                     [lookup, open, parent = QPointer<QWidget>(parent), name](const std::optional<Error> &error) {
                         if (error || !lookup->vault()) {
                             sayProblem(parent, Tr::tr("Keys of “%1”").arg(name),
                                        error ? QString::fromStdString(error->message()) : QString());
                             return;
                         }
                         open(lookup->vault());
                     });
}

void openBusyLock(const DialogContext &context, const QString &id, const QString &message, QWidget *parent)
{
    if (raiseOpen<BusyLockDialog>(parent, id))
        return;
    const std::optional<VaultRow> row = context.model->row(id);
    const QString name = row ? row->name() : id;
    const Client::BusyReport report = Client::holdersFromBusyError(Error(ErrorCode::Busy, message.toStdString()));
    auto *dialog = new BusyLockDialog(name, report, message, parent);
    VaultController *controller = context.controller;
    QObject::connect(dialog, &BusyLockDialog::retryRequested, controller, [controller, id] { controller->lock(id); });
    QObject::connect(dialog, &BusyLockDialog::forceLockRequested, controller,
                     [controller, id] { controller->forceLock(id); });
    showFor(dialog, id);
}

} // namespace Coffer::Ui::Dialogs
