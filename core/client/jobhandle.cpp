#include "client/jobhandle.h"

#include "client/helperclient.h"
#include "client/calls.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "dbus/helper1interface.h"

#include <QDBusObjectPath>
#include <QDBusReply>

namespace Coffer::Client {

namespace {

// Properties of org.coffer.Helper1.Job (the XML).
const QString Operation = QStringLiteral("Operation");
const QString Progress = QStringLiteral("Progress");
const QString BytesDone = QStringLiteral("BytesDone");
const QString BytesTotal = QStringLiteral("BytesTotal");
const QString FilesDone = QStringLiteral("FilesDone");
const QString FilesTotal = QStringLiteral("FilesTotal");
const QString CurrentItem = QStringLiteral("CurrentItem");
const QString Phase = QStringLiteral("Phase");
const QString Cancelable = QStringLiteral("Cancelable");
const QString Finished = QStringLiteral("Finished");
const QString Success = QStringLiteral("Success");
const QString ErrorName = QStringLiteral("ErrorName");
const QString ErrorMessage = QStringLiteral("ErrorMessage");
const QString Outcome = QStringLiteral("Outcome");
const QString Result = QStringLiteral("Result");

std::optional<Sync::Phase> phaseNamed(const QString &name)
{
    for (Sync::Phase phase : {Sync::Phase::Scan, Sync::Phase::Copy, Sync::Phase::Delete, Sync::Phase::Flush,
                              Sync::Phase::Done}) {
        if (name == QLatin1String(Sync::phaseName(phase)))
            return phase;
    }
    return std::nullopt;
}

} // namespace

JobHandle::JobHandle(HelperClient *client, Kind kind)
    : QObject(client)
    , m_client(client)
    , m_kind(kind)
{
    connect(client, &HelperClient::helperVanished, this, &JobHandle::onHelperVanished);
}

JobHandle::~JobHandle() = default;

QString JobHandle::operation() const
{
    return m_properties.value(Operation).toString();
}

bool JobHandle::isCancelable() const
{
    return m_properties.value(Cancelable).toBool();
}

void JobHandle::start(const std::function<QDBusPendingCall()> &prepare)
{
    std::optional<QDBusPendingCall> call;
    try {
        call = prepare();
    } catch (const Error &e) {
        fail(e);
        return;
    }
    whenAnswered(this, *call, [this](const std::optional<Error> &error, const QDBusMessage &reply) {
        if (error)
            fail(*error);
        else
            attach(QDBusReply<QDBusObjectPath>(reply).value().path());
    });
}

void JobHandle::fail(const Error &error)
{
    finish(error.code() == ErrorCode::Cancelled ? Helper1::JobOutcome::Cancelled : Helper1::JobOutcome::Failed,
           error, {});
}

void JobHandle::attach(const QString &path)
{
    m_path = path;
    const QString service = QString::fromLatin1(Helper1::Service);
    QDBusConnection bus = m_client->bus();
    // Listen first, then read the state: a job that finished in between is seen either way.
    m_proxy = new OrgCofferHelper1JobInterface(service, path, bus, this);
    connect(m_proxy, &OrgCofferHelper1JobInterface::Completed, this, &JobHandle::onCompleted);
    bus.connect(service, path, QString::fromLatin1(PropertiesInterface), QStringLiteral("PropertiesChanged"), this,
                SLOT(onPropertiesChanged(QString,QVariantMap,QStringList)));
    emit started();

    whenAnswered(this, getAllProperties(bus, path, Helper1::JobInterface, false),
                 [this](const std::optional<Error> &error, const QDBusMessage &reply) {
        if (error)
            fail(Error(error->code(), "Lost the job: " + error->message()));
        else
            apply(propertiesOf(reply));
    });
    if (m_cancelWanted)
        cancel();
}

void JobHandle::onPropertiesChanged(const QString &interface, const QVariantMap &changed, const QStringList &)
{
    if (interface == QLatin1String(Helper1::JobInterface))
        apply(changed);
}

void JobHandle::apply(const QVariantMap &properties)
{
    if (m_finished)
        return;
    for (auto it = properties.cbegin(); it != properties.cend(); ++it)
        m_properties.insert(it.key(), it.value());
    const JobProgress now{m_properties.value(Progress).toDouble(),
                          m_properties.value(BytesDone).toULongLong(),
                          m_properties.value(BytesTotal).toULongLong(),
                          m_properties.value(FilesDone).toULongLong(),
                          m_properties.value(FilesTotal).toULongLong(),
                          m_properties.value(CurrentItem).toString(),
                          phaseNamed(m_properties.value(Phase).toString())};
    if (now != m_progress || !m_progressSeen) {
        m_progress = now;
        m_progressSeen = true;
        emit progressChanged(m_progress);
    }
    if (m_properties.value(Finished).toBool())
        finishFromProperties();
}

void JobHandle::onCompleted(bool ok, const QString &errorName, const QString &message)
{
    if (m_finished)
        return;
    if (m_properties.value(Finished).toBool()) {
        finishFromProperties();
        return;
    }
    // The outcome and result are properties: read them; if they cannot be read, the signal's
    // own arguments are all there is.
    whenAnswered(this, getAllProperties(m_client->bus(), m_path, Helper1::JobInterface, false),
                 [=, this](const std::optional<Error> &error, const QDBusMessage &reply) {
        if (!error)
            apply(propertiesOf(reply));
        if (m_finished)
            return;
        if (ok)
            finish(Helper1::JobOutcome::Ok, std::nullopt, {message, std::nullopt});
        else
            fail(DBusErrors::toError(errorName, message));
    });
}

void JobHandle::finishFromProperties()
{
    const QString errorMessage = m_properties.value(ErrorMessage).toString();
    Helper1::JobOutcome outcome = Helper1::jobOutcomeFromName(m_properties.value(Outcome).toString());
    if (outcome == Helper1::JobOutcome::Running) // a helper without Outcome: success or its error says
        outcome = m_properties.value(Success).toBool() ? Helper1::JobOutcome::Ok : Helper1::JobOutcome::Failed;
    if (outcome == Helper1::JobOutcome::Failed || outcome == Helper1::JobOutcome::Cancelled) {
        const Error error = DBusErrors::toError(m_properties.value(ErrorName).toString(), errorMessage);
        finish(error.code() == ErrorCode::Cancelled ? Helper1::JobOutcome::Cancelled : outcome, error, {});
        return;
    }
    JobResult result{errorMessage, std::nullopt};
    if (m_kind == Kind::Sync) {
        try {
            result.sync = Helper1::decodeSyncResult(dictionaryValue(m_properties.value(Result)));
        } catch (const Error &e) {
            fail(Error(ErrorCode::Failed, "The helper's report of the sync cannot be read: " + e.message()));
            return;
        }
    }
    finish(outcome, std::nullopt, result);
}

void JobHandle::finish(Helper1::JobOutcome outcome, const std::optional<Error> &error, const JobResult &result)
{
    if (m_finished)
        return;
    m_finished = true;
    m_outcome = outcome;
    // Queued: never inside the call that started the job.
    QMetaObject::invokeMethod(
        this,
        [this, outcome, error, result] {
            emit finished(outcome, error, result);
            deleteLater();
        },
        Qt::QueuedConnection);
}

void JobHandle::cancel()
{
    if (m_finished)
        return;
    if (!m_proxy) {
        m_cancelWanted = true; // as soon as the helper has said which job it is
        return;
    }
    whenAnswered(this, m_proxy->Cancel(), [this](const std::optional<Error> &error, const QDBusMessage &) {
        if (error && !m_finished)
            emit cancelFailed(*error);
    });
}

void JobHandle::onHelperVanished()
{
    if (!m_path.isEmpty())
        fail(Error(ErrorCode::Failed, "The Coffer helper stopped before the job finished."));
}

} // namespace Coffer::Client
