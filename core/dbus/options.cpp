#include "dbus/options.h"

#include "error.h"

#include <QDBusArgument>
#include <QDBusMetaType>
#include <QStringList>

#include <algorithm>
#include <map>

namespace Coffer::Helper1 {

namespace {

// The wire forms of the structured values in a sync's Result.
struct PlanItemWire
{
    QString action; // "add", "update", "metadata", "delete"
    QString type;   // one character: f d l p h
    QByteArray path;
    qulonglong bytes = 0;
};

struct WarningWire
{
    QByteArray path;
    int sysErrno = 0;
    QString message;
};

} // namespace
} // namespace Coffer::Helper1

Q_DECLARE_METATYPE(Coffer::Helper1::PlanItemWire)
Q_DECLARE_METATYPE(Coffer::Helper1::WarningWire)

namespace Coffer::Helper1 {

namespace {

QDBusArgument &operator<<(QDBusArgument &arg, const PlanItemWire &item)
{
    arg.beginStructure();
    arg << item.action << item.type << item.path << item.bytes;
    arg.endStructure();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, PlanItemWire &item)
{
    arg.beginStructure();
    arg >> item.action >> item.type >> item.path >> item.bytes;
    arg.endStructure();
    return arg;
}

QDBusArgument &operator<<(QDBusArgument &arg, const WarningWire &warning)
{
    arg.beginStructure();
    arg << warning.path << warning.sysErrno << warning.message;
    arg.endStructure();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, WarningWire &warning)
{
    arg.beginStructure();
    arg >> warning.path >> warning.sysErrno >> warning.message;
    arg.endStructure();
    return arg;
}

Error invalid(const std::string &message)
{
    return Error(ErrorCode::InvalidArgument, message);
}

const std::map<std::string_view, std::vector<OptionSpec>> &allSpecs()
{
    static const std::map<std::string_view, std::vector<OptionSpec>> specs{
        {"CreateVault",
         {{Key::Label, "s"}, {Key::PbkdfMemoryKiB, "u"}, {Key::PbkdfIterMs, "u"},
          {Key::PbkdfIterations, "u"}, {Key::KeyFile, "h"}}},
        {"Unlock", {{Key::ReadOnly, "b"}, {Key::LockOnSuspend, "b"}}},
        {"Lock", {{Key::Force, "b"}}},
        {"Sync",
         {{Key::Mode, "s"}, {Key::Exclude, "as"}, {Key::LockAfter, "b"}, {Key::Checksum, "b"},
          {Key::DryRun, "b"}, {Key::KeepLast, "u"}, {Key::KeepDaily, "u"}, {Key::KeepWeekly, "u"}}},
        {"SyncResult",
         {{Key::DryRun, "b"}, {Key::Durable, "b"}, {Key::UsedManifest, "b"}, {Key::Snapshot, "s"},
          {Key::FilesScanned, "t"}, {Key::FilesCopied, "t"}, {Key::FilesLinked, "t"},
          {Key::FilesDeleted, "t"}, {Key::ItemsUpdated, "t"}, {Key::BytesCopied, "t"},
          {Key::Warnings, "a(ayis)"}, {Key::WarningsDropped, "t"}, {Key::SnapshotsRemoved, "as"},
          {Key::PlanAdded, "t"}, {Key::PlanUpdated, "t"}, {Key::PlanMetadata, "t"},
          {Key::PlanDeleted, "t"}, {Key::PlanUnchanged, "t"}, {Key::PlanBytesToWrite, "t"},
          {Key::PlanBytesToDelete, "t"}, {Key::PlanBytesFree, "t"}, {Key::PlanFits, "b"},
          {Key::PlanItems, "a(ssayt)"}, {Key::PlanItemsDropped, "t"}}},
        {"Medium",
         {{Key::FsUuid, "s"}, {Key::Label, "ay"}, {Key::FsType, "s"}, {Key::Serial, "s"}, {Key::Vendor, "s"},
          {Key::Model, "s"}, {Key::Device, "s"}, {Key::DevNum, "t"}, {Key::Size, "t"}, {Key::Removable, "b"},
          {Key::MountPoints, "aay"}, {Key::FreeBytes, "t"}}},
    };
    return specs;
}

// Typed, validated access to one a{sv}: unknown keys are refused up front, and every getter
// refuses a value of the wrong type or out of range, naming the key.
class Reader
{
public:
    Reader(const QVariantMap &map, std::string_view dictionary)
        : m_map(map)
    {
        const std::vector<OptionSpec> &specs = optionSpecs(dictionary);
        for (auto it = map.cbegin(); it != map.cend(); ++it) {
            const QByteArray key = it.key().toUtf8();
            const bool known = std::any_of(specs.begin(), specs.end(), [&](const OptionSpec &s) {
                return s.key == std::string_view(key.constData(), size_t(key.size()));
            });
            if (!known)
                throw invalid("Unknown option \"" + it.key().left(64).toStdString() + "\".");
        }
    }

