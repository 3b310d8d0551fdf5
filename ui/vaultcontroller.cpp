#include "vaultcontroller.h"

#include "desktop/notifications.h"
#include "desktop/passphrasestore.h"
#include "progresswindow.h"
#include "unlockdialog.h"
#include "vaultmodel.h"

#include <QDesktopServices>
#include <QFile>
#include <QFutureWatcher>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

#include <fcntl.h>
#include <unistd.h>

namespace Coffer::Ui {

namespace {

QString message(const Error &error)
{
    return QString::fromStdString(error.message());
}

QString decodedPath(const std::string &bytes)
{
    return QFile::decodeName(QByteArray::fromStdString(bytes));
}

// Writes out what the drive's filesystem still holds in memory (the vault's own data went out
// with the sync's flush; the drive's directory entries and FAT may not have). As the user, on
// a worker thread: it may take a while on a slow stick.
void syncFilesystem(const std::string &mountPoint)
{
    const int fd = ::open(mountPoint.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    ::syncfs(fd);
    ::close(fd);
}

} // namespace

VaultController::VaultController(VaultModel *model, QObject *parent)
    : QObject(parent)
    , m_model(model)
{
}

VaultController::~VaultController()
{
    for (const QPointer<UnlockDialog> &d : std::as_const(m_unlockDialogs))
        delete d.data();
    for (const QPointer<ProgressWindow> &w : std::as_const(m_progressWindows))
        delete w.data();
}

UnlockDialog *VaultController::unlockDialog(const QString &id) const
{
    return m_unlockDialogs.value(id.toLower()).data();
}

ProgressWindow *VaultController::progressWindow(const QString &id) const
{
    return m_progressWindows.value(id.toLower()).data();
}

std::optional<QString> VaultController::whyNoBackup(const QString &id) const
{
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row)
        return tr("There is no such vault.");
    if (!row->entry)
        return tr("Coffer does not know which folders to back up into “%1”: add it to Coffer first.").arg(row->name());
    if (row->entry->sources.empty())
        return tr("No folders are chosen to back up into “%1”.").arg(row->name());
    if (row->job)
        return tr("“%1” is being backed up already.").arg(row->name());
    if (!row->isOpen() && !row->file()) {
        return row->medium ? tr("%1 is plugged in but not mounted: open it in the file manager first.").arg(row->driveName())
                           : tr("Plug in %1 to back up “%2”.").arg(row->driveName(), row->name());
    }
    return std::nullopt;
}

void VaultController::unlock(const QString &id)
{
    withUnlocked(id.toLower(), [](Client::VaultHandle *) {});
}

void VaultController::withUnlocked(const QString &id, Continuation then)
{
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row)
        return;
    if (row->isOpen()) {
        then(row->handle);
        return;
    }
    if (m_waitingForUnlock.contains(id)) {
        m_waitingForUnlock[id] << std::move(then);
        if (UnlockDialog *d = unlockDialog(id)) {
            d->raise();
            d->activateWindow();
        }
        return;
    }
    const std::optional<std::string> file = row->file();
    if (!file) {
        fail(id, row->medium ? tr("%1 is plugged in but not mounted: open it in the file manager first.").arg(row->driveName())
                             : tr("Plug in %1 to unlock “%2”.").arg(row->driveName(), row->name()));
        return;
    }
    m_waitingForUnlock.insert(id, {std::move(then)});
    Client::VaultRequest *request = m_model->client()->vault(*file);
    connect(request, &Client::Request::finished, this, [this, id, request](const std::optional<Error> &error) {
        if (error) {
            m_waitingForUnlock.remove(id);
            fail(id, message(*error));
            return;
        }
        Client::VaultHandle *vault = request->vault();
        if (vault->isUnlocked())
            unlocked(id, vault);
        else
            obtainSecret(id, vault);
    });
}

