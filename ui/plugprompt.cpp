#include "plugprompt.h"

#include "icons.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace Coffer::Ui {

PlugPrompt::PlugPrompt(const QString &vaultName, const QString &driveName, QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("plugPrompt"));
    setWindowTitle(tr("%1 plugged in").arg(driveName));
    setWindowIcon(Icons::application());
    setAttribute(Qt::WA_DeleteOnClose);

    auto *icon = new QLabel(this);
    icon->setPixmap(Icons::application().pixmap(48));
    icon->setAccessibleName(tr("Coffer"));
    auto *heading = new QLabel(tr("%1 is plugged in").arg(driveName), this);
    heading->setTextFormat(Qt::PlainText);
    QFont bold = heading->font();
    bold.setBold(true);
    heading->setFont(bold);
    auto *text = new QLabel(tr("The vault “%1” is on it. Back it up now?").arg(vaultName), this);
    text->setTextFormat(Qt::PlainText);
    text->setWordWrap(true);
    text->setAccessibleName(tr("Question"));

    const struct {
        PlugAnswer answer;
        QString label;
        QString accessible;
        const char *name;
    } choices[] = {
        {PlugAnswer::BackUpNow, tr("&Back up now"), tr("Back up now"), "backUpNow"},
        {PlugAnswer::UnlockOnly, tr("&Unlock only"), tr("Unlock only, do not back up"), "unlockOnly"},
        {PlugAnswer::NotNow, tr("&Not now"), tr("Not now"), "notNow"},
        {PlugAnswer::Always, tr("&Always back up on plug"), tr("Always back up when this drive is plugged in"), "always"},
    };
    auto *row = new QHBoxLayout;
    for (const auto &choice : choices) {
        auto *button = new QPushButton(choice.label, this);
        button->setObjectName(QLatin1String(choice.name));
        button->setAccessibleName(choice.accessible);
        m_buttons[int(choice.answer)] = button;
        connect(button, &QPushButton::clicked, this, [this, a = choice.answer] { answer(a); });
        row->addWidget(button);
    }
    m_buttons[int(PlugAnswer::BackUpNow)]->setDefault(true);
    m_buttons[int(PlugAnswer::BackUpNow)]->setFocus();

    auto *words = new QVBoxLayout;
    words->addWidget(heading);
    words->addWidget(text);
    auto *top = new QHBoxLayout;
    top->addWidget(icon, 0, Qt::AlignTop);
    top->addLayout(words, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addSpacing(8);
    layout->addLayout(row);
}

QPushButton *PlugPrompt::button(PlugAnswer answer) const
{
    return m_buttons[int(answer)];
}

void PlugPrompt::reject()
{
    answer(PlugAnswer::NotNow);
}

void PlugPrompt::answer(PlugAnswer answer)
{
    if (m_answered)
        return;
    m_answered = true;
    Q_EMIT answered(answer);
    QDialog::done(answer == PlugAnswer::NotNow ? Rejected : Accepted);
}

} // namespace Coffer::Ui
