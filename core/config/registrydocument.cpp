#include "config/registrydocument.h"

#include "block/vault.h"
#include "error.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStringDecoder>

#include <algorithm>
#include <cmath>

namespace Coffer::Config {

namespace {

Error unreadable(const QString &where, const char *key, const char *what)
{
    return Error(ErrorCode::Failed, (where + QStringLiteral(": \"%1\" must be %2").arg(QLatin1String(key), QLatin1String(what)))
                                        .toStdString());
}

template<typename Enum, size_t N>
struct Names
{
    std::pair<Enum, const char *> names[N];

    const char *name(Enum value) const
    {
        for (const auto &[v, n] : names) {
            if (v == value)
                return n;
        }
        return names[0].second;
    }

    std::optional<Enum> value(const QString &name) const
    {
        for (const auto &[v, n] : names) {
            if (name == QLatin1String(n))
                return v;
        }
        return std::nullopt;
    }
};

constexpr Names<Sync::Mode, 2> modeNames{{{Sync::Mode::Mirror, "mirror"}, {Sync::Mode::Snapshot, "snapshot"}}};
constexpr Names<Trigger, 3> triggerNames{
    {{Trigger::Ask, "ask"}, {Trigger::Backup, "backup"}, {Trigger::Manual, "manual"}}};
constexpr Names<SecretSource, 3> secretNames{
    {{SecretSource::Prompt, "prompt"}, {SecretSource::KeyFile, "key-file"}, {SecretSource::Keyring, "keyring"}}};

// Typed reads of one JSON object: a missing key gives the default, a value of the wrong type
// throws Failed naming the key and where it is.
class Fields
{
public:
    Fields(const QJsonObject &object, QString where)
        : m_object(object)
        , m_where(std::move(where))
    {
    }

    bool has(const char *key) const { return m_object.contains(QLatin1String(key)); }

    bool boolean(const char *key, bool def) const
    {
        const QJsonValue v = get(key);
        if (v.isUndefined())
            return def;
        if (!v.isBool())
            throw unreadable(m_where, key, "true or false");
        return v.toBool();
    }

    // A whole number in [min, max].
    int64_t integer(const char *key, int64_t def, int64_t min, int64_t max) const
    {
        const QJsonValue v = get(key);
        if (v.isUndefined())
            return def;
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || d != std::floor(d) || d < double(min) || d > double(max))
            throw unreadable(m_where, key, "a whole number in range");
        return int64_t(d);
    }

    std::optional<int> optionalInteger(const char *key, int min, int max) const
    {
        if (!has(key) || get(key).isNull())
            return std::nullopt;
        return int(integer(key, 0, min, max));
    }

    std::optional<bool> optionalBoolean(const char *key) const
    {
        if (!has(key) || get(key).isNull())
            return std::nullopt;
        return boolean(key, false);
    }

    std::string bytes(const char *key) const
    {
        const QJsonValue v = get(key);
        if (v.isUndefined())
            return {};
        try {
            return bytesFromJson(v);
        } catch (const Error &) {
            throw unreadable(m_where, key, "a string");
        }
    }

    std::vector<std::string> byteList(const char *key) const
    {
        const QJsonValue v = get(key);
        if (v.isUndefined())
            return {};
        if (!v.isArray())
            throw unreadable(m_where, key, "a list of strings");
        std::vector<std::string> out;
        for (const QJsonValue &item : v.toArray()) {
            try {
                out.push_back(bytesFromJson(item));
            } catch (const Error &) {
                throw unreadable(m_where, key, "a list of strings");
            }
        }
        return out;
    }

    QJsonObject object(const char *key) const
    {
        const QJsonValue v = get(key);
        if (v.isUndefined())
            return {};
        if (!v.isObject())
            throw unreadable(m_where, key, "an object");
        return v.toObject();
    }

    template<typename Enum, size_t N>
    Enum name(const char *key, Enum def, const Names<Enum, N> &names) const
    {
        const QJsonValue v = get(key);
        if (v.isUndefined())
            return def;
        const std::optional<Enum> e = v.isString() ? names.value(v.toString()) : std::nullopt;
        if (!e)
            throw unreadable(m_where, key, "one of the documented names");
        return *e;
    }

    std::optional<QDateTime> time(const char *key) const
    {
        const QJsonValue v = get(key);
        if (v.isUndefined() || v.isNull())
            return std::nullopt;
        const QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODate);
        if (!v.isString() || !t.isValid())
            throw unreadable(m_where, key, "a time such as 2025-01-31T12:00:00Z");
        return t.toUTC();
    }

private:
    QJsonValue get(const char *key) const { return m_object.value(QLatin1String(key)); }