void VaultController::obtainSecret(const QString &id, Client::VaultHandle *vault)
{
    const std::optional<VaultRow> row = m_model->row(id);
    if (row && row->entry) {
        const Config::VaultEntry &entry = *row->entry;
        if (entry.secretSource == Config::SecretSource::KeyFile && !entry.keyFile.empty()) {
            tryQuietly(id, vault, Client::Secret::keyFile(entry.keyFile),
                       tr("The key file %1 did not open the vault. Choose another or type the passphrase.")
                           .arg(decodedPath(entry.keyFile)));
            return;
        }
        if (entry.secretSource == Config::SecretSource::Keyring && m_store) {
            m_store->load(id, [this, id, vault](SecretBuffer secret, const Error *error) {
                if (!error) {
                    tryQuietly(id, vault, Client::Secret::passphrase(std::move(secret)),
                               tr("The passphrase in the keyring no longer opens the vault."));
                } else {
                    showUnlockDialog(id, vault, error->code() == ErrorCode::NotFound
                                                    ? QString()
                                                    : tr("The keyring could not give the passphrase: %1").arg(message(*error)));
                }
            });
            return;
        }
    }
    showUnlockDialog(id, vault, {});
}

void VaultController::tryQuietly(const QString &id, Client::VaultHandle *vault, const Client::Secret &secret,
                                 const QString &ifRefused)
{
    Client::Request *request = vault->unlock(secret);
    connect(request, &Client::Request::finished, this, [this, id, vault, ifRefused](const std::optional<Error> &error) {
        if (!error) {
            unlocked(id, vault);
        } else if (error->code() == ErrorCode::BadPassphrase || error->code() == ErrorCode::NotFound
                   || error->code() == ErrorCode::InvalidArgument) {
            showUnlockDialog(id, vault, ifRefused);
        } else {
            m_waitingForUnlock.remove(id);
            fail(id, message(*error));
        }
    });
}

void VaultController::showUnlockDialog(const QString &id, Client::VaultHandle *vault, const QString &problem)
{
    if (UnlockDialog *open = unlockDialog(id)) {
        open->raise();
        open->activateWindow();
        return;
    }
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row) {
        m_waitingForUnlock.remove(id);
        return;
    }
    auto *dialog = new UnlockDialog(row->name(), row->driveName());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    const bool keyring = row->entry && row->entry->secretSource == Config::SecretSource::Keyring;
    dialog->setRememberOffered(m_store && row->entry && (keyring || PassphraseStore::keyringRunning()), keyring);
    if (row->entry && row->entry->secretSource == Config::SecretSource::KeyFile && !row->entry->keyFile.empty())
        dialog->setKeyFile(decodedPath(row->entry->keyFile));
    if (!problem.isEmpty())
        dialog->showError(problem);
    m_unlockDialogs.insert(id, dialog);
    connect(dialog, &UnlockDialog::unlockRequested, this,
            [this, id, vault, dialog](const Client::Secret &secret, bool remember) {
        Client::Request *request = vault->unlock(secret);
        connect(request, &Client::Request::finished, dialog,
                [this, id, vault, dialog, secret, remember](const std::optional<Error> &error) {
            if (!error) {
                rememberChoice(id, secret, remember);
                dialog->accept();
                unlocked(id, vault);
            } else if (error->code() == ErrorCode::BadPassphrase) {
                dialog->showError(secret.isKeyFile() ? tr("This key file does not open the vault.")
                                                     : tr("Wrong passphrase. Try again."));
            } else {
                dialog->showError(message(*error));
            }
        });
    });
    connect(dialog, &QDialog::rejected, this, [this, id] { m_waitingForUnlock.remove(id); });
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

void VaultController::unlocked(const QString &id, Client::VaultHandle *vault)
{
    m_model->clearError(id);
    const QList<Continuation> waiting = m_waitingForUnlock.take(id);
    for (const Continuation &then : waiting)
        then(vault);
}

void VaultController::rememberChoice(const QString &id, const Client::Secret &secret, bool remember)
{
    const std::optional<VaultRow> row = m_model->row(id);
    if (!m_store || !row || !row->entry || secret.isKeyFile())
        return;
    const bool remembered = row->entry->secretSource == Config::SecretSource::Keyring;
    if (remember == remembered && !remember)
        return;
    auto reported = [this, id](const Error *error) {
        if (error)
            fail(id, tr("The keyring: %1").arg(message(*error)));
    };
    if (remember)
        m_store->store(id, *secret.contents(), reported);
    else
        m_store->forget(id, reported);
    if (remember == remembered)
        return;
    try {
        Config::VaultEntry entry = *row->entry;
        entry.secretSource = remember ? Config::SecretSource::Keyring : Config::SecretSource::Prompt;
        m_model->registry()->putVault(entry);
    } catch (const Error &e) {
        fail(id, message(e));
    }
}

