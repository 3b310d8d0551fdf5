#pragma once

// What the tray, the main window, the plug flow and auto-lock ask of a vault: unlock it (the
// secret from its key file, the keyring or the unlock dialog), back it up (the progress window,
// the sync recorded in the registry, then locked again and "Safe to unplug <drive>"), lock it,
// open its folder. Every step goes through core/client and never blocks.

#include "client/helperclient.h"
#include "media/medium.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>
#include <optional>

namespace Coffer {
class Notifications;
class PassphraseStore;
}

namespace Coffer::Ui {

class ProgressWindow;
class UnlockDialog;
class VaultModel;

class VaultController : public QObject
{
    Q_OBJECT

public:
    explicit VaultController(VaultModel *model, QObject *parent = nullptr);
    ~VaultController() override;

    VaultModel *model() const { return m_model; }
    // The keyring for "Remember in the keyring" (none: not offered).
    void setPassphraseStore(PassphraseStore *store) { m_store = store; }
    // Where "Safe to unplug" and auto-lock failures are said when notifications are on (none:
    // only in the windows).
    void setNotifications(Notifications *notifications) { m_notifications = notifications; }

    // The windows of a vault this controller shows, while they are open.
    UnlockDialog *unlockDialog(const QString &id) const;
    ProgressWindow *progressWindow(const QString &id) const;

    // Why the vault cannot be backed up now, or nothing when it can.
    std::optional<QString> whyNoBackup(const QString &id) const;

public Q_SLOTS:
    void unlock(const QString &id);
    // Unlocks first if needed; a vault that was locked is locked again afterwards when its
    // policy says so (LockPolicy::afterSync).
    void backUp(const QString &id);
    void lock(const QString &id);
    void forceLock(const QString &id);
    void lockAll();
    // An auto-lock (screen lock, idle, maximum open time): no "safe to unplug"; a vault that
    // is backing up is locked when the backup ends; a failure is notified.
    void autoLock(const QString &id, const QString &why);
    void openFolder(const QString &id);

Q_SIGNALS:
    // Something went wrong that the person should read (also said in the vault's row).
    void failed(const QString &id, const QString &message);
    // Lock refused because programs hold the vault: the busy-lock dialog offers force.
    void lockBusy(const QString &id, const QString &message);
    // The vault was locked and its drive may go: nothing else on it is open, and the data on
    // it is written out.
    void safeToUnplug(const QString &id, const QString &drive);
    void locked(const QString &id);

private:
    using Continuation = std::function<void(Client::VaultHandle *)>;
    void withUnlocked(const QString &id, Continuation then);
    void obtainSecret(const QString &id, Client::VaultHandle *vault);
    void tryQuietly(const QString &id, Client::VaultHandle *vault, const Client::Secret &secret,
                    const QString &ifRefused);
    void showUnlockDialog(const QString &id, Client::VaultHandle *vault, const QString &problem);
    void unlocked(const QString &id, Client::VaultHandle *vault);
    void rememberChoice(const QString &id, const Client::Secret &secret, bool remember);
    void startBackup(const QString &id, Client::VaultHandle *vault, bool lockAfter);
    void backupFinished(const QString &id, bool lockAfter, Helper1::JobOutcome outcome,
                        const std::optional<Error> &error, const Client::JobResult &result);
    // Locks; then(error) with the outcome. Afterwards, when the drive may go, safeToUnplug().
    void lockThen(const QString &id, bool force, bool announce, std::function<void(const std::optional<Error> &)> then);
    void announceUnplug(const QString &id, const std::optional<Media::Medium> &medium);
    void notify(const QString &summary, const QString &body, bool critical = false);
    void fail(const QString &id, const QString &message);

    VaultModel *m_model;
    PassphraseStore *m_store = nullptr;
    Notifications *m_notifications = nullptr;
    QHash<QString, QList<Continuation>> m_waitingForUnlock; // by id, while an unlock is under way
    QHash<QString, QPointer<UnlockDialog>> m_unlockDialogs;
    QHash<QString, QPointer<ProgressWindow>> m_progressWindows;
    QHash<QString, QString> m_lockWhenDone; // auto-locks waiting for a backup to end: why
};

} // namespace Coffer::Ui