    bool boolean(const char *key, bool def) const
    {
        const QVariant *v = find(key);
        if (!v)
            return def;
        if (v->metaType().id() != QMetaType::Bool)
            throw invalid(std::string("Option ") + key + " must be a boolean.");
        return v->toBool();
    }

    uint64_t number(const char *key, uint64_t def, uint64_t max) const
    {
        const QVariant *v = find(key);
        if (!v)
            return def;
        switch (v->metaType().id()) {
        case QMetaType::UInt:
        case QMetaType::ULongLong:
        case QMetaType::UShort:
        case QMetaType::UChar:
            break;
        case QMetaType::Int:
        case QMetaType::LongLong:
        case QMetaType::Short:
            if (v->toLongLong() < 0)
                throw invalid(std::string("Option ") + key + " must not be negative.");
            break;
        default:
            throw invalid(std::string("Option ") + key + " must be a number.");
        }
        const qulonglong value = v->toULongLong();
        if (value > max)
            throw invalid(std::string("Option ") + key + " is larger than " + std::to_string(max) + ".");
        return value;
    }

    QString string(const char *key, const QString &def = {}) const
    {
        const QVariant *v = find(key);
        if (!v)
            return def;
        if (v->metaType().id() != QMetaType::QString)
            throw invalid(std::string("Option ") + key + " must be a string.");
        const QString value = v->toString();
        if (value.size() > MaxStringLength || value.contains(QChar(0)))
            throw invalid(std::string("Option ") + key + " is too long or contains NUL.");
        return value;
    }

    QStringList stringList(const char *key, qsizetype maxEntries) const
    {
        const QVariant *v = find(key);
        if (!v)
            return {};
        QStringList list;
        if (v->metaType().id() == QMetaType::QStringList) {
            list = v->toStringList();
        } else if (v->metaType() == QMetaType::fromType<QDBusArgument>()) {
            const auto arg = v->value<QDBusArgument>();
            if (arg.currentSignature() != QLatin1String("as"))
                throw invalid(std::string("Option ") + key + " must be a list of strings.");
            arg >> list;
        } else {
            throw invalid(std::string("Option ") + key + " must be a list of strings.");
        }
        if (list.size() > maxEntries)
            throw invalid(std::string("Option ") + key + " has too many entries.");
        for (const QString &s : list) {
            if (s.isEmpty() || s.size() > MaxStringLength || s.contains(QChar(0)))
                throw invalid(std::string("Option ") + key + " has an empty, too long or NUL entry.");
        }
        return list;
    }

    QByteArray bytes(const char *key, qsizetype maxSize) const
    {
        const QVariant *v = find(key);
        if (!v)
            return {};
        if (v->metaType().id() != QMetaType::QByteArray)
            throw invalid(std::string("Value ") + key + " must be bytes (ay).");
        if (v->toByteArray().size() > maxSize)
            throw invalid(std::string("Value ") + key + " is too long.");
        return v->toByteArray();
    }

    // aay: demarshalled when it came over the bus, as is when it did not.
    QList<QByteArray> byteLists(const char *key, qsizetype maxEntries, qsizetype maxSize) const
    {
        const QVariant *v = find(key);
        if (!v)
            return {};
        QList<QByteArray> list;
        if (v->metaType() == QMetaType::fromType<QDBusArgument>()) {
            const auto arg = v->value<QDBusArgument>();
            if (arg.currentSignature() != QLatin1String("aay"))
                throw invalid(std::string("Value ") + key + " must be a list of byte strings (aay).");
            arg >> list;
        } else if (v->metaType() == QMetaType::fromType<QList<QByteArray>>()) {
            list = v->value<QList<QByteArray>>();
        } else {
            throw invalid(std::string("Value ") + key + " must be a list of byte strings (aay).");
        }
        if (list.size() > maxEntries
            || std::any_of(list.begin(), list.end(), [&](const QByteArray &b) { return b.size() > maxSize; }))
            throw invalid(std::string("Value ") + key + " has too many or too long entries.");
        return list;
    }

