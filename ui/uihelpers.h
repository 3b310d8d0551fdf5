#pragma once

// Small things every Coffer window does the same way (texts.h has the shared words: byte counts,
// names in bytes): controls that carry an accessible name, labels that carry a mnemonic for the
// control they name, and a line of status (information, warning, error) under a form.

#include "error.h"

#include <QLabel>
#include <QString>

#include <cstdint>
#include <string>

class QAbstractButton;
class QPushButton;

namespace Coffer::Ui {

// The path of a file the person named in a field, as bytes for core/.
std::string localPath(const QString &path);

// `text` without its mnemonic ampersands ("&Next" -> "Next").
QString withoutMnemonic(QString text);

// Sets the accessible name and returns the widget, so a form reads `named(new QLineEdit, tr(...))`.
template<typename W>
W *named(W *widget, const QString &name)
{
    widget->setAccessibleName(withoutMnemonic(name));
    return widget;
}

// A push button whose accessible name is its text.
QPushButton *makeButton(const QString &text, QWidget *parent = nullptr);

// A label with a mnemonic ("&Name:") for `buddy`, which takes the label's text as its accessible
// name unless it has one.
QLabel *makeBuddyLabel(const QString &text, QWidget *buddy, QWidget *parent = nullptr);

// One line (or a few) of status under a form: an icon and word-wrapped text. Hidden when empty.
class StatusLine : public QWidget
{
    Q_OBJECT

public:
    enum class Kind { Info, Success, Warning, Error };

    explicit StatusLine(QWidget *parent = nullptr);

    void setMessage(Kind kind, const QString &text);
    void clear();
    Kind kind() const { return m_kind; }
    QString text() const;

private:
    QLabel *m_icon;
    QLabel *m_text;
    Kind m_kind = Kind::Info;
};

} // namespace Coffer::Ui
