#include "job.h"

#include "callers.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "log.h"
#include "manager.h"

#include <QPointer>

namespace Coffer::Helper {

namespace {

constexpr MemberSpec CompletedSignal{"Completed", "bss"};

} // namespace

Job::Job(Manager *manager, const QString &path, const QString &operation, const QString &actionId,
         uid_t startedBy, uid_t vaultOwner, bool cancelable)
    : ExportedObject(manager)
    , m_manager(manager)
    , m_path(path)
    , m_operation(operation)
    , m_actionId(actionId)
    , m_startedBy(startedBy)
    , m_vaultOwner(vaultOwner)
    , m_cancelable(cancelable)
{
}

QString Job::interfaceName() const
{
    return QString::fromLatin1(Helper1::JobInterface);
}

const std::vector<Method<Job>> &Job::methods()
{
    static const std::vector<Method<Job>> methods{{{"Cancel", ""}, &Job::cancel}};
    return methods;
}

const std::vector<MemberSpec> &Job::signalSpecs()
{
    static const std::vector<MemberSpec> specs{CompletedSignal};
    return specs;
}

void Job::call(const QDBusMessage &message)
{
    dispatch(this, methods(), message, m_manager->bus());
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
    m_manager->callers().sendSignal(owners(), m_path, QStringLiteral("org.freedesktop.DBus.Properties"),
                                    QStringLiteral("PropertiesChanged"),
                                    {interfaceName(), changed, QStringList()});
}

void Job::finish(const Completion &completion)
{
    if (m_finished)
        return;
    m_finished = true;
    m_success = !completion.error;
    m_result = completion.result;
    if (completion.error) {
        m_outcome = completion.error->code() == ErrorCode::Cancelled ? Helper1::JobOutcome::Cancelled
                                                                     : Helper1::JobOutcome::Failed;
        m_errorName = DBusErrors::errorName(completion.error->code());
        m_errorMessage = QString::fromStdString(completion.error->message());
    } else {
        m_outcome = completion.success;
        m_errorMessage = completion.note;
    }
    emitPropertiesChanged();
    m_manager->callers().sendSignal(owners(), m_path, interfaceName(), QLatin1String(CompletedSignal.name),
                                    {m_success, m_errorName, m_errorMessage});
}

void Job::cancel(const QDBusMessage &message)
{
    QPointer<Job> self(this);
    // Cancel only asks; the job's Completed signal says when it stopped.
    m_manager->authorize(message, Manager::ownAction(m_actionId, m_startedBy), [self](const Manager::Caller &caller) {
        if (!self || self->finished())
            throw Error(ErrorCode::NotFound, "The job has already finished.");
        if (!self->cancelable() || !self->onCancel)
            throw Error(ErrorCode::NotSupported, "This operation cannot be cancelled.");
        Log::write(QStringLiteral("uid %1: cancelling %2").arg(caller.uid).arg(self->path()));
        self->onCancel();
        self->m_manager->reply(caller.message);
    });
}

} // namespace Coffer::Helper
