#include "vaultmodel.h"

#include "desktop/wallclocktimer.h"
#include "icons.h"
#include "texts.h"

#include <QFile>

#include <algorithm>

namespace Coffer::Ui {

VaultState VaultRow::state() const
{
    if (job)
        return VaultState::Syncing;
    if (!error.isEmpty())
        return VaultState::Error;
    return isOpen() ? VaultState::Open : VaultState::Locked;
}

QString VaultRow::name() const
{
    if (entry && !entry->name.empty())
        return Texts::fromBytes(entry->name);
    if (isOpen() && !handle->info().name.isEmpty())
        return handle->info().name;
    return id;
}

QString VaultRow::driveName() const
{
    if (medium)
        return Media::displayName(*medium);
    if (entry && !entry->medium.label.empty())
        return Texts::fromBytes(entry->medium.label);
    return {};
}

std::optional<std::string> VaultRow::mountPoint() const
{
    if (!medium || medium->mountPoints.empty())
        return std::nullopt;
    return medium->mountPoints.front();
}

std::optional<std::string> VaultRow::file() const
{
    if (isOpen())
        return handle->file();
    const std::optional<std::string> root = mountPoint();
    if (!entry || !root || entry->path.empty())
        return std::nullopt;
    return *root + "/" + entry->path;
}

VaultModel::VaultModel(Config::Registry *registry, Client::HelperClient *client, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
    , m_client(client)
    , m_staleTimer(new WallClockTimer(this))
{
    qRegisterMetaType<TrayState>();
    connect(registry, &Config::Registry::changed, this, &VaultModel::refresh);
    connect(client, &Client::HelperClient::vaultAdded, this, &VaultModel::onVaultAdded);
    connect(client, &Client::HelperClient::vaultRemoved, this, &VaultModel::onVaultRemoved);
    // A helper that comes back (D-Bus starts it again for anyone's call) adopts the open
    // vaults; ask it which, and be one of its callers again (it tells only them of changes).
    connect(client, &Client::HelperClient::helperAppeared, this, [this] { m_client->refreshVaults(); });
    connect(m_staleTimer, &WallClockTimer::timeout, this, &VaultModel::refresh);
    for (Client::VaultHandle *vault : client->vaults())
        onVaultAdded(vault);
    refresh();
}

VaultModel::~VaultModel() = default;

std::optional<VaultRow> VaultModel::row(const QString &id) const
{
    const int i = rowOf(id);
    if (i < 0)
        return std::nullopt;
    return m_rows[size_t(i)];
}

int VaultModel::rowOf(const QString &id) const
{
    const auto it = std::find_if(m_rows.begin(), m_rows.end(),
                                 [&](const VaultRow &r) { return r.id.compare(id, Qt::CaseInsensitive) == 0; });
    return it == m_rows.end() ? -1 : int(it - m_rows.begin());
}

QString VaultModel::idAt(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].id : QString();
}

Config::Staleness VaultModel::staleness(const VaultRow &row) const
{
    if (!row.entry)
        return {};
    return m_registry->staleness(*row.entry);
}

bool VaultModel::isStale(const VaultRow &row) const
{
    return row.entry && staleness(row).stale;
}

TrayState VaultModel::trayStateOf(const VaultRow &r) const
{
    switch (r.state()) {
    case VaultState::Error: return TrayState::Error;
    case VaultState::Syncing: return TrayState::Syncing;
    case VaultState::Open: return TrayState::Open;
    case VaultState::Locked: break;
    }
    return isStale(r) ? TrayState::Stale : TrayState::AllLocked;
}

TrayState VaultModel::trayState() const
{
    TrayState state = TrayState::AllLocked;
    for (const VaultRow &r : m_rows)
        state = std::max(state, trayStateOf(r));
    return state;
}

QStringList VaultModel::summary() const
{
    QStringList lines;
    for (const VaultRow &r : m_rows) {
        QString line = tr("%1: %2").arg(r.name(), displayState(r));
        if (r.entry)
            line += tr(", %1").arg(Texts::lastBackup(*r.entry, staleness(r)).toLower());
        lines << line;
    }
    return lines;
}

std::optional<Media::Medium> VaultModel::mediumOfDevice(quint64 device) const
{
    for (const Media::Medium &m : m_media) {
        if (quint64(m.devnum) == device)
            return m;
    }
    return std::nullopt;
}

QStringList VaultModel::vaultsOn(const Media::Medium &medium) const
{
    QStringList ids;
    for (const VaultRow &r : m_rows) {
        if (r.medium && r.medium->devnum == medium.devnum)
            ids << r.id;
    }
    return ids;
}

int VaultModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int VaultModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString VaultModel::displayState(const VaultRow &r) const
{
    switch (r.state()) {
    case VaultState::Syncing:
        return r.progress.fraction > 0 ? tr("Backing up, %1%").arg(int(r.progress.fraction * 100))
                                       : tr("Backing up");
    case VaultState::Error: return tr("Failed: %1").arg(r.error);
    case VaultState::Open: return tr("Open");
    case VaultState::Locked: break;
    }
    return tr("Locked");
}

QVariant VaultModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const VaultRow &r = m_rows[size_t(index.row())];
    switch (role) {
    case IdRole: return r.id;
    case StateRole: return int(r.state());
    case StaleRole: return isStale(r);
    case Qt::DecorationRole:
        return index.column() == NameColumn ? QVariant(Icons::tray(trayStateOf(r))) : QVariant();
    case Qt::DisplayRole:
    case Qt::ToolTipRole:
    case Qt::AccessibleTextRole:
        break;
    default:
        return {};
    }
    switch (index.column()) {
    case NameColumn:
        return r.name();
    case DriveColumn: {
        const QString drive = r.driveName();
        if (!r.medium)
            return drive.isEmpty() ? tr("Not plugged in") : tr("%1 (not plugged in)").arg(drive);
        return r.medium->mounted() ? drive : tr("%1 (not mounted)").arg(drive);
    }
    case StateColumn:
        return displayState(r);
    case LastBackupColumn: {
        if (!r.entry)
            return tr("Not added to Coffer");
        const Config::Staleness s = staleness(r);
        const QString text = Texts::lastBackup(*r.entry, s);
        return s.stale ? tr("%1, overdue").arg(text) : text;
    }
    case SpaceColumn: {
        QStringList parts;
        if (r.isOpen())
            parts << Texts::used(r.handle->info().used, r.handle->info().size);
        if (r.medium && r.medium->freeBytes)
            parts << Texts::freeOnDrive(*r.medium->freeBytes);
        return parts.join(tr("; "));
    }
    default:
        return {};
    }
}

