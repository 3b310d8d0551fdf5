#include "planview.h"

#include "texts.h"
#include "uihelpers.h"

#include <QHeaderView>
#include <QLabel>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Coffer::Ui {

namespace {

// A dry run lists every change; the view shows the first of them.
constexpr size_t maxShownItems = 5000;

QString actionText(Sync::PlanAction action)
{
    switch (action) {
    case Sync::PlanAction::Add: return PlanView::tr("New");
    case Sync::PlanAction::Update: return PlanView::tr("Changed");
    case Sync::PlanAction::Metadata: return PlanView::tr("Permissions or time");
    case Sync::PlanAction::Delete: return PlanView::tr("Removed");
    }
    return {};
}

} // namespace

PlanView::PlanView(QWidget *parent)
    : QWidget(parent)
    , m_summary(new QLabel(this))
    , m_verdict(new StatusLine(this))
    , m_items(named(new QTreeWidget(this), tr("What goes in")))
    , m_problems(new StatusLine(this))
{
    m_summary->setObjectName(QStringLiteral("planSummary"));
    m_verdict->setObjectName(QStringLiteral("planVerdict"));
    m_items->setObjectName(QStringLiteral("planItems"));
    m_problems->setObjectName(QStringLiteral("planProblems"));
    m_summary->setWordWrap(true);
    m_items->setColumnCount(3);
    m_items->setHeaderLabels({tr("Change"), tr("Item"), tr("Size")});
    m_items->setRootIsDecorated(false);
    m_items->setUniformRowHeights(true);
    m_items->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_items->header()->setStretchLastSection(false);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_summary);
    layout->addWidget(m_verdict);
    layout->addWidget(m_items, 1);
    layout->addWidget(m_problems);
}

void PlanView::clear()
{
    m_summary->clear();
    m_verdict->clear();
    m_items->clear();
    m_problems->clear();
}

void PlanView::setPlan(const Sync::Result &dryRun, uint64_t needed, uint64_t room, bool fits)
{
    const Sync::Plan &plan = dryRun.plan;
    const uint64_t changes = plan.added + plan.updated + plan.metadataOnly;
    QString summary = changes == 0 && plan.deleted == 0
        ? tr("Nothing to copy: the vault already holds all of it.")
        : tr("Items to copy: %1, %2 in all.").arg(changes).arg(Texts::bytes(plan.bytesToWrite));
    if (plan.deleted)
        summary += QLatin1Char(' ') + tr("Items to remove from the vault: %1.").arg(plan.deleted);
    if (plan.unchanged)
        summary += QLatin1Char(' ') + tr("Unchanged: %1.").arg(plan.unchanged);
    m_summary->setText(summary);
    m_summary->setAccessibleName(summary);

    if (fits)
        m_verdict->setMessage(StatusLine::Kind::Success, tr("It fits: it takes about %1 of the %2 the vault has for it.")
                                                             .arg(Texts::bytes(needed), Texts::bytes(room)));
    else
        m_verdict->setMessage(StatusLine::Kind::Error,
                              tr("It does not fit: it takes about %1, and the vault has %2 for it.")
                                  .arg(Texts::bytes(needed), Texts::bytes(room)));

    m_items->clear();
    QList<QTreeWidgetItem *> rows;
    for (size_t i = 0; i < plan.items.size() && i < maxShownItems; ++i) {
        const Sync::PlanItem &item = plan.items[i];
        const bool file = item.type == 'f' && item.action != Sync::PlanAction::Metadata;
        rows << new QTreeWidgetItem({actionText(item.action), Texts::fromBytes(item.path),
                                     file ? Texts::bytes(item.bytes) : QString()});
    }
    m_items->addTopLevelItems(rows);
    m_items->resizeColumnToContents(0);
    m_items->resizeColumnToContents(2);

    QStringList problems;
    for (const Sync::Warning &w : dryRun.warnings)
        problems << (w.path.empty() ? QString() : Texts::fromBytes(w.path) + QStringLiteral(": ")) + Texts::fromBytes(w.message);
    if (dryRun.warningsDropped)
        problems << tr("and %n more.", nullptr, int(dryRun.warningsDropped));
    if (problems.isEmpty())
        m_problems->clear();
    else
        m_problems->setMessage(StatusLine::Kind::Warning,
                               tr("These cannot be read and would be left out:") + QLatin1Char('\n') + problems.join(u'\n'));
    const uint64_t allChanges = plan.items.size() + plan.itemsDropped;
    m_items->setAccessibleDescription(allChanges > uint64_t(rows.size())
                                          ? tr("The first %1 of %2 changes.").arg(rows.size()).arg(allChanges)
                                          : QString());
}

} // namespace Coffer::Ui