void VaultController::backUp(const QString &vaultId)
{
    const QString id = vaultId.toLower();
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row)
        return;
    if (row->job) {
        if (ProgressWindow *w = progressWindow(id)) {
            w->show();
            w->raise();
            w->activateWindow();
        }
        return;
    }
    if (const std::optional<QString> why = whyNoBackup(id)) {
        fail(id, *why);
        return;
    }
    const bool lockAfter = !row->isOpen() && row->entry->lock.afterSync;
    withUnlocked(id, [this, id, lockAfter](Client::VaultHandle *vault) { startBackup(id, vault, lockAfter); });
}

void VaultController::startBackup(const QString &id, Client::VaultHandle *vault, bool lockAfter)
{
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row || !row->entry || row->job)
        return;
    const Config::VaultEntry &entry = *row->entry;
    QStringList sources;
    for (const std::string &source : entry.sources)
        sources << decodedPath(source);
    Helper1::SyncOptions options;
    options.mode = entry.mode;
    options.excludes = entry.excludes;
    options.retention = entry.retention;
    Client::JobHandle *job = vault->sync(sources, options);
    m_model->watchJob(id, job);

    delete m_progressWindows.take(id).data();
    auto *window = new ProgressWindow(row->name(), row->driveName());
    window->setAttribute(Qt::WA_DeleteOnClose);
    m_progressWindows.insert(id, window);
    connect(job, &Client::JobHandle::progressChanged, window, &ProgressWindow::setProgress);
    connect(window, &ProgressWindow::cancelRequested, job, &Client::JobHandle::cancel);
    connect(job, &Client::JobHandle::finished, this,
            [this, id, lockAfter](Helper1::JobOutcome outcome, const std::optional<Error> &error,
                                  const Client::JobResult &result) {
        backupFinished(id, lockAfter, outcome, error, result);
    });
    connect(this, &VaultController::safeToUnplug, window, [window, id](const QString &lockedId) {
        if (lockedId == id)
            window->setLocked({});
    });
    window->show();
    window->raise();
    window->activateWindow();
}

void VaultController::backupFinished(const QString &id, bool lockAfter, Helper1::JobOutcome outcome,
                                     const std::optional<Error> &error, const Client::JobResult &result)
{
    std::optional<VaultRow> row = m_model->row(id);
    const Sync::Result sync = result.sync.value_or(Sync::Result{});
    if (row && row->entry) {
        try {
            m_model->registry()->recordSync(row->entry->luksUuid, {QDateTime::currentDateTimeUtc(), outcome,
                                                                   sync.bytesCopied, sync.filesCopied});
        } catch (const Error &e) {
            fail(id, tr("The backup's record could not be saved: %1").arg(message(e)));
        }
    }
    const QString name = row ? row->name() : id;
    QPointer<ProgressWindow> window = progressWindow(id);
    if (window)
        window->setFinished(outcome, error, result);
    if (!window || !window->isVisible()) {
        const bool bad = outcome == Helper1::JobOutcome::Failed;
        notify(bad ? tr("The backup of “%1” failed").arg(name) : tr("Backup of “%1” ended").arg(name),
               error ? message(*error) : result.message, bad);
    }

    const QString autoLockWhy = m_lockWhenDone.take(id);
    const bool mediumGone = error && error->code() == ErrorCode::MediumGone;
    row = m_model->row(id);
    if (!row || !row->isOpen() || mediumGone)
        return;
    if (!lockAfter && autoLockWhy.isEmpty()) {
        if (window)
            window->setStaysOpen();
        return;
    }
    if (window)
        window->setLocking();
    const std::optional<Media::Medium> medium = row->medium;
    lockThen(id, false, true, [this, id, window, medium](const std::optional<Error> &lockError) {
        if (!window)
            return;
        if (lockError) {
            window->setLockFailed(message(*lockError));
            return;
        }
        QStringList others;
        for (const VaultRow &r : m_model->rows()) {
            if (r.id != id && r.isOpen() && medium && r.medium && r.medium->devnum == medium->devnum)
                others << r.name();
        }
        if (!medium || !others.isEmpty())
            window->setLocked(others);
        // Else safeToUnplug() follows once the drive is written out.
    });
}