    const QJsonObject &m_object;
    QString m_where;
};

QString timeText(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODate);
}

QJsonArray bytesArray(const std::vector<std::string> &list)
{
    QJsonArray out;
    for (const std::string &s : list)
        out.append(bytesToJson(s));
    return out;
}

// `original` with the given keys set (a null value removes the key).
QJsonObject merged(QJsonObject original, std::initializer_list<std::pair<const char *, QJsonValue>> fields)
{
    for (const auto &[key, value] : fields) {
        if (value.isNull())
            original.remove(QLatin1String(key));
        else
            original.insert(QLatin1String(key), value);
    }
    return original;
}

QJsonValue orNull(const std::optional<int> &v)
{
    return v ? QJsonValue(*v) : QJsonValue();
}

VaultEntry readVault(const QString &uuid, const QJsonObject &object)
{
    const QString where = QStringLiteral("vault %1").arg(uuid.left(40));
    const Fields f(object, where);
    VaultEntry v;
    v.original = object;
    v.luksUuid = uuid.toLower().toStdString();
    v.name = f.bytes("name");
    const QJsonObject medium = f.object("medium");
    const Fields m(medium, where + QStringLiteral(", medium"));
    v.medium = {m.bytes("fs-uuid"), m.bytes("serial"), m.bytes("label")};
    v.path = f.bytes("path");
    v.sources = f.byteList("sources");
    v.excludes = f.byteList("excludes");
    v.mode = f.name("mode", Sync::Mode::Mirror, modeNames);
    const QJsonObject retention = f.object("retention");
    const Fields r(retention, where + QStringLiteral(", retention"));
    v.retention.keepLast = int(r.integer("keep-last", 0, 0, Helper1::maxKeepCount));
    v.retention.keepDaily = int(r.integer("keep-daily", 0, 0, Helper1::maxKeepCount));
    v.retention.keepWeekly = int(r.integer("keep-weekly", 0, 0, Helper1::maxKeepCount));
    v.trigger = f.name("trigger", Trigger::Ask, triggerNames);
    const QJsonObject lock = f.object("lock");
    const Fields l(lock, where + QStringLiteral(", lock"));
    v.lock.onSuspend = l.boolean("on-suspend", true);
    v.lock.onScreenLock = l.optionalBoolean("on-screen-lock");
    v.lock.idleMinutes = l.optionalInteger("idle-minutes", 0, maxIdleMinutes);
    v.lock.maxOpenMinutes = l.optionalInteger("max-open-minutes", 0, maxOpenMinutesLimit);
    v.lock.afterSync = l.boolean("after-sync", true);
    const QJsonObject secret = f.object("secret");
    const Fields s(secret, where + QStringLiteral(", secret"));
    v.secretSource = s.name("source", SecretSource::Prompt, secretNames);
    v.keyFile = s.bytes("key-file");
    v.staleAfterDays = f.optionalInteger("stale-after-days", 1, maxStaleAfterDays);
    if (f.has("last-sync") && !object.value(QLatin1String("last-sync")).isNull()) {
        const QJsonObject last = f.object("last-sync");
        const Fields ls(last, where + QStringLiteral(", last-sync"));
        SyncRecord rec;
        const std::optional<QDateTime> time = ls.time("time");
        if (!time)
            throw unreadable(where + QStringLiteral(", last-sync"), "time", "a time such as 2025-01-31T12:00:00Z");
        rec.time = *time;
        const QJsonValue outcome = last.value(QLatin1String("outcome"));
        rec.outcome = Helper1::jobOutcomeFromName(outcome.toString());
        if (!outcome.isString() || rec.outcome == Helper1::JobOutcome::Running
            || Helper1::jobOutcomeName(rec.outcome) != outcome.toString())
            throw unreadable(where + QStringLiteral(", last-sync"), "outcome", "ok, partial, failed or cancelled");
        constexpr int64_t maxCount = int64_t(1) << 53; // what a JSON number holds exactly
        rec.bytes = uint64_t(ls.integer("bytes", 0, 0, maxCount));
        rec.files = uint64_t(ls.integer("files", 0, 0, maxCount));
        v.lastSync = rec;
    }
    v.lastSuccess = f.time("last-success");
    return v;
}

