#pragma once

// Where the main window and the tray open the dialogs of issue 13 that are built as
// self-contained classes of their own in ui/ (the dialogs engineer's): the create wizard, the
// restore browser, key management and the busy-lock dialog. This is the one place that wires
// them in; until a dialog lands, its function here says what to use instead.

#include <QString>

class QWidget;

namespace Coffer::Ui {

class VaultController;
class VaultModel;

// What the dialogs may use: the shared model (registry, client, drives) and the actions on
// vaults (unlock, back up, lock, force lock).
struct DialogContext
{
    VaultModel *model = nullptr;
    VaultController *controller = nullptr;
};

namespace Dialogs {

// "New vault…": the create wizard.
void openNewVaultWizard(const DialogContext &context, QWidget *parent);
// "Restore…" from the vault `id` (its snapshots or mirror).
void openRestoreBrowser(const DialogContext &context, const QString &id, QWidget *parent);
// "Keys…" of the vault `id`: passphrase, key files, header backup, recovery passphrase.
void openKeyManager(const DialogContext &context, const QString &id, QWidget *parent);
// A lock of the vault `id` was refused because programs hold it (message: the helper's, which
// names them): show them and offer VaultController::forceLock.
void openBusyLock(const DialogContext &context, const QString &id, const QString &message, QWidget *parent);

} // namespace Dialogs

} // namespace Coffer::Ui
