#include "mediaview.h"

#include "bytes.h"
#include "config/registrydocument.h"
#include "error.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cerrno>
#include <cstdio>
#include <unistd.h>

namespace Coffer::Ctl {

namespace {

QString text(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

std::string shown(std::string_view bytes)
{
    return Media::displayText(bytes).toStdString();
}

QJsonObject mediumJson(const Media::Medium &m)
{
    QJsonArray mounts;
    for (const std::string &mp : m.mountPoints)
        mounts.append(Config::bytesToJson(mp));
    QJsonObject o{{"device", Config::bytesToJson(m.devNode)},
                  {"fs-uuid", Config::bytesToJson(m.fsUuid)},
                  {"label", Config::bytesToJson(m.label)},
                  {"fs-type", Config::bytesToJson(m.fsType)},
                  {"serial", Config::bytesToJson(m.serial)},
                  {"vendor", Config::bytesToJson(m.vendor)},
                  {"model", Config::bytesToJson(m.model)},
                  {"size", double(m.size)},
                  {"removable", m.removable},
                  {"mount-points", mounts}};
    if (m.freeBytes)
        o.insert(QStringLiteral("free-bytes"), double(*m.freeBytes));
    return o;
}

std::string mediumText(const Media::Medium &m)
{
    std::string out = shown(m.devNode) + " \"" + Media::displayName(m).toStdString() + "\" (" + shown(m.fsType) + ", "
                      + formatBytes(m.size) + ")";
    if (!m.mounted())
        return out + ", not mounted";
    out += ", mounted at " + shown(m.mountPoints.front());
    if (m.freeBytes)
        out += ", " + formatBytes(*m.freeBytes) + " free";
    return out;
}

QJsonObject foundVaultJson(const Media::FoundVault &v)
{
    return QJsonObject{{"path", Config::bytesToJson(v.path)}, {"size", double(v.size)},
                       {"luks-uuid", text(v.luksUuid)},     {"name", Config::bytesToJson(v.name)},
                       {"luks-version", v.luksVersion},     {"coffer", v.coffer}};
}

QJsonObject stalenessJson(const Config::Staleness &s)
{
    return QJsonObject{{"stale", s.stale}, {"never-synced", s.neverSynced}, {"limit-days", s.limitDays},
                       {"age-seconds", double(s.ageSeconds)}};
}

std::string stalenessText(const Config::Staleness &s)
{
    if (s.neverSynced)
        return "never backed up";
    const qint64 hours = s.ageSeconds / 3600;
    std::string age = hours >= 48 ? std::to_string(hours / 24) + " days ago"
                    : hours >= 1  ? std::to_string(hours) + " h ago"
                                  : std::to_string(s.ageSeconds / 60) + " min ago";
    return "backed up " + age + (s.stale ? " (stale: over " + std::to_string(s.limitDays) + " days)" : "");
}

QJsonObject entryJson(const Config::VaultEntry &v, const Config::Staleness &staleness)
{
    QJsonArray sources, excludes;
    for (const std::string &s : v.sources)
        sources.append(Config::bytesToJson(s));
    for (const std::string &e : v.excludes)
        excludes.append(Config::bytesToJson(e));
    QJsonObject o{{"luks-uuid", text(v.luksUuid)},
                  {"name", Config::bytesToJson(v.name)},
                  {"medium", QJsonObject{{"fs-uuid", Config::bytesToJson(v.medium.fsUuid)},
                                         {"serial", Config::bytesToJson(v.medium.serial)},
                                         {"label", Config::bytesToJson(v.medium.label)}}},
                  {"path", Config::bytesToJson(v.path)},
                  {"sources", sources},
                  {"excludes", excludes},
                  {"mode", QLatin1String(Config::modeName(v.mode))},
                  {"trigger", QLatin1String(Config::triggerName(v.trigger))},
                  {"secret", QLatin1String(Config::secretSourceName(v.secretSource))},
                  {"staleness", stalenessJson(staleness)}};
    if (v.lastSync) {
        o.insert(QStringLiteral("last-sync"),
                 QJsonObject{{"time", v.lastSync->time.toString(Qt::ISODate)},
                             {"outcome", Helper1::jobOutcomeName(v.lastSync->outcome)},
                             {"bytes", double(v.lastSync->bytes)},
                             {"files", double(v.lastSync->files)}});
    }
    if (v.lastSuccess)
        o.insert(QStringLiteral("last-success"), v.lastSuccess->toString(Qt::ISODate));
    return o;
}

void printJsonLine(const QJsonObject &object)
{
    const QByteArray line = QJsonDocument(object).toJson(QJsonDocument::Compact);
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

const Media::Medium *mediumWithDevice(const std::vector<Media::Medium> &media, dev_t dev)
{
    for (const Media::Medium &m : media) {
        if (m.devnum == dev)
            return &m;
    }
    return nullptr;
}

Media::LuksHeader readLuksHeader(int fd, const std::string &file)
{
    std::string head(Media::luksProbeSize, '\0');
    const ssize_t n = ::pread(fd, head.data(), head.size(), 0);
    if (n < 0)
        throw Error::fromErrno(errno, "Cannot read " + file);
    head.resize(size_t(n));
    const std::optional<Media::LuksHeader> header = Media::parseLuksHeader(head);
    if (!header)
        throw Error(ErrorCode::NotSupported, file + " is not a vault: it has no LUKS header.");
    return *header;
}

void loadRegistry(Config::Registry &registry)
{
    try {
        registry.load();
    } catch (const Error &e) {
        std::fprintf(stderr, "cofferctl: %s\n", e.what());
    }
}

} // namespace Coffer::Ctl