void VaultController::lock(const QString &id)
{
    lockThen(id.toLower(), false, true, [](const std::optional<Error> &) {});
}

void VaultController::forceLock(const QString &id)
{
    lockThen(id.toLower(), true, true, [](const std::optional<Error> &) {});
}

void VaultController::autoLock(const QString &vaultId, const QString &why)
{
    const QString id = vaultId.toLower();
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row || !row->isOpen())
        return;
    if (row->job) {
        m_lockWhenDone.insert(id, why);
        return;
    }
    const QString name = row->name();
    lockThen(id, false, false, [this, id, name, why](const std::optional<Error> &error) {
        if (error)
            notify(tr("“%1” could not be locked (%2)").arg(name, why), message(*error), true);
        else
            Q_EMIT autoLocked(id, why);
    });
}

void VaultController::lockThen(const QString &id, bool force, bool announce,
                               std::function<void(const std::optional<Error> &)> then)
{
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row || !row->isOpen()) {
        then(std::nullopt);
        return;
    }
    const std::optional<Media::Medium> medium = row->medium;
    Helper1::LockOptions options;
    options.force = force;
    Client::Request *request = row->handle->lock(options);
    connect(request, &Client::Request::finished, this,
            [this, id, announce, medium, then](const std::optional<Error> &error) {
        if (!error) {
            Q_EMIT locked(id);
            if (announce)
                announceUnplug(id, medium);
        } else if (error->code() == ErrorCode::Busy) {
            Q_EMIT lockBusy(id, message(*error));
        } else {
            m_model->setError(id, message(*error));
            fail(id, message(*error));
        }
        then(error);
    });
}

void VaultController::announceUnplug(const QString &id, const std::optional<Media::Medium> &medium)
{
    if (!medium)
        return;
    for (const VaultRow &r : m_model->rows()) {
        if (r.id != id && r.isOpen() && r.medium && r.medium->devnum == medium->devnum)
            return; // another vault on the drive is still open
    }
    const QString drive = Media::displayName(*medium);
    const std::optional<VaultRow> row = m_model->row(id);
    const QString name = row ? row->name() : id;
    auto announce = [this, id, drive, name] {
        Q_EMIT safeToUnplug(id, drive);
        notify(tr("Safe to unplug %1").arg(drive), tr("“%1” is locked and everything is written to the drive.").arg(name));
    };
    if (medium->mountPoints.empty()) {
        announce();
        return;
    }
    auto *watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcher<void>::finished, this, [watcher, announce] {
        watcher->deleteLater();
        announce();
    });
    watcher->setFuture(QtConcurrent::run(syncFilesystem, medium->mountPoints.front()));
}

void VaultController::lockAll()
{
    Client::Request *request = m_model->client()->lockAll();
    connect(request, &Client::Request::finished, this, [this](const std::optional<Error> &error) {
        if (error)
            fail({}, message(*error));
    });
}

void VaultController::openFolder(const QString &id)
{
    const std::optional<VaultRow> row = m_model->row(id);
    if (!row || !row->isOpen())
        return;
    const QString folder = row->handle->info().mountPoint;
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(folder)))
        fail(row->id, tr("No file manager could open %1.").arg(folder));
}

void VaultController::notify(const QString &summary, const QString &body, bool critical)
{
    if (!m_notifications || !m_notifications->isServerPresent() || !m_model->registry()->settings().notifications)
        return;
    Notifications::Notification n;
    n.summary = summary;
    n.body = body;
    n.iconName = QStringLiteral("org.coffer.Coffer");
    n.desktopEntry = QStringLiteral("org.coffer.Coffer");
    n.urgency = critical ? Notifications::Urgency::Critical : Notifications::Urgency::Normal;
    m_notifications->notify(n);
}

void VaultController::fail(const QString &id, const QString &text)
{
    Q_EMIT failed(id, text);
}

} // namespace Coffer::Ui
