#pragma once

#include "dbus/options.h"
#include "error.h"
#include "sync/syncengine.h"

#include <QDBusPendingCall>
#include <QObject>
#include <QString>
#include <QVariantMap>

#include <functional>
#include <optional>

class OrgCofferHelper1JobInterface;

namespace Coffer::Client {

class HelperClient;

// How far a job has come (the Job object's progress properties).
struct JobProgress
{
    double fraction = 0; // 0..1
    quint64 bytesDone = 0, bytesTotal = 0, filesDone = 0, filesTotal = 0;
    QString currentItem;
    // What a sync is doing (the Job's Phase); none for jobs without phases, and before the
    // helper's first report.
    std::optional<Sync::Phase> phase;
    bool operator==(const JobProgress &) const = default;
};

// What a finished job has to say beyond its outcome.
struct JobResult
{
    // The helper's note on a job that did not fail (a partial sync says what it skipped).
    QString message;
    // A sync's counts and warnings, and for a dry run its plan (what goes in, bytes, whether it
    // fits). Set for every sync job that ran.
    std::optional<Sync::Result> sync;
};

// One long operation of the helper (create, sync), from the call that starts it to its end:
// started() when the helper has accepted it, progressChanged() as it goes, then finished() once,
// always from the event loop. A job the helper refused (not authorized, busy, ...) finishes
// Failed with that error; so does a job whose helper went away. The handle deletes itself after
// finished(); delete it earlier to stop watching (the job goes on).
class JobHandle : public QObject
{
    Q_OBJECT

public:
    ~JobHandle() override;

    // The Job object, once the helper has accepted the job ("" before).
    QString path() const { return m_path; }
    QString operation() const;
    bool isCancelable() const;
    const JobProgress &progress() const { return m_progress; }
    bool isFinished() const { return m_finished; }
    Helper1::JobOutcome outcome() const { return m_outcome; }

public Q_SLOTS:
    // Asks the helper to stop the job; finished() says when it has (outcome Cancelled, or what
    // it came to first). A refusal comes as cancelFailed().
    void cancel();

Q_SIGNALS:
    void started();
    // Once the first state is read, then whenever it changes.
    void progressChanged(const Coffer::Client::JobProgress &progress);
    // outcome: Ok, Partial (a sync that could not read some items: result.sync's warnings say
    // which), Failed or Cancelled. error: set for Failed and Cancelled.
    void finished(Coffer::Helper1::JobOutcome outcome, const std::optional<Coffer::Error> &error,
                  const Coffer::Client::JobResult &result);
    void cancelFailed(const Coffer::Error &error);

private Q_SLOTS:
    void onPropertiesChanged(const QString &interface, const QVariantMap &changed, const QStringList &invalidated);
    void onCompleted(bool ok, const QString &errorName, const QString &message);

private:
    friend class HelperClient;
    friend class VaultHandle;
    enum class Kind { Create, Sync };
    JobHandle(HelperClient *client, Kind kind);

    // Prepares and sends the call that starts the job (prepare may throw Coffer::Error).
    void start(const std::function<QDBusPendingCall()> &prepare);
    void fail(const Error &error);
    void attach(const QString &path);
    void apply(const QVariantMap &properties);
    void finishFromProperties();
    void finish(Helper1::JobOutcome outcome, const std::optional<Error> &error, const JobResult &result);
    void onHelperVanished();

    HelperClient *m_client;
    Kind m_kind;
    QString m_path;
    OrgCofferHelper1JobInterface *m_proxy = nullptr;
    QVariantMap m_properties;
    JobProgress m_progress;
    bool m_progressSeen = false;
    bool m_cancelWanted = false;
    bool m_finished = false;
    Helper1::JobOutcome m_outcome = Helper1::JobOutcome::Running;
};

} // namespace Coffer::Client

Q_DECLARE_METATYPE(Coffer::Client::JobProgress)
Q_DECLARE_METATYPE(Coffer::Client::JobResult)
