#pragma once

// What a backup would do, from a dry run: what goes in (counts, bytes, the items themselves),
// whether it fits, and what could not be read. Fed by the create wizard's in-process preview
// (core/create) before the vault exists, and by the helper's dry run (JobHandle's Result) after.

#include "sync/syncengine.h"

#include <QWidget>

#include <cstdint>

class QLabel;
class QTreeWidget;

namespace Coffer::Ui {

class StatusLine;

class PlanView : public QWidget
{
    Q_OBJECT

public:
    explicit PlanView(QWidget *parent = nullptr);

    // needed: the space the plan takes in the vault; room: what the vault has for it (free
    // space and what the plan deletes); fits: the verdict (room >= needed, or the helper's).
    void setPlan(const Sync::Result &dryRun, uint64_t needed, uint64_t room, bool fits);
    void clear();

    QLabel *summary() const { return m_summary; }
    StatusLine *verdict() const { return m_verdict; }
    QTreeWidget *items() const { return m_items; }
    StatusLine *problems() const { return m_problems; }

private:
    QLabel *m_summary;
    StatusLine *m_verdict;
    QTreeWidget *m_items;
    StatusLine *m_problems;
};

} // namespace Coffer::Ui
