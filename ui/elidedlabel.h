#pragma once

// A one-line label that elides its text in the middle when it does not fit (a long path keeps
// its beginning and its file name); the whole text stays its tooltip and accessible value.

#include <QLabel>

namespace Coffer::Ui {

class ElidedLabel : public QLabel
{
    Q_OBJECT

public:
    explicit ElidedLabel(QWidget *parent = nullptr);

    void setFullText(const QString &text);
    QString fullText() const { return m_full; }

    QSize minimumSizeHint() const override;

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void elide();

    QString m_full;
};

} // namespace Coffer::Ui
