#include "progresswindow.h"

#include "elidedlabel.h"
#include "texts.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace Coffer::Ui {

namespace {

constexpr int barSteps = 1000;

QLabel *plainLabel(QWidget *parent, const char *objectName, const QString &accessibleName)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QLatin1String(objectName));
    label->setTextFormat(Qt::PlainText);
    label->setWordWrap(true);
    label->setAccessibleName(accessibleName);
    return label;
}

} // namespace

ProgressWindow::ProgressWindow(const QString &vaultName, const QString &driveName, QWidget *parent)
    : QDialog(parent)
    , m_vaultName(vaultName)
    , m_driveName(driveName)
    , m_title(plainLabel(this, "title", tr("Backup")))
    , m_phase(plainLabel(this, "phase", tr("Phase")))
    , m_bar(new QProgressBar(this))
    , m_counts(plainLabel(this, "counts", tr("Files and bytes")))
    , m_item(new ElidedLabel(this))
    , m_outcome(plainLabel(this, "outcome", tr("Outcome")))
    , m_unreadable(new QListWidget(this))
    , m_unplug(plainLabel(this, "unplug", tr("Drive")))
    , m_cancel(new QPushButton(tr("&Cancel backup"), this))
    , m_close(new QPushButton(tr("C&lose"), this))
{
    setObjectName(QStringLiteral("progressWindow"));
    setWindowTitle(tr("Backing up “%1”").arg(vaultName));
    m_title->setText(driveName.isEmpty() ? tr("Backing up “%1”").arg(vaultName)
                                         : tr("Backing up “%1” on %2").arg(vaultName, driveName));
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_bar->setObjectName(QStringLiteral("bar"));
    m_bar->setAccessibleName(tr("Backup progress"));
    m_bar->setRange(0, 0);
    m_bar->setTextVisible(false);
    m_item->setObjectName(QStringLiteral("currentItem"));
    m_item->setAccessibleName(tr("Current item"));
    m_unreadable->setObjectName(QStringLiteral("unreadable"));
    m_unreadable->setAccessibleName(tr("Items that could not be read"));
    m_unreadable->hide();
    m_outcome->hide();
    m_unplug->setFont(bold);
    m_unplug->hide();
    m_cancel->setObjectName(QStringLiteral("cancelButton"));
    m_cancel->setAccessibleName(tr("Cancel the backup"));
    m_close->setObjectName(QStringLiteral("closeButton"));
    m_close->setAccessibleName(tr("Close"));
    m_phase->setText(tr("Starting…"));
    m_counts->hide();
    m_item->hide();

    auto *buttons = new QDialogButtonBox(this);
    buttons->addButton(m_cancel, QDialogButtonBox::RejectRole);
    buttons->addButton(m_close, QDialogButtonBox::AcceptRole);
    m_close->hide(); // after addButton, which shows what it adds
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_cancel->setEnabled(false);
        m_phase->setText(tr("Cancelling…"));
        Q_EMIT cancelRequested();
    });
    connect(m_close, &QPushButton::clicked, this, &QDialog::accept);
    // The dialog box would reject on Cancel too; the buttons' own handlers decide.
    disconnect(buttons, nullptr, this, nullptr);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addWidget(m_phase);
    layout->addWidget(m_bar);
    layout->addWidget(m_counts);
    layout->addWidget(m_item);
    layout->addWidget(m_outcome);
    layout->addWidget(m_unreadable, 1);
    layout->addWidget(m_unplug);
    layout->addStretch();
    layout->addWidget(buttons);
    setMinimumWidth(480);
    m_cancel->setFocus();
}

void ProgressWindow::setProgress(const Client::JobProgress &p)
{
    if (!m_running)
        return;
    QString phase, counts;
    bool indeterminate = false;
    switch (p.phase.value_or(Sync::Phase::Scan)) {
    case Sync::Phase::Scan:
        indeterminate = true;
        phase = p.phase ? tr("Looking for changes…") : tr("Starting…");
        if (p.filesDone)
            counts = tr("%n item(s) looked at", nullptr, int(p.filesDone));
        break;
    case Sync::Phase::Copy:
        phase = tr("Copying files…");
        counts = tr("%1 of %2 files, %3 of %4")
                     .arg(p.filesDone).arg(p.filesTotal)
                     .arg(Texts::bytes(p.bytesDone), Texts::bytes(p.bytesTotal));
        break;
    case Sync::Phase::Delete:
        phase = tr("Removing what was deleted here…");
        counts = tr("%1 of %2 removed").arg(p.filesDone).arg(p.filesTotal);
        break;
    case Sync::Phase::Flush:
        // No measure of its own: the drive says when it is done.
        indeterminate = true;
        phase = tr("Writing everything to the drive…");
        counts = tr("Waiting for the drive to confirm that the data is written.");
        break;
    case Sync::Phase::Done:
        phase = tr("Finishing…");
        break;
    }
    m_phase->setText(phase);
    m_counts->setText(counts);
    m_counts->setVisible(!counts.isEmpty());
    m_item->setFullText(p.currentItem);
    m_item->setVisible(!p.currentItem.isEmpty());
    if (indeterminate) {
        m_bar->setRange(0, 0);
    } else {
        m_bar->setRange(0, barSteps);
        m_bar->setValue(int(qBound(0.0, p.fraction, 1.0) * barSteps));
    }
}

