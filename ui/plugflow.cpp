#include "plugflow.h"

#include "desktop/notifications.h"
#include "texts.h"
#include "vaultcontroller.h"
#include "vaultmodel.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

namespace Coffer::Ui {

namespace {

const QString BackUpKey = QStringLiteral("backup");
const QString UnlockKey = QStringLiteral("unlock");
const QString NotNowKey = QStringLiteral("notnow");
const QString AlwaysKey = QStringLiteral("always");
const QString AddKey = QStringLiteral("add");

Media::ScanResult scanQuietly(const PlugFlow::Scanner &scanner, const Media::Medium &medium)
{
    try {
        return scanner(medium);
    } catch (const Error &) {
        return {}; // a drive that cannot be read holds nothing to offer
    }
}


} // namespace

PlugFlow::Decision PlugFlow::decide(const Config::VaultEntry &entry)
{
    switch (entry.trigger) {
    case Config::Trigger::Ask: return Decision::Ask;
    case Config::Trigger::Backup: return Decision::BackUp;
    case Config::Trigger::Manual: return Decision::Nothing;
    }
    return Decision::Ask;
}

PlugFlow::PlugFlow(VaultModel *model, VaultController *controller, Notifications *notifications, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_controller(controller)
    , m_notifications(notifications)
    , m_scanner([](const Media::Medium &medium) { return Media::scanMedium(medium); })
{
    qRegisterMetaType<std::vector<FoundVault>>();
    if (notifications) {
        connect(notifications, &Notifications::actionInvoked, this, &PlugFlow::onAction);
        connect(notifications, &Notifications::closed, this, &PlugFlow::onClosed);
        connect(notifications, &Notifications::failed, this, [this](uint handle) {
            // The person never saw it: ask in a window instead.
            const Question question = m_questions.take(handle);
            if (!question.id.isEmpty()) {
                if (const std::optional<Media::Medium> medium = m_model->row(question.id) ? m_model->row(question.id)->medium
                                                                                          : std::nullopt)
                    ask(question.id, *medium);
            } else if (!question.found.empty()) {
                Q_EMIT addRequested(question.found);
            }
        });
    }
}

PlugPrompt *PlugFlow::prompt(const QString &id) const
{
    return m_prompts.value(id.toLower()).data();
}

void PlugFlow::mediumAdded(const Media::Medium &medium)
{
    plugged(medium);
}

void PlugFlow::mediumChanged(const Media::Medium &medium)
{
    if (m_waitingForMount.contains(medium.devnum))
        plugged(medium);
}

void PlugFlow::mediumRemoved(const Media::Medium &medium)
{
    m_waitingForMount.remove(medium.devnum);
    // Questions about a drive that is gone have no answer any more.
    for (auto it = m_questions.begin(); it != m_questions.end();) {
        if (it->devnum == medium.devnum) {
            if (m_notifications)
                m_notifications->close(it.key());
            it = m_questions.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = m_prompts.begin(); it != m_prompts.end();) {
        if (it.value() && it.value()->property("devnum").toULongLong() == quint64(medium.devnum)) {
            it.value()->deleteLater();
            it = m_prompts.erase(it);
        } else {
            ++it;
        }
    }
}

void PlugFlow::plugged(const Media::Medium &medium)
{
    // The vault file is on the drive's filesystem: wait for the desktop to mount it.
    if (!medium.mounted()) {
        m_waitingForMount.insert(medium.devnum);
        return;
    }
    m_waitingForMount.remove(medium.devnum);
    QStringList registered;
    for (const QString &id : m_model->vaultsOn(medium)) {
        if (m_model->row(id)->entry)
            registered << id;
    }
    if (registered.isEmpty()) {
        findUnknown({medium}, [this](const std::vector<FoundVault> &found) {
            if (!found.empty())
                offer(found);
        });
        return;
    }
    for (const QString &id : registered) {
        switch (decide(*m_model->row(id)->entry)) {
        case Decision::Ask: ask(id, medium); break;
        case Decision::BackUp: m_controller->backUp(id); break;
        case Decision::Nothing: break;
        }
    }
}

bool PlugFlow::notificationsWithActions() const
{
    return m_notifications && m_model->registry()->settings().notifications && m_notifications->isServerPresent()
           && m_notifications->supportsActions();
}

void PlugFlow::ask(const QString &id, const Media::Medium &medium)
{
    const std::optional<VaultRow> row = m_model->row(id);
    const QString drive = Media::displayName(medium);
    if (notificationsWithActions()) {
        Notifications::Notification n;
        n.summary = tr("%1 plugged in").arg(drive);
        n.body = tr("Back up “%1” now?").arg(row->name());
        n.iconName = QStringLiteral("org.coffer.Coffer");
        n.actions = {{BackUpKey, tr("Back up now")},
                     {UnlockKey, tr("Unlock only")},
                     {NotNowKey, tr("Not now")},
                     {AlwaysKey, tr("Always back up on plug")}};
        n.defaultActionLabel = tr("Back up now");
        n.category = QStringLiteral("device.added");
        n.desktopEntry = QStringLiteral("org.coffer.Coffer");
        n.timeoutMs = 0; // a question waits for its answer
        m_questions.insert(m_notifications->notify(n), {id, {}, medium.devnum});
        Q_EMIT asked(id);
        return;
    }
    if (PlugPrompt *open = prompt(id)) {
        open->raise();
        open->activateWindow();
        return;
    }
    auto *window = new PlugPrompt(row->name(), drive);
    window->setProperty("devnum", quint64(medium.devnum));
    m_prompts.insert(id, window);
    connect(window, &PlugPrompt::answered, this, [this, id](PlugAnswer a) { answer(id, a); });
    window->show();
    window->raise();
    window->activateWindow();
    Q_EMIT asked(id);
}

void PlugFlow::answer(const QString &id, PlugAnswer answer)
{
    m_prompts.remove(id);
    switch (answer) {
    case PlugAnswer::BackUpNow:
        m_controller->backUp(id);
        break;
    case PlugAnswer::UnlockOnly:
        m_controller->unlock(id);
        break;
    case PlugAnswer::NotNow:
        break;
    case PlugAnswer::Always: {
        if (const std::optional<VaultRow> row = m_model->row(id); row && row->entry) {
            Config::VaultEntry entry = *row->entry;
            entry.trigger = Config::Trigger::Backup;
            try {
                m_model->registry()->putVault(entry);
            } catch (const Error &e) {
                Q_EMIT m_controller->failed(id, QString::fromStdString(e.message()));
            }
        }
        m_controller->backUp(id);
        break;
    }
    }
}

void PlugFlow::onAction(uint handle, const QString &key)
{
    const auto it = m_questions.constFind(handle);
    if (it == m_questions.cend())
        return;
    const Question question = *it;
    m_questions.erase(it);
    if (!question.id.isEmpty()) {
        const PlugAnswer a = key == UnlockKey ? PlugAnswer::UnlockOnly
                             : key == NotNowKey ? PlugAnswer::NotNow
                             : key == AlwaysKey ? PlugAnswer::Always
                                                : PlugAnswer::BackUpNow; // "backup" and the default action
        answer(question.id, a);
    } else if (key == AddKey || key == QLatin1String(Notifications::DefaultActionKey)) {
        Q_EMIT addRequested(question.found);
    }
}

void PlugFlow::onClosed(uint handle)
{
    m_questions.remove(handle); // dismissed: not now
}

void PlugFlow::findUnknown(const std::vector<Media::Medium> &media,
                           std::function<void(std::vector<FoundVault>)> done)
{
    using Scans = std::vector<std::pair<Media::Medium, Media::ScanResult>>;
    auto *watcher = new QFutureWatcher<Scans>(this);
    connect(watcher, &QFutureWatcher<Scans>::finished, this, [this, watcher, done] {
        watcher->deleteLater();
        std::vector<FoundVault> unknown;
        for (const auto &[medium, scan] : watcher->result()) {
            for (const Media::FoundVault &vault : scan.vaults) {
                if (!m_model->registry()->vault(vault.luksUuid))
                    unknown.push_back({medium, vault});
            }
        }
        done(unknown);
    });
    watcher->setFuture(QtConcurrent::run([scanner = m_scanner, media] {
        Scans scans;
        for (const Media::Medium &medium : media) {
            if (medium.mounted())
                scans.emplace_back(medium, scanQuietly(scanner, medium));
        }
        return scans;
    }));
}

void PlugFlow::offer(const std::vector<FoundVault> &found)
{
    if (!notificationsWithActions()) {
        Q_EMIT addRequested(found);
        return;
    }
    const QString drive = Media::displayName(found.front().medium);
    Notifications::Notification n;
    n.summary = tr("A vault is on %1").arg(drive);
    n.body = found.size() == 1 ? tr("“%1” is not in Coffer yet. Add it, to back up into it?").arg(Texts::foundName(found.front().vault))
                               : tr("%n vault(s) on it are not in Coffer yet. Add them, to back up into them?", nullptr,
                                    int(found.size()));
    n.iconName = QStringLiteral("org.coffer.Coffer");
    n.actions = {{AddKey, tr("Add to Coffer…")}, {NotNowKey, tr("Not now")}};
    n.defaultActionLabel = tr("Add to Coffer…");
    n.category = QStringLiteral("device.added");
    n.desktopEntry = QStringLiteral("org.coffer.Coffer");
    n.timeoutMs = 0;
    m_questions.insert(m_notifications->notify(n), {QString(), found, found.front().medium.devnum});
    Q_EMIT addOffered(found);
}

} // namespace Coffer::Ui