QJsonObject writeVault(const VaultEntry &v)
{
    const QJsonObject o = v.original;
    const QJsonObject lastSync = v.lastSync
                                     ? merged(o.value(QLatin1String("last-sync")).toObject(),
                                              {{"time", timeText(v.lastSync->time)},
                                               {"outcome", Helper1::jobOutcomeName(v.lastSync->outcome)},
                                               {"bytes", double(v.lastSync->bytes)},
                                               {"files", double(v.lastSync->files)}})
                                     : QJsonObject();
    return merged(
        o, {{"name", bytesToJson(v.name)},
            {"medium", merged(o.value(QLatin1String("medium")).toObject(),
                              {{"fs-uuid", bytesToJson(v.medium.fsUuid)},
                               {"serial", bytesToJson(v.medium.serial)},
                               {"label", bytesToJson(v.medium.label)}})},
            {"path", bytesToJson(v.path)},
            {"sources", bytesArray(v.sources)},
            {"excludes", bytesArray(v.excludes)},
            {"mode", QLatin1String(modeNames.name(v.mode))},
            {"retention", merged(o.value(QLatin1String("retention")).toObject(),
                                 {{"keep-last", v.retention.keepLast},
                                  {"keep-daily", v.retention.keepDaily},
                                  {"keep-weekly", v.retention.keepWeekly}})},
            {"trigger", QLatin1String(triggerNames.name(v.trigger))},
            {"lock", merged(o.value(QLatin1String("lock")).toObject(),
                            {{"on-suspend", v.lock.onSuspend},
                             {"on-screen-lock", v.lock.onScreenLock ? QJsonValue(*v.lock.onScreenLock) : QJsonValue()},
                             {"idle-minutes", orNull(v.lock.idleMinutes)},
                             {"max-open-minutes", orNull(v.lock.maxOpenMinutes)},
                             {"after-sync", v.lock.afterSync}})},
            {"secret", merged(o.value(QLatin1String("secret")).toObject(),
                              {{"source", QLatin1String(secretNames.name(v.secretSource))},
                               {"key-file", v.keyFile.empty() ? QJsonValue() : bytesToJson(v.keyFile)}})},
            {"stale-after-days", orNull(v.staleAfterDays)},
            {"last-sync", v.lastSync ? QJsonValue(lastSync) : QJsonValue()},
            {"last-success", v.lastSuccess ? QJsonValue(timeText(*v.lastSuccess)) : QJsonValue()}});
}

// Settings are a few small values: one of the wrong type falls back to its default, and the
// problem is reported (the file is not set aside for it).
Settings readSettings(const QJsonObject &object, std::vector<std::string> &problems)
{
    const Fields f(object, QStringLiteral("settings"));
    Settings s;
    s.original = object;
    auto read = [&](auto get) {
        try {
            get();
        } catch (const Error &e) {
            problems.push_back(e.message() + "; the default is used");
        }
    };
    read([&] { s.lockOnScreenLock = f.boolean("lock-on-screen-lock", s.lockOnScreenLock); });
    read([&] { s.idleLockMinutes = int(f.integer("idle-lock-minutes", s.idleLockMinutes, 0, maxIdleMinutes)); });
    read([&] { s.maxOpenMinutes = int(f.integer("max-open-minutes", s.maxOpenMinutes, 0, maxOpenMinutesLimit)); });
    read([&] { s.notifications = f.boolean("notifications", s.notifications); });
    read([&] { s.staleAfterDays = int(f.integer("stale-after-days", s.staleAfterDays, 1, maxStaleAfterDays)); });
    return s;
}

QJsonObject writeSettings(const Settings &s)
{
    return merged(s.original, {{"lock-on-screen-lock", s.lockOnScreenLock},
                               {"idle-lock-minutes", s.idleLockMinutes},
                               {"max-open-minutes", s.maxOpenMinutes},
                               {"notifications", s.notifications},
                               {"stale-after-days", s.staleAfterDays}});
}

} // namespace

const char *triggerName(Trigger trigger)
{
    return triggerNames.name(trigger);
}

std::optional<Trigger> triggerFromName(const QString &name)
{
    return triggerNames.value(name);
}

const char *secretSourceName(SecretSource source)
{
    return secretNames.name(source);
}

std::optional<SecretSource> secretSourceFromName(const QString &name)
{
    return secretNames.value(name);
}

const char *modeName(Sync::Mode mode)
{
    return modeNames.name(mode);
}

std::optional<Sync::Mode> modeFromName(const QString &name)
{
    return modeNames.value(name);
}

QJsonValue bytesToJson(std::string_view bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringConverter::Flag::ConvertInitialBom);
    const QString text = decoder(QByteArrayView(bytes.data(), qsizetype(bytes.size())));
    if (!decoder.hasError() && text.toUtf8() == QByteArrayView(bytes.data(), qsizetype(bytes.size())))
        return text;
    const QByteArray raw(bytes.data(), qsizetype(bytes.size()));
    return QJsonObject{{QStringLiteral("base64"), QString::fromLatin1(raw.toBase64())}};
}

