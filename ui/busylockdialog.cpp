#include "busylockdialog.h"

#include "uihelpers.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Coffer::Ui {

BusyLockDialog::BusyLockDialog(const QString &vaultName, const Client::BusyReport &report, const QString &message,
                               QWidget *parent)
    : QDialog(parent)
    , m_holders(named(new QTreeWidget(this), tr("Programs that use the vault")))
    , m_retry(makeButton(tr("&Try Again"), this))
    , m_force(makeButton(tr("&Force Lock"), this))
{
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowTitle(tr("“%1” is in use").arg(vaultName));
    m_holders->setObjectName(QStringLiteral("holders"));
    m_retry->setObjectName(QStringLiteral("retry"));
    m_force->setObjectName(QStringLiteral("force"));
    m_force->setAccessibleName(tr("Stop those programs and lock"));

    auto *icon = new QLabel(this);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(32, 32));
    auto *heading = new QLabel(tr("“%1” cannot be locked while programs use it.").arg(vaultName), this);
    QFont bold = heading->font();
    bold.setBold(true);
    heading->setFont(bold);
    heading->setWordWrap(true);
    auto *advice = new QLabel(this);
    advice->setObjectName(QStringLiteral("advice"));
    advice->setWordWrap(true);
    if (report.otherUsers)
        advice->setText(tr("Programs of other users hold it; Coffer does not stop them. Ask them to close what "
                           "they have open in the vault, or ask an administrator."));
    else
        advice->setText(tr("Save your work and close these programs (or leave the vault's folder in them), then "
                           "Try Again. Force Lock stops them: what they have not saved is lost."));
    advice->setAccessibleName(advice->text());

    m_holders->setColumnCount(3);
    m_holders->setHeaderLabels({tr("Program"), tr("Process ID"), tr("Uses")});
    m_holders->setRootIsDecorated(false);
    m_holders->setUniformRowHeights(true);
    m_holders->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_holders->header()->setStretchLastSection(false);
    for (const Client::Holder &h : report.holders) {
        auto *item = new QTreeWidgetItem(m_holders, {h.name, QString::number(h.pid), h.what});
        item->setData(0, Qt::AccessibleTextRole, tr("%1, process %2, %3").arg(h.name).arg(h.pid).arg(h.what));
    }
    m_holders->resizeColumnToContents(1);
    m_holders->resizeColumnToContents(2);
    QLabel *more = nullptr;
    if (report.holders.isEmpty() || report.incomplete) {
        // Nothing listed (or maybe not everything): the helper's own words.
        more = new QLabel(report.holders.isEmpty() ? message : tr("There may be others Coffer could not see."), this);
        more->setObjectName(QStringLiteral("helperMessage"));
        more->setWordWrap(true);
        more->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    named(buttons->button(QDialogButtonBox::Cancel), tr("Cancel"));
    buttons->addButton(m_retry, QDialogButtonBox::AcceptRole);
    buttons->addButton(m_force, QDialogButtonBox::DestructiveRole);
    m_force->setEnabled(!report.otherUsers);
    m_retry->setDefault(true);

    auto *layout = new QVBoxLayout(this);
    auto *top = new QHBoxLayout;
    top->addWidget(icon, 0, Qt::AlignTop);
    auto *texts = new QVBoxLayout;
    texts->addWidget(heading);
    texts->addWidget(advice);
    top->addLayout(texts, 1);
    layout->addLayout(top);
    layout->addWidget(m_holders, 1);
    m_holders->setVisible(!report.holders.isEmpty());
    if (more)
        layout->addWidget(more);
    layout->addWidget(buttons);
    resize(520, report.holders.isEmpty() ? 200 : 280);

    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_retry, &QPushButton::clicked, this, [this] {
        accept();
        emit retryRequested();
    });
    connect(m_force, &QPushButton::clicked, this, [this] {
        accept();
        emit forceLockRequested();
    });
}

} // namespace Coffer::Ui
