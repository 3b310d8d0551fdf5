#pragma once

// What the main window's line at the top says: the last thing that happened ("“keys” is locked.
// Safe to unplug MY STICK.", a failure, an auto-lock and why). It lives apart from the window so
// that the app can create the window only when it is first shown (a tray-only session stays
// small) and still say what happened before.

#include <QObject>
#include <QString>

namespace Coffer::Ui {

class VaultController;
class VaultModel;

class Notice : public QObject
{
    Q_OBJECT

public:
    Notice(VaultModel *model, VaultController *controller, QObject *parent = nullptr);

    QString text() const { return m_text; } // "" when there is nothing to say
    bool isProblem() const { return m_problem; }

    // aboutLocked: the id of a vault the text says is locked; its unlock takes the text away.
    void say(const QString &text, bool problem = false, const QString &aboutLocked = {});
    void clear();

Q_SIGNALS:
    void changed();

private:
    VaultModel *m_model;
    QString m_text;
    bool m_problem = false;
    QString m_aboutLocked;
};

} // namespace Coffer::Ui
