#include "notice.h"

#include "vaultcontroller.h"
#include "vaultmodel.h"

namespace Coffer::Ui {

Notice::Notice(VaultModel *model, VaultController *controller, QObject *parent)
    : QObject(parent)
    , m_model(model)
{
    const auto nameOf = [this](const QString &id) {
        const std::optional<VaultRow> row = m_model->row(id);
        return row ? row->name() : id;
    };
    connect(controller, &VaultController::failed, this, [this](const QString &, const QString &text) { say(text, true); });
    connect(controller, &VaultController::safeToUnplug, this, [this, nameOf](const QString &id, const QString &drive) {
        say(tr("“%1” is locked. Safe to unplug %2.").arg(nameOf(id), drive), false, id);
    });
    connect(controller, &VaultController::autoLocked, this, [this, nameOf](const QString &id, const QString &why) {
        say(tr("“%1” was locked: %2.").arg(nameOf(id), why), false, id);
    });
    connect(model, &VaultModel::vaultUnlocked, this, [this](const QString &id) {
        if (!m_aboutLocked.isEmpty() && id == m_aboutLocked)
            clear(); // no longer true
    });
}

void Notice::say(const QString &text, bool problem, const QString &aboutLocked)
{
    m_text = text;
    m_problem = problem;
    m_aboutLocked = aboutLocked;
    emit changed();
}

void Notice::clear()
{
    say({});
}

} // namespace Coffer::Ui