void ProgressWindow::setFinished(Helper1::JobOutcome outcome, const std::optional<Error> &error,
                                 const Client::JobResult &result)
{
    m_running = false;
    m_cancel->hide();
    m_close->show();
    m_close->setDefault(true);
    m_close->setFocus();
    m_bar->setRange(0, barSteps);
    m_item->setFullText({});
    m_item->hide();
    m_counts->clear();
    m_counts->hide();
    m_title->setText(m_driveName.isEmpty() ? tr("Backup of “%1”").arg(m_vaultName)
                                           : tr("Backup of “%1” on %2").arg(m_vaultName, m_driveName));
    QString text;
    const Sync::Result sync = result.sync.value_or(Sync::Result{});
    switch (outcome) {
    case Helper1::JobOutcome::Ok:
    case Helper1::JobOutcome::Running:
        m_bar->setValue(barSteps);
        m_phase->setText(tr("Backed up."));
        text = tr("%n file(s) copied (%1), %2 removed, %3 looked at.", nullptr, int(sync.filesCopied))
                   .arg(Texts::bytes(sync.bytesCopied))
                   .arg(sync.filesDeleted)
                   .arg(sync.filesScanned);
        break;
    case Helper1::JobOutcome::Partial: {
        m_bar->setValue(barSteps);
        m_phase->setText(tr("Backed up, with gaps."));
        const uint64_t unreadable = sync.warnings.size() + sync.warningsDropped;
        text = tr("%n item(s) could not be read and are not in this backup:", nullptr, int(unreadable));
        m_unreadable->clear();
        for (const Sync::Warning &w : sync.warnings)
            m_unreadable->addItem(tr("%1: %2").arg(Texts::fromBytes(w.path), QString::fromStdString(w.message)));
        if (sync.warningsDropped)
            m_unreadable->addItem(tr("… and %n more", nullptr, int(sync.warningsDropped)));
        m_unreadable->show();
        break;
    }
    case Helper1::JobOutcome::Cancelled:
        m_bar->hide();
        m_phase->setText(tr("Cancelled."));
        text = tr("The vault holds the last complete backup; nothing half-copied is in it.");
        break;
    case Helper1::JobOutcome::Failed:
        m_bar->hide();
        m_phase->setText(tr("The backup failed."));
        text = error ? QString::fromStdString(error->message()) : tr("The helper did not say why.");
        break;
    }
    m_outcome->setText(text);
    m_outcome->show();
    setWindowTitle(tr("Backup of “%1”").arg(m_vaultName));
}

void ProgressWindow::setLocking()
{
    m_unplug->setText(tr("Locking the vault…"));
    m_unplug->show();
}

void ProgressWindow::setLocked(const QStringList &othersOpen)
{
    if (!othersOpen.isEmpty()) {
        QStringList quoted;
        for (const QString &name : othersOpen)
            quoted << tr("“%1”").arg(name);
        m_unplug->setText(tr("Locked. %1 is still open on %2: lock it before you unplug the drive.")
                              .arg(quoted.join(tr(", ")), m_driveName));
    } else {
        m_unplug->setText(m_driveName.isEmpty() ? tr("Locked.") : tr("Locked. Safe to unplug %1.").arg(m_driveName));
    }
    m_unplug->show();
}

void ProgressWindow::setLockFailed(const QString &message)
{
    m_unplug->setText(tr("The vault could not be locked: %1 Do not unplug the drive yet.").arg(message));
    m_unplug->show();
}

void ProgressWindow::setStaysOpen()
{
    m_unplug->setText(tr("The vault stays open. Lock it before you unplug the drive."));
    m_unplug->show();
}

QString ProgressWindow::phaseText() const
{
    return m_phase->text();
}

QString ProgressWindow::countsText() const
{
    return m_counts->text();
}

QString ProgressWindow::currentItemText() const
{
    return m_item->fullText();
}

QString ProgressWindow::outcomeText() const
{
    return m_outcome->isHidden() ? QString() : m_outcome->text();
}

QString ProgressWindow::unplugText() const
{
    return m_unplug->isHidden() ? QString() : m_unplug->text();
}

QStringList ProgressWindow::unreadableItems() const
{
    QStringList items;
    for (int i = 0; i < m_unreadable->count(); ++i)
        items << m_unreadable->item(i)->text();
    return items;
}

bool ProgressWindow::isProgressIndeterminate() const
{
    return m_bar->minimum() == 0 && m_bar->maximum() == 0;
}

void ProgressWindow::reject()
{
    hide();
}

} // namespace Coffer::Ui