    QDBusUnixFileDescriptor fd(const char *key) const
    {
        const QVariant *v = find(key);
        if (!v)
            return {};
        if (v->metaType() != QMetaType::fromType<QDBusUnixFileDescriptor>())
            throw invalid(std::string("Option ") + key + " must be a file descriptor (h).");
        const auto fd = v->value<QDBusUnixFileDescriptor>();
        if (!fd.isValid())
            throw invalid(std::string("Option ") + key
                          + " is not a valid file descriptor (bad index in the message?).");
        return fd;
    }

    // A list of D-Bus structs: demarshalled when it came over the bus, as is when it did not.
    template<typename T>
    QList<T> structs(const char *key, const char *signature) const
    {
        const QVariant *v = find(key);
        if (!v)
            return {};
        if (v->metaType() == QMetaType::fromType<QDBusArgument>()) {
            const auto arg = v->value<QDBusArgument>();
            if (arg.currentSignature() != QLatin1String(signature))
                throw invalid(std::string("Result ") + key + " must be " + signature + ".");
            QList<T> list;
            arg >> list;
            return list;
        }
        if (v->metaType() != QMetaType::fromType<QList<T>>())
            throw invalid(std::string("Result ") + key + " must be " + signature + ".");
        return v->value<QList<T>>();
    }

    static constexpr qsizetype MaxStringLength = 4096;

private:
    const QVariant *find(const char *key) const
    {
        const auto it = m_map.constFind(QLatin1String(key));
        return it == m_map.cend() ? nullptr : &*it;
    }