QVariant VaultModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Vault");
    case DriveColumn: return tr("Drive");
    case StateColumn: return tr("State");
    case LastBackupColumn: return tr("Last backup");
    case SpaceColumn: return tr("Space");
    default: return {};
    }
}

void VaultModel::setMedia(const std::vector<Media::Medium> &media)
{
    m_media = media;
    refresh();
}

void VaultModel::addMedium(const Media::Medium &medium)
{
    changeMedium(medium);
}

void VaultModel::changeMedium(const Media::Medium &medium)
{
    const auto it = std::find_if(m_media.begin(), m_media.end(),
                                 [&](const Media::Medium &m) { return m.devnum == medium.devnum; });
    if (it == m_media.end())
        m_media.push_back(medium);
    else
        *it = medium;
    refresh();
}

void VaultModel::removeMedium(const Media::Medium &medium)
{
    std::erase_if(m_media, [&](const Media::Medium &m) { return m.devnum == medium.devnum; });
    refresh();
}

void VaultModel::watchJob(const QString &id, Client::JobHandle *job)
{
    const QString key = id.toLower();
    m_extra[key].job = job;
    m_extra[key].progress = job->progress();
    m_extra[key].error.clear();
    connect(job, &Client::JobHandle::progressChanged, this, [this, key](const Client::JobProgress &progress) {
        m_extra[key].progress = progress;
        const int i = rowOf(key);
        if (i < 0)
            return;
        m_rows[size_t(i)].progress = progress;
        Q_EMIT dataChanged(index(i, StateColumn), index(i, StateColumn));
        Q_EMIT vaultChanged(m_rows[size_t(i)].id);
    });
    connect(job, &Client::JobHandle::finished, this,
            [this, key](Helper1::JobOutcome outcome, const std::optional<Error> &error, const Client::JobResult &result) {
        m_extra[key].job = nullptr;
        m_extra[key].error = outcome == Helper1::JobOutcome::Failed && error
                                 ? QString::fromStdString(error->message()) : QString();
        refresh();
        Q_EMIT jobFinished(key, outcome, error, result);
    });
    refresh();
}