std::string bytesFromJson(const QJsonValue &value)
{
    if (value.isString())
        return value.toString().toUtf8().toStdString();
    const QJsonObject o = value.toObject();
    const auto decoded = QByteArray::fromBase64Encoding(o.value(QLatin1String("base64")).toString().toLatin1(),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    if (!value.isObject() || o.size() != 1 || !o.value(QLatin1String("base64")).isString() || !decoded)
        throw Error(ErrorCode::Failed, "Not a string, nor {\"base64\": ...}");
    return (*decoded).toStdString();
}

VaultEntry *RegistryDocument::find(std::string_view luksUuid)
{
    const QString wanted = QString::fromUtf8(luksUuid.data(), qsizetype(luksUuid.size())).toLower();
    const auto it = std::find_if(vaults.begin(), vaults.end(),
                                 [&](const VaultEntry &v) { return QString::fromStdString(v.luksUuid) == wanted; });
    return it == vaults.end() ? nullptr : &*it;
}

const VaultEntry *RegistryDocument::find(std::string_view luksUuid) const
{
    return const_cast<RegistryDocument *>(this)->find(luksUuid);
}

RegistryDocument parseRegistry(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        throw Error(ErrorCode::Failed, "it is not valid JSON (" + error.errorString().toStdString() + " at byte "
                                           + std::to_string(error.offset) + ")");
    if (!doc.isObject())
        throw Error(ErrorCode::Failed, "it is not a JSON object");
    const QJsonObject root = doc.object();
    const QJsonValue version = root.value(QLatin1String("version"));
    if (!version.isDouble() || version.toDouble() < 1 || version.toDouble() != std::floor(version.toDouble())
        || version.toDouble() > 1e6)
        throw Error(ErrorCode::Failed, "it has no \"version\"");
    RegistryDocument d;
    d.version = version.toInt();
    d.original = root;
    const QJsonValue settings = root.value(QLatin1String("settings"));
    const QJsonValue vaults = root.value(QLatin1String("vaults"));
    if ((!settings.isUndefined() && !settings.isObject()) || (!vaults.isUndefined() && !vaults.isObject())) {
        // A newer file is read as far as this version understands it; one whose structure this
        // version cannot read is that version's to repair, never to set aside.
        if (!d.newerThanThisVersion())
            throw Error(ErrorCode::Failed, "\"settings\" and \"vaults\" must be objects");
        d.problems.push_back("The list was written by a newer Coffer (format " + std::to_string(d.version)
                             + ") in a form this version cannot read");
        return d;
    }
    d.settings = readSettings(settings.toObject(), d.problems);
    const QJsonObject entries = vaults.toObject();
    for (auto it = entries.begin(); it != entries.end(); ++it) {
        try {
            const QByteArray uuid = it.key().toUtf8();
            if (!Vault::isCanonicalLuksUuid(std::string_view(uuid.constData(), size_t(uuid.size()))))
                throw Error(ErrorCode::Failed,
                            "\"" + it.key().left(40).toStdString() + "\" is not a LUKS UUID");
            if (!it.value().isObject())
                throw Error(ErrorCode::Failed, "vault " + it.key().toStdString() + " is not an object");
            VaultEntry v = readVault(it.key(), it.value().toObject());
            if (d.find(v.luksUuid))
                throw Error(ErrorCode::Failed, "vault " + it.key().toStdString() + " is listed twice");
            d.vaults.push_back(std::move(v));
        } catch (const Error &e) {
            d.unreadableVaults.insert(it.key(), it.value());
            d.problems.push_back(e.message() + "; the entry is kept in the file but not used");
        }
    }
    std::sort(d.vaults.begin(), d.vaults.end(),
              [](const VaultEntry &a, const VaultEntry &b) { return a.luksUuid < b.luksUuid; });
    return d;
}

QByteArray serializeRegistry(const RegistryDocument &d)
{
    QJsonObject vaults = d.unreadableVaults;
    for (const VaultEntry &v : d.vaults)
        vaults.insert(QString::fromStdString(v.luksUuid), writeVault(v));
    QJsonObject root = d.original;
    root.insert(QLatin1String("version"), d.version);
    root.insert(QLatin1String("settings"), writeSettings(d.settings));
    root.insert(QLatin1String("vaults"), vaults);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

} // namespace Coffer::Config
