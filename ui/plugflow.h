#pragma once

// What plugging in a drive does (gui.md "Plug a drive"). A registered vault's drive, once it is
// mounted: its trigger decides: Ask (a notification with Back up now (the default action) /
// Unlock only / Not now / Always back up on plug, or the PlugPrompt window when the
// notification server shows no actions or notifications are off), Backup (at once), Manual
// (nothing). A drive with no registered vault is scanned (as the user) and a vault found on it
// is offered to be added. Drives present when the app starts were not plugged in: nothing.

#include "media/medium.h"
#include "media/vaultscan.h"
#include "plugprompt.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSet>

#include <functional>
#include <vector>

namespace Coffer {
class Notifications;
}
namespace Coffer::Config {
struct VaultEntry;
}

namespace Coffer::Ui {

class VaultController;
class VaultModel;

// A vault found on a drive that Coffer does not know yet.
struct FoundVault
{
    Media::Medium medium;
    Media::FoundVault vault;
};

class PlugFlow : public QObject
{
    Q_OBJECT

public:
    enum class Decision { Ask, BackUp, Nothing };
    // What a plug of the vault's drive does, by its trigger.
    static Decision decide(const Config::VaultEntry &entry);

    PlugFlow(VaultModel *model, VaultController *controller, Notifications *notifications, QObject *parent = nullptr);

    // How a drive is searched for vaults (scanMedium, on a worker thread; tests put in their own).
    using Scanner = std::function<Media::ScanResult(const Media::Medium &)>;
    void setScanner(Scanner scanner) { m_scanner = std::move(scanner); }

    // The window asking about a vault, while it is shown.
    PlugPrompt *prompt(const QString &id) const;

    // Scans the drives (the mounted ones) for vaults that are not registered; done(found)
    // later, from the event loop.
    void findUnknown(const std::vector<Media::Medium> &media, std::function<void(std::vector<FoundVault>)> done);

public Q_SLOTS:
    // Connect after the model's own slots: the flow reads the drive from the model.
    void mediumAdded(const Coffer::Media::Medium &medium);
    void mediumChanged(const Coffer::Media::Medium &medium);
    void mediumRemoved(const Coffer::Media::Medium &medium);
    void answer(const QString &id, Coffer::Ui::PlugAnswer answer);

Q_SIGNALS:
    // The question about the vault is out (a notification, or the prompt window).
    void asked(const QString &id);
    // A drive holds vaults Coffer does not know and the person wants to add them (or there was
    // no notification to ask in): the main window's add flow takes it from here.
    void addRequested(const std::vector<Coffer::Ui::FoundVault> &found);
    // The same offer as a notification (tests follow it).
    void addOffered(const std::vector<Coffer::Ui::FoundVault> &found);

private:
    struct Question
    {
        QString id;                        // a vault's plug question, or
        std::vector<FoundVault> found;     // the offer to add these
        dev_t devnum = 0;
    };
    void plugged(const Media::Medium &medium);
    void ask(const QString &id, const Media::Medium &medium);
    void offer(const std::vector<FoundVault> &found);
    bool notificationsWithActions() const;
    void onAction(uint handle, const QString &key);
    void onClosed(uint handle);

    VaultModel *m_model;
    VaultController *m_controller;
    Notifications *m_notifications;
    Scanner m_scanner;
    QSet<dev_t> m_waitingForMount; // plugged in, not mounted yet
    QHash<uint, Question> m_questions; // by notification handle
    QHash<QString, QPointer<PlugPrompt>> m_prompts;
};

} // namespace Coffer::Ui

Q_DECLARE_METATYPE(std::vector<Coffer::Ui::FoundVault>)
