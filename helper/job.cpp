#include "job.h"

#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "manager.h"

#include <QDBusConnection>
#include <QDBusMessage>

namespace Coffer::Helper {

Job::Job(Manager *manager, uint number, const QString &operation, const QString &actionId,
         uid_t startedBy, uid_t vaultOwner, bool cancelable)
    : QObject(manager)
    , m_manager(manager)
    , m_path(QLatin1String(Helper1::JobPathPrefix) + QString::number(number))
    , m_operation(operation)
    , m_actionId(actionId)
    , m_startedBy(startedBy)
    , m_vaultOwner(vaultOwner)
    , m_cancelable(cancelable)
{
}

void Job::setProgress(const Update &u, bool force)
{
    m_progress = qBound(0.0, u.progress, 1.0);
    m_bytesDone = u.bytesDone;
    m_bytesTotal = u.bytesTotal;
    m_filesDone = u.filesDone;
    m_filesTotal = u.filesTotal;
    m_currentItem = u.currentItem;
    if (u.phase != m_phase) {
        m_phase = u.phase;
        force = true;
    }
    if (force || !m_lastEmit.isValid() || m_lastEmit.elapsed() >= 200)
        emitPropertiesChanged();
}

void Job::emitPropertiesChanged()
{
    m_lastEmit.start();
    QVariantMap changed{
        {QStringLiteral("Progress"), m_progress},
        {QStringLiteral("BytesDone"), m_bytesDone},
        {QStringLiteral("BytesTotal"), m_bytesTotal},
        {QStringLiteral("FilesDone"), m_filesDone},
        {QStringLiteral("FilesTotal"), m_filesTotal},
        {QStringLiteral("CurrentItem"), m_currentItem},
        {QStringLiteral("Phase"), m_phase},
        {QStringLiteral("Finished"), m_finished},
    };
    if (m_finished) {
        changed.insert(QStringLiteral("Success"), m_success);
        changed.insert(QStringLiteral("ErrorName"), m_errorName);
        changed.insert(QStringLiteral("ErrorMessage"), m_errorMessage);
        changed.insert(QStringLiteral("Outcome"), outcomeName());
        changed.insert(QStringLiteral("Result"), m_result);
    }
    QDBusMessage signal = QDBusMessage::createSignal(
        m_path, QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("PropertiesChanged"));
    signal << QString::fromLatin1(Helper1::JobInterface) << changed << QStringList();
    m_manager->bus().send(signal);
}

void Job::finish(const std::optional<Error> &error, Helper1::JobOutcome success, const QString &note,
                 const QVariantMap &result)
{
    if (m_finished)
        return;
    m_finished = true;
    m_success = !error;
    m_result = result;
    if (error) {
        m_outcome = error->code() == ErrorCode::Cancelled ? Helper1::JobOutcome::Cancelled
                                                          : Helper1::JobOutcome::Failed;
        m_errorName = DBusErrors::errorName(error->code());
        m_errorMessage = QString::fromStdString(error->message());
    } else {
        m_outcome = success;
        m_errorMessage = note;
    }
    emitPropertiesChanged();
    emit Completed(m_success, m_errorName, m_errorMessage);
}

void Job::Cancel()
{
    setDelayedReply(true);
    m_manager->jobCancel(this, message());
}

} // namespace Coffer::Helper
