#pragma once

#include "dbus/options.h"
#include "error.h"
#include "exportedobject.h"

#include <QElapsedTimer>
#include <QString>
#include <QVariantMap>

#include <sys/types.h>

#include <functional>
#include <optional>

namespace Coffer::Helper {

class Manager;

// /org/coffer/Helper1/job/<n>, org.coffer.Helper1.Job: one long operation (create, sync) with
// progress properties, Cancel() and Completed(b, s, s). Like udisks' Job objects. The object
// stays a while after it completes so a late client still reads the outcome. It belongs to the
// user who started it and the owner of its vault: only they read it, and its signals
// (PropertiesChanged, Completed) go to their connections only.
class Job : public ExportedObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.coffer.Helper1.Job")
    Q_PROPERTY(QString Operation READ operation)
    Q_PROPERTY(double Progress READ progress)
    Q_PROPERTY(qulonglong BytesTotal READ bytesTotal)
    Q_PROPERTY(qulonglong BytesDone READ bytesDone)
    Q_PROPERTY(qulonglong FilesTotal READ filesTotal)
    Q_PROPERTY(qulonglong FilesDone READ filesDone)
    Q_PROPERTY(QString CurrentItem READ currentItem)
    Q_PROPERTY(QString Phase READ phase)
    Q_PROPERTY(uint StartedByUid READ startedByUid)
    Q_PROPERTY(bool Cancelable READ cancelable)
    Q_PROPERTY(bool Finished READ finished)
    Q_PROPERTY(bool Success READ success)
    Q_PROPERTY(QString ErrorName READ errorName)
    Q_PROPERTY(QString ErrorMessage READ errorMessage)
    Q_PROPERTY(QString Outcome READ outcomeName)
    Q_PROPERTY(QVariantMap Result READ result)

public:
    Job(Manager *manager, const QString &path, const QString &operation, const QString &actionId,
        uid_t startedBy, uid_t vaultOwner, bool cancelable);

    QString path() const override { return m_path; }
    QString interfaceName() const override;
    std::set<uid_t> owners() const override { return {m_startedBy, m_vaultOwner}; }
    void call(const QDBusMessage &message) override;
    static const std::vector<Method<Job>> &methods();
    static const std::vector<MemberSpec> &signalSpecs();

    QString operation() const { return m_operation; }
    double progress() const { return m_progress; }
    qulonglong bytesTotal() const { return m_bytesTotal; }
    qulonglong bytesDone() const { return m_bytesDone; }
    qulonglong filesTotal() const { return m_filesTotal; }
    qulonglong filesDone() const { return m_filesDone; }
    QString currentItem() const { return m_currentItem; }
    QString phase() const { return m_phase; }
    uint startedByUid() const { return m_startedBy; }
    bool cancelable() const { return m_cancelable; }
    bool finished() const { return m_finished; }
    bool success() const { return m_success; }
    QString errorName() const { return m_errorName; }
    QString errorMessage() const { return m_errorMessage; }
    Helper1::JobOutcome outcome() const { return m_outcome; }
    QString outcomeName() const { return Helper1::jobOutcomeName(m_outcome); }
    QVariantMap result() const { return m_result; }
    QString actionId() const { return m_actionId; }

    struct Update
    {
        double progress = 0;
        qulonglong bytesDone = 0, bytesTotal = 0, filesDone = 0, filesTotal = 0;
        QString currentItem;
        QString phase; // Sync::phaseName, or "" (see the XML's Phase)
    };
    // Updates the progress properties and tells the owners (PropertiesChanged, at most 5 per s,
    // but a new phase at once).
    void setProgress(const Update &update, bool force = false);

    // How a job ended. The outcome is Failed (or Cancelled for ErrorCode::Cancelled) when
    // `error` is set, else `success` (Ok, or Partial for a sync that skipped unreadable files;
    // `note` then says so in ErrorMessage). `result` is the operation's Job.Result
    // (core/dbus/options.h).
    struct Completion
    {
        std::optional<Error> error;
        Helper1::JobOutcome success = Helper1::JobOutcome::Ok;
        QString note;
        QVariantMap result;
    };
    // Completes the job: Outcome and Result first, then Completed(ok, name, message). Idempotent.
    void finish(const Completion &completion);

    // What Cancel() does once the caller passed polkit.
    std::function<void()> onCancel;

private:
    void cancel(const QDBusMessage &message);
    void emitPropertiesChanged();

    Manager *m_manager;
    QString m_path;
    QString m_operation;
    QString m_actionId;
    uid_t m_startedBy;
    uid_t m_vaultOwner;
    bool m_cancelable;
    double m_progress = 0;
    qulonglong m_bytesTotal = 0, m_bytesDone = 0, m_filesTotal = 0, m_filesDone = 0;
    QString m_currentItem;
    QString m_phase;
    bool m_finished = false;
    bool m_success = false;
    QString m_errorName, m_errorMessage;
    Helper1::JobOutcome m_outcome = Helper1::JobOutcome::Running;
    QVariantMap m_result;
    QElapsedTimer m_lastEmit;
};

} // namespace Coffer::Helper