void VaultModel::setError(const QString &id, const QString &message)
{
    m_extra[id.toLower()].error = message;
    refresh();
}

void VaultModel::clearError(const QString &id)
{
    const auto it = m_extra.find(id.toLower());
    if (it == m_extra.end() || it->error.isEmpty())
        return;
    it->error.clear();
    refresh();
}

void VaultModel::onVaultAdded(Client::VaultHandle *vault)
{
    connect(vault, &Client::VaultHandle::infoChanged, this, &VaultModel::refresh, Qt::UniqueConnection);
    refresh();
    if (vault->isUnlocked()) {
        clearError(vault->info().id);
        Q_EMIT vaultUnlocked(vault->info().id.toLower());
    }
}

void VaultModel::onVaultRemoved(Client::VaultHandle *vault, const QString &reason)
{
    // The handle no longer says which vault it was; the row still does.
    QString id;
    for (const VaultRow &r : m_rows) {
        if (r.handle == vault)
            id = r.id;
    }
    refresh();
    if (!id.isEmpty())
        Q_EMIT vaultLocked(id, reason);
}

std::vector<VaultRow> VaultModel::computeRows() const
{
    std::vector<VaultRow> rows;
    auto rowFor = [&rows](const QString &id) -> VaultRow & {
        for (VaultRow &r : rows) {
            if (r.id == id)
                return r;
        }
        VaultRow row;
        row.id = id;
        rows.push_back(std::move(row));
        return rows.back();
    };
    for (const Config::VaultEntry &entry : m_registry->vaults()) {
        VaultRow &r = rowFor(QString::fromStdString(entry.luksUuid).toLower());
        r.entry = entry;
        for (const Media::Medium &m : m_media) {
            if (entry.medium.matches(m)) {
                r.medium = m;
                break;
            }
        }
    }
    for (Client::VaultHandle *vault : m_client->vaults()) {
        if (!vault->isUnlocked())
            continue;
        VaultRow &r = rowFor(vault->info().id.toLower());
        r.handle = vault;
        if (!r.medium)
            r.medium = mediumOfDevice(vault->info().backingDevice);
    }
    for (VaultRow &r : rows) {
        const auto it = m_extra.constFind(r.id);
        if (it != m_extra.cend()) {
            r.job = it->job;
            r.progress = it->progress;
            r.error = it->error;
        }
    }
    std::sort(rows.begin(), rows.end(), [](const VaultRow &a, const VaultRow &b) {
        const int byName = QString::localeAwareCompare(a.name(), b.name());
        return byName != 0 ? byName < 0 : a.id < b.id;
    });
    return rows;
}

void VaultModel::refresh()
{
    apply(computeRows());
}

void VaultModel::apply(std::vector<VaultRow> rows)
{
    auto idsOf = [](const std::vector<VaultRow> &list) {
        QStringList ids;
        for (const VaultRow &r : list)
            ids << r.id;
        return ids;
    };
    const QStringList before = idsOf(m_rows);
    const QStringList after = idsOf(rows);
    if (before == after) {
        m_rows = std::move(rows);
        if (!m_rows.empty())
            Q_EMIT dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
    } else {
        beginResetModel();
        m_rows = std::move(rows);
        endResetModel();
    }
    for (const VaultRow &r : m_rows)
        Q_EMIT vaultChanged(r.id);
    armStaleTimer();
    const TrayState state = trayState();
    if (state != m_trayState) {
        m_trayState = state;
        Q_EMIT trayStateChanged(state);
    }
}

void VaultModel::armStaleTimer()
{
    // The next moment a vault becomes overdue: one deadline, nothing periodic.
    std::optional<QDateTime> next;
    for (const VaultRow &r : m_rows) {
        if (!r.entry || !r.entry->lastSuccess)
            continue;
        const Config::Staleness s = staleness(r);
        if (s.stale)
            continue;
        const QDateTime due = QDateTime::currentDateTimeUtc().addSecs(qint64(s.limitDays) * 86400 - s.ageSeconds);
        if (!next || due < *next)
            next = due;
    }
    if (next)
        m_staleTimer->startAt(*next);
    else
        m_staleTimer->stop();
}

} // namespace Coffer::Ui
