#include "uihelpers.h"

#include <QFile>
#include <QHBoxLayout>
#include <QPushButton>
#include <QStyle>

namespace Coffer::Ui {

std::string localPath(const QString &path)
{
    return QFile::encodeName(path).toStdString();
}

QString withoutMnemonic(QString text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] == u'&')
            text.remove(i, 1); // "&&" leaves one '&'
    }
    return text;
}

QPushButton *makeButton(const QString &text, QWidget *parent)
{
    return named(new QPushButton(text, parent), text);
}

QLabel *makeBuddyLabel(const QString &text, QWidget *buddy, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setBuddy(buddy);
    if (buddy->accessibleName().isEmpty())
        named(buddy, text.endsWith(u':') ? text.chopped(1) : text);
    return label;
}

StatusLine::StatusLine(QWidget *parent)
    : QWidget(parent)
    , m_icon(new QLabel(this))
    , m_text(new QLabel(this))
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_icon, 0, Qt::AlignTop);
    layout->addWidget(m_text, 1);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::PlainText);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    setVisible(false);
}

void StatusLine::setMessage(Kind kind, const QString &text)
{
    m_kind = kind;
    const QStyle::StandardPixmap icon = kind == Kind::Error ? QStyle::SP_MessageBoxCritical
        : kind == Kind::Warning                             ? QStyle::SP_MessageBoxWarning
        : kind == Kind::Success                             ? QStyle::SP_DialogApplyButton
                                                            : QStyle::SP_MessageBoxInformation;
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_icon->setPixmap(style()->standardIcon(icon).pixmap(size, size));
    m_text->setText(text);
    // What a screen reader says of it: the kind, then the text.
    const QString kindName = kind == Kind::Error ? tr("Error") : kind == Kind::Warning ? tr("Warning")
        : kind == Kind::Success                                   ? tr("Done")
                                                                  : tr("Note");
    m_text->setAccessibleName(kindName);
    m_text->setAccessibleDescription(text);
    setVisible(!text.isEmpty());
}

void StatusLine::clear()
{
    m_text->clear();
    setVisible(false);
}

QString StatusLine::text() const
{
    return m_text->text();
}

} // namespace Coffer::Ui