    const QVariantMap &m_map;
};

QString planActionName(Sync::PlanAction action)
{
    switch (action) {
    case Sync::PlanAction::Add: return QStringLiteral("add");
    case Sync::PlanAction::Update: return QStringLiteral("update");
    case Sync::PlanAction::Metadata: return QStringLiteral("metadata");
    case Sync::PlanAction::Delete: return QStringLiteral("delete");
    }
    return {};
}

Sync::PlanAction planActionFromName(const QString &name)
{
    for (const Sync::PlanAction a : {Sync::PlanAction::Add, Sync::PlanAction::Update,
                                     Sync::PlanAction::Metadata, Sync::PlanAction::Delete}) {
        if (planActionName(a) == name)
            return a;
    }
    throw invalid("Unknown plan action \"" + name.left(16).toStdString() + "\".");
}

QByteArray bytesOf(const std::string &s)
{
    return QByteArray(s.data(), qsizetype(s.size()));
}

std::string stringOf(const QByteArray &b)
{
    return std::string(b.constData(), size_t(b.size()));
}

} // namespace

const std::vector<OptionSpec> &optionSpecs(std::string_view dictionary)
{
    static const std::vector<OptionSpec> none;
    const auto &specs = allSpecs();
    const auto it = specs.find(dictionary);
    return it == specs.end() ? none : it->second;
}

void registerOptionTypes()
{
    static const bool done = [] {
        qDBusRegisterMetaType<PlanItemWire>();
        qDBusRegisterMetaType<QList<PlanItemWire>>();
        qDBusRegisterMetaType<WarningWire>();
        qDBusRegisterMetaType<QList<WarningWire>>();
        qDBusRegisterMetaType<QList<QByteArray>>();
        qDBusRegisterMetaType<QList<QVariantMap>>(); // ListMedia
        return true;
    }();
    (void)done;
}

// ---- options ----------------------------------------------------------------------------------

QVariantMap encode(const CreateOptions &o)
{
    QVariantMap map{{QLatin1String(Key::Label), o.label}};
    if (o.pbkdf.memoryKiB)
        map.insert(QLatin1String(Key::PbkdfMemoryKiB), uint(o.pbkdf.memoryKiB));
    if (o.pbkdf.iterMs)
        map.insert(QLatin1String(Key::PbkdfIterMs), uint(o.pbkdf.iterMs));
    if (o.pbkdf.iterations)
        map.insert(QLatin1String(Key::PbkdfIterations), uint(o.pbkdf.iterations));
    if (o.keyFile.isValid())
        map.insert(QLatin1String(Key::KeyFile), QVariant::fromValue(o.keyFile));
    return map;
}

CreateOptions decodeCreateOptions(const QVariantMap &options)
{
    const Reader r(options, "CreateVault");
    CreateOptions o;
    o.label = r.string(Key::Label, o.label);
    o.pbkdf.memoryKiB = uint32_t(r.number(Key::PbkdfMemoryKiB, 0, PbkdfLimit::maxMemoryKiB));
    o.pbkdf.iterMs = uint32_t(r.number(Key::PbkdfIterMs, 0, PbkdfLimit::maxIterMs));
    o.pbkdf.iterations = uint32_t(r.number(Key::PbkdfIterations, 0, PbkdfLimit::maxIterations));
    if (o.pbkdf.memoryKiB != 0 && o.pbkdf.memoryKiB < PbkdfLimit::minMemoryKiB)
        throw invalid(std::string("Option ") + Key::PbkdfMemoryKiB + " must be at least "
                      + std::to_string(PbkdfLimit::minMemoryKiB) + ".");
    KdfLimits::checkNewSlot(o.pbkdf); // the options together (memory x iterations)
    o.keyFile = r.fd(Key::KeyFile);
    return o;
}

QVariantMap encode(const UnlockOptions &o)
{
    QVariantMap map;
    if (o.readOnly)
        map.insert(QLatin1String(Key::ReadOnly), true);
    if (!o.lockOnSuspend)
        map.insert(QLatin1String(Key::LockOnSuspend), false);
    return map;
}

UnlockOptions decodeUnlockOptions(const QVariantMap &options)
{
    const Reader r(options, "Unlock");
    UnlockOptions o;
    o.readOnly = r.boolean(Key::ReadOnly, false);
    o.lockOnSuspend = r.boolean(Key::LockOnSuspend, true);
    return o;
}

QVariantMap encode(const LockOptions &o)
{
    QVariantMap map;
    if (o.force)
        map.insert(QLatin1String(Key::Force), true);
    return map;
}

LockOptions decodeLockOptions(const QVariantMap &options)
{
    const Reader r(options, "Lock");
    LockOptions o;
    o.force = r.boolean(Key::Force, false);
    return o;
}

QVariantMap encode(const SyncOptions &o)
{
    QVariantMap map{{QLatin1String(Key::Mode),
                     o.mode == Sync::Mode::Snapshot ? QStringLiteral("snapshot") : QStringLiteral("mirror")}};
    if (!o.excludes.empty()) {
        QStringList patterns;
        for (const std::string &p : o.excludes)
            patterns << QString::fromStdString(p);
        map.insert(QLatin1String(Key::Exclude), patterns);
    }
    const std::pair<const char *, bool> flags[] = {
        {Key::Checksum, o.checksum}, {Key::DryRun, o.dryRun}, {Key::LockAfter, o.lockAfter}};
    for (const auto &[key, on] : flags) {
        if (on)
            map.insert(QLatin1String(key), true);
    }
    const std::pair<const char *, int> keep[] = {{Key::KeepLast, o.retention.keepLast},
                                                 {Key::KeepDaily, o.retention.keepDaily},
                                                 {Key::KeepWeekly, o.retention.keepWeekly}};
    for (const auto &[key, n] : keep) {
        if (n > 0)
            map.insert(QLatin1String(key), uint(n));
    }
    return map;
}

SyncOptions decodeSyncOptions(const QVariantMap &options)
{
    constexpr qsizetype maxExcludes = 1024;
    const Reader r(options, "Sync");
    SyncOptions o;
    const QString mode = r.string(Key::Mode, QStringLiteral("mirror"));
    if (mode == QLatin1String("mirror"))
        o.mode = Sync::Mode::Mirror;
    else if (mode == QLatin1String("snapshot"))
        o.mode = Sync::Mode::Snapshot;
    else
        throw invalid("Option mode must be \"mirror\" or \"snapshot\".");
    for (const QString &pattern : r.stringList(Key::Exclude, maxExcludes))
        o.excludes.push_back(pattern.toUtf8().toStdString());
    o.checksum = r.boolean(Key::Checksum, false);
    o.dryRun = r.boolean(Key::DryRun, false);
    o.lockAfter = r.boolean(Key::LockAfter, false);
    o.retention.keepLast = int(r.number(Key::KeepLast, 0, maxKeepCount));
    o.retention.keepDaily = int(r.number(Key::KeepDaily, 0, maxKeepCount));
    o.retention.keepWeekly = int(r.number(Key::KeepWeekly, 0, maxKeepCount));
    return o;
}

// ---- job outcome and result -------------------------------------------------------------------

QString jobOutcomeName(JobOutcome outcome)
{
    switch (outcome) {
    case JobOutcome::Running: return {};
    case JobOutcome::Ok: return QStringLiteral("ok");
    case JobOutcome::Partial: return QStringLiteral("partial");
    case JobOutcome::Failed: return QStringLiteral("failed");
    case JobOutcome::Cancelled: return QStringLiteral("cancelled");
    }
    return QStringLiteral("failed");
}

JobOutcome jobOutcomeFromName(const QString &name)
{
    for (const JobOutcome o : {JobOutcome::Running, JobOutcome::Ok, JobOutcome::Partial,
                               JobOutcome::Cancelled}) {
        if (jobOutcomeName(o) == name)
            return o;
    }
    return JobOutcome::Failed;
}

QVariantMap encodeSyncResult(const Sync::Result &r)
{
    registerOptionTypes();
    QList<WarningWire> warnings;
    for (const Sync::Warning &w : r.warnings) {
        if (size_t(warnings.size()) == maxResultItems)
            break;
        warnings.append({bytesOf(w.path), w.sysErrno, QString::fromStdString(w.message)});
    }
    QList<PlanItemWire> items;
    for (const Sync::PlanItem &item : r.plan.items) {
        if (size_t(items.size()) == maxResultItems)
            break;
        items.append({planActionName(item.action), QString(QLatin1Char(item.type)), bytesOf(item.path),
                      item.bytes});
    }
    QStringList removed;
    for (const std::string &name : r.snapshotsRemoved)
        removed << QString::fromStdString(name);
    const Sync::Plan &p = r.plan;
    return {
        {QLatin1String(Key::DryRun), r.dryRun},
        {QLatin1String(Key::Durable), r.durable},
        {QLatin1String(Key::UsedManifest), r.usedManifest},
        {QLatin1String(Key::Snapshot), QString::fromStdString(r.snapshot)},
        {QLatin1String(Key::FilesScanned), qulonglong(r.filesScanned)},
        {QLatin1String(Key::FilesCopied), qulonglong(r.filesCopied)},
        {QLatin1String(Key::FilesLinked), qulonglong(r.filesLinked)},
        {QLatin1String(Key::FilesDeleted), qulonglong(r.filesDeleted)},
        {QLatin1String(Key::ItemsUpdated), qulonglong(r.itemsUpdated)},
        {QLatin1String(Key::BytesCopied), qulonglong(r.bytesCopied)},
        {QLatin1String(Key::Warnings), QVariant::fromValue(warnings)},
        {QLatin1String(Key::WarningsDropped),
         qulonglong(r.warningsDropped + (r.warnings.size() - size_t(warnings.size())))},
        {QLatin1String(Key::SnapshotsRemoved), removed},
        {QLatin1String(Key::PlanAdded), qulonglong(p.added)},
        {QLatin1String(Key::PlanUpdated), qulonglong(p.updated)},
        {QLatin1String(Key::PlanMetadata), qulonglong(p.metadataOnly)},
        {QLatin1String(Key::PlanDeleted), qulonglong(p.deleted)},
        {QLatin1String(Key::PlanUnchanged), qulonglong(p.unchanged)},
        {QLatin1String(Key::PlanBytesToWrite), qulonglong(p.bytesToWrite)},
        {QLatin1String(Key::PlanBytesToDelete), qulonglong(p.bytesToDelete)},
        {QLatin1String(Key::PlanBytesFree), qulonglong(p.bytesFree)},
        {QLatin1String(Key::PlanFits), p.fits},
        {QLatin1String(Key::PlanItems), QVariant::fromValue(items)},
        {QLatin1String(Key::PlanItemsDropped), qulonglong(p.itemsDropped + (p.items.size() - size_t(items.size())))},
    };
}

Sync::Result decodeSyncResult(const QVariantMap &result)
{
    registerOptionTypes();
    constexpr uint64_t any = ~uint64_t(0);
    const Reader r(result, "SyncResult");
    Sync::Result s;
    s.dryRun = r.boolean(Key::DryRun, false);
    s.durable = r.boolean(Key::Durable, false);
    s.usedManifest = r.boolean(Key::UsedManifest, false);
    s.snapshot = r.string(Key::Snapshot).toStdString();
    s.filesScanned = r.number(Key::FilesScanned, 0, any);
    s.filesCopied = r.number(Key::FilesCopied, 0, any);
    s.filesLinked = r.number(Key::FilesLinked, 0, any);
    s.filesDeleted = r.number(Key::FilesDeleted, 0, any);
    s.itemsUpdated = r.number(Key::ItemsUpdated, 0, any);
    s.bytesCopied = r.number(Key::BytesCopied, 0, any);
    for (const WarningWire &w : r.structs<WarningWire>(Key::Warnings, "a(ayis)"))
        s.warnings.push_back({stringOf(w.path), w.message.toStdString(), w.sysErrno});
    s.warningsDropped = r.number(Key::WarningsDropped, 0, any);
    for (const QString &name : r.stringList(Key::SnapshotsRemoved, qsizetype(maxResultItems)))
        s.snapshotsRemoved.push_back(name.toStdString());
    Sync::Plan &p = s.plan;
    p.added = r.number(Key::PlanAdded, 0, any);
    p.updated = r.number(Key::PlanUpdated, 0, any);
    p.metadataOnly = r.number(Key::PlanMetadata, 0, any);
    p.deleted = r.number(Key::PlanDeleted, 0, any);
    p.unchanged = r.number(Key::PlanUnchanged, 0, any);
    p.bytesToWrite = r.number(Key::PlanBytesToWrite, 0, any);
    p.bytesToDelete = r.number(Key::PlanBytesToDelete, 0, any);
    p.bytesFree = r.number(Key::PlanBytesFree, 0, any);
    p.fits = r.boolean(Key::PlanFits, true);
    for (const PlanItemWire &w : r.structs<PlanItemWire>(Key::PlanItems, "a(ssayt)")) {
        if (w.type.size() != 1)
            throw invalid("A plan item's type must be one character.");
        p.items.push_back({planActionFromName(w.action), char(w.type.at(0).toLatin1()), stringOf(w.path),
                           w.bytes});
    }
    p.itemsDropped = r.number(Key::PlanItemsDropped, 0, any);
    return s;
}

// ---- media ------------------------------------------------------------------------------------

QVariantMap encodeMedium(const Media::Medium &m)
{
    registerOptionTypes();
    QList<QByteArray> mountPoints;
    for (const std::string &p : m.mountPoints)
        mountPoints.append(bytesOf(p));
    QVariantMap map{
        {QLatin1String(Key::FsUuid), Media::displayText(m.fsUuid)},
        {QLatin1String(Key::Label), bytesOf(m.label)},
        {QLatin1String(Key::FsType), Media::displayText(m.fsType)},
        {QLatin1String(Key::Serial), Media::displayText(m.serial)},
        {QLatin1String(Key::Vendor), Media::displayText(m.vendor)},
        {QLatin1String(Key::Model), Media::displayText(m.model)},
        {QLatin1String(Key::Device), Media::displayText(m.devNode)},
        {QLatin1String(Key::DevNum), qulonglong(m.devnum)},
        {QLatin1String(Key::Size), qulonglong(m.size)},
        {QLatin1String(Key::Removable), m.removable},
        {QLatin1String(Key::MountPoints), QVariant::fromValue(mountPoints)},
    };
    if (m.freeBytes)
        map.insert(QLatin1String(Key::FreeBytes), qulonglong(*m.freeBytes));
    return map;
}

Media::Medium decodeMedium(const QVariantMap &medium)
{
    registerOptionTypes();
    constexpr uint64_t any = ~uint64_t(0);
    constexpr qsizetype maxFact = qsizetype(Media::maxFactLength);
    constexpr qsizetype maxPath = 4096;
    const Reader r(medium, "Medium");
    const auto text = [&](const char *key) { return r.string(key).left(maxFact).toStdString(); };
    Media::Medium m;
    m.fsUuid = text(Key::FsUuid);
    m.label = stringOf(r.bytes(Key::Label, maxFact));
    m.fsType = text(Key::FsType);
    m.serial = text(Key::Serial);
    m.vendor = text(Key::Vendor);
    m.model = text(Key::Model);
    m.devNode = text(Key::Device);
    m.devnum = dev_t(r.number(Key::DevNum, 0, any));
    m.size = r.number(Key::Size, 0, any);
    m.removable = r.boolean(Key::Removable, false);
    for (const QByteArray &p : r.byteLists(Key::MountPoints, 64, maxPath))
        m.mountPoints.push_back(stringOf(p));
    if (medium.contains(QLatin1String(Key::FreeBytes)))
        m.freeBytes = r.number(Key::FreeBytes, 0, any);
    return m;
}

} // namespace Coffer::Helper1
