#pragma once

// A lock was refused because programs hold the vault (issue 13): which ones (name, pid, what they
// hold: core/client's holdersFromBusyError on the helper's Busy message), with Try Again (after
// the person closed them) and Force Lock (the helper stops the owner's programs, then locks).
// Force is not offered when programs of other users hold it: Coffer would not stop those.
//
// Opening it: (new Coffer::Ui::BusyLockDialog(name, report, message, window))->show(); connect
// retryRequested / forceLockRequested to VaultController::lock / forceLock. It deletes itself
// when closed.

#include "client/holders.h"

#include <QDialog>

class QPushButton;
class QTreeWidget;

namespace Coffer::Ui {

class BusyLockDialog : public QDialog
{
    Q_OBJECT

public:
    // message: the helper's sentence, shown as it is when it names no program Coffer can list.
    BusyLockDialog(const QString &vaultName, const Client::BusyReport &report, const QString &message,
                   QWidget *parent = nullptr);

    QTreeWidget *holders() const { return m_holders; }
    QPushButton *forceButton() const { return m_force; }
    QPushButton *retryButton() const { return m_retry; }

Q_SIGNALS:
    void retryRequested();
    void forceLockRequested();

private:
    QTreeWidget *m_holders;
    QPushButton *m_retry;
    QPushButton *m_force;
};

} // namespace Coffer::Ui
