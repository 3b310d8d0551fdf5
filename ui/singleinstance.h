#pragma once

// One Coffer per session: the first start owns org.coffer.Coffer on the session bus and serves
// org.freedesktop.Application at /org/coffer/Coffer; a second start calls its Activate (the
// first raises its window) and exits. Without a session bus every start runs on its own.

#include <QDBusConnection>
#include <QObject>
#include <QVariantList>
#include <QVariantMap>

namespace Coffer::Ui {

class SingleInstance : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Application")

public:
    static constexpr const char *ServiceName = "org.coffer.Coffer";
    static constexpr const char *ObjectPath = "/org/coffer/Coffer";

    enum class Claim { First, AlreadyRunning, NoBus };

    explicit SingleInstance(const QDBusConnection &sessionBus, QObject *parent = nullptr);

    // Serves the object and takes the name (never queued behind another owner).
    Claim claim();
    // The second start: asks the first to show its window. False when it did not answer.
    bool activateRunning() const;

public Q_SLOTS:
    // org.freedesktop.Application
    void Activate(const QVariantMap &platformData);
    void Open(const QStringList &uris, const QVariantMap &platformData);
    void ActivateAction(const QString &actionName, const QVariantList &parameter, const QVariantMap &platformData);

Q_SIGNALS:
    void activated();
    void quitRequested();

private:
    QDBusConnection m_bus;
};

} // namespace Coffer::Ui
