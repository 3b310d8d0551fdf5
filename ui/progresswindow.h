#pragma once

// A backup as it runs: the phase (looking for changes, copying, removing, writing everything out
// to the drive: the last step is a phase of its own, so "done" is never said early), files and
// bytes, the current item, Cancel; then the outcome (a partial backup lists what could not be
// read), the lock, and "Safe to unplug <drive>". It only shows: the controller feeds it.

#include "client/jobhandle.h"

#include <QDialog>

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace Coffer::Ui {

class ElidedLabel;

class ProgressWindow : public QDialog
{
    Q_OBJECT

public:
    ProgressWindow(const QString &vaultName, const QString &driveName, QWidget *parent = nullptr);

    void setProgress(const Client::JobProgress &progress);
    void setFinished(Helper1::JobOutcome outcome, const std::optional<Error> &error, const Client::JobResult &result);
    // After the backup: the vault is being locked, then is locked (and whether the drive may
    // go: othersOpen names vaults on it that are still open).
    void setLocking();
    void setLocked(const QStringList &othersOpen);
    void setLockFailed(const QString &message);
    // The vault stays open (Unlock only, or it was open before the backup).
    void setStaysOpen();

    bool isRunning() const { return m_running; }
    QString phaseText() const;
    QString countsText() const;
    QString currentItemText() const;
    QString outcomeText() const;
    QString unplugText() const;
    QStringList unreadableItems() const;
    bool isProgressIndeterminate() const;

Q_SIGNALS:
    void cancelRequested();

protected:
    // Esc or the window's close hide a running backup (it goes on; the tray and the main
    // window still show it); they never cancel it.
    void reject() override;

private:
    QString m_vaultName;
    QString m_driveName;
    QLabel *m_title;
    QLabel *m_phase;
    QProgressBar *m_bar;
    QLabel *m_counts;
    ElidedLabel *m_item;
    QLabel *m_outcome;
    QListWidget *m_unreadable;
    QLabel *m_unplug;
    QPushButton *m_cancel;
    QPushButton *m_close;
    bool m_running = true;
};

} // namespace Coffer::Ui
