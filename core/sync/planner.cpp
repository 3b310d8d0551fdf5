#include "sync/planner.h"

#include <sys/stat.h>

namespace Coffer::Sync {

namespace {

char typeChar(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return 'd';
    case S_IFLNK: return 'l';
    case S_IFIFO: return 'p';
    case S_IFREG: return 'f';
    default: return '?';
    }
}

} // namespace

Planner::Planner(const PlanSettings &settings, Plan &plan)
    : m_settings(settings)
    , m_plan(plan)
{
}

void Planner::plan(Job &job)
{
    const bool mirror = m_settings.mode == Mode::Mirror;
    Node &root = job.src.nodes[0];
    std::string rel;
    if (job.haveDst) {
        root.match = 0;
        root.destIno = job.dst.nodes[0].destIno;
        root.destCtimeNs = job.dst.nodes[0].destCtimeNs;
        planDir(job, 0, 0, rel);
        const Node &o = job.dst.nodes[0];
        if (!mirror)
            root.action = Action::Create;
        else if (!sameMeta(root, o) || root.mtimeNs != o.mtimeNs)
            root.action = Action::Metadata;
        if (root.action != Action::None)
            root.flags |= FlagMetaDirty;
        if (m_settings.xattrs && !job.fromManifest)
            root.flags |= FlagCheckXattr;
    } else {
        root.action = Action::Create;
        root.flags |= FlagSubtreeDirty | FlagMetaDirty;
        for (uint32_t i = root.firstChild; i < root.firstChild + root.childCount; ++i)
            planNew(job, i);
    }
    // The manifest only needs rewriting if something differs from what it says.
    job.manifestChanged = !job.fromManifest || (root.flags & (FlagSubtreeDirty | FlagMetaDirty | FlagCheckXattr))
        || root.action != Action::None;
    // A durable run makes an unflushed run's results durable too, and says so in the manifest.
    if (m_settings.durable && job.manifestUnflushed)
        job.manifestChanged = true;
    if (!job.manifestChanged) {
        for (uint32_t i = 1; i < job.src.nodes.size() && !job.manifestChanged; ++i) {
            const Node &n = job.src.nodes[i];
            const Node &o = job.dst.nodes[n.match == NoNode ? 0 : n.match];
            job.manifestChanged = n.match == NoNode || n.ctimeNs != o.ctimeNs || n.ino != o.ino;
        }
    }
}

void Planner::addItem(PlanAction action, char type, const Job &job, uint32_t idx, uint64_t bytes,
                      const std::string *path)
{
    switch (action) {
    case PlanAction::Add: ++m_plan.added; break;
    case PlanAction::Update: ++m_plan.updated; break;
    case PlanAction::Metadata: ++m_plan.metadataOnly; break;
    case PlanAction::Delete: ++m_plan.deleted; break;
    }
    if (action == PlanAction::Delete)
        m_plan.bytesToDelete += bytes;
    else
        m_plan.bytesToWrite += bytes;
    if (m_settings.listItems)
        m_plan.items.push_back({action, type, path ? *path : itemPath(job, idx), bytes});
}


void Planner::markDelete(Job &job, uint32_t d, std::string_view rel)
{
    Node &n = job.dst.nodes[d];
    n.flags |= FlagDelete;
    if (!m_settings.listItems && !S_ISDIR(n.mode)) {
        addItem(PlanAction::Delete, typeChar(n.mode), job, 0, n.nlink > 1 ? 0 : n.size);
        return;
    }
    // Count (and for a dry run, list) everything below a deleted directory.
    std::string path = job.source.name + '/' + std::string(rel);
    if (S_ISDIR(n.mode)) {
        std::string sub(rel);
        for (uint32_t i = n.firstChild; i < n.firstChild + n.childCount; ++i)
            markDelete(job, i, sub + '/' + std::string(job.dst.name(job.dst.nodes[i])));
    }
    addItem(PlanAction::Delete, typeChar(n.mode), job, 0, n.nlink > 1 ? 0 : n.size, &path);
}

// A source entry with no counterpart: everything below is new.
void Planner::planNew(Job &job, uint32_t s)
{
    Node &n = job.src.nodes[s];
    n.match = NoNode;
    const mode_t type = n.mode & S_IFMT;
    if (type == S_IFREG && n.nlink > 1) {
        planHardLink(job, s, NoNode);
        return;
    }
    n.action = Action::Create;
    addItem(PlanAction::Add, typeChar(n.mode), job, s, type == S_IFREG ? n.size : 0);
    if (type == S_IFDIR) {
        n.flags |= FlagSubtreeDirty | FlagMetaDirty;
        for (uint32_t i = n.firstChild; i < n.firstChild + n.childCount; ++i)
            planNew(job, i);
    }
}

// A regular file with more than one link in the source: the first one met (in walk order) is the
// group's leader and is planned as a file; the others become links to it.
void Planner::planHardLink(Job &job, uint32_t s, uint32_t d)
{
    Node &n = job.src.nodes[s];
    const uint64_t key = linkKey(n);
    auto [it, inserted] = job.leaders.try_emplace(key, s);
    if (inserted || job.src.nodes[it->second].ino != n.ino || job.src.nodes[it->second].dev != n.dev) {
        if (!inserted)
            it->second = s;
        if (d == NoNode) {
            n.action = Action::Create;
            addItem(PlanAction::Add, 'f', job, s, n.size);
        } else {
            planFile(job, s, d);
        }
        return;
    }
    const Node &leader = job.src.nodes[it->second];
    n.match = d;
    const bool leaderKept = leader.action == Action::None || leader.action == Action::Metadata
        || leader.action == Action::LinkPrev || leader.action == Action::Verify;
    if (m_settings.mode == Mode::Mirror && d != NoNode && leaderKept && leader.match != NoNode) {
        const Node &dn = job.dst.nodes[d];
        const Node &ld = job.dst.nodes[leader.match];
        if (S_ISREG(dn.mode) && dn.destIno != 0 && dn.destIno == ld.destIno) {
            n.action = Action::None;
            n.destIno = dn.destIno;
            return;
        }
    }
    n.action = Action::Link;
    addItem(d == NoNode ? PlanAction::Add : PlanAction::Update, 'h', job, s, 0);
}

void Planner::planFile(Job &job, uint32_t s, uint32_t d)
{
    Node &n = job.src.nodes[s];
    const Node &o = job.dst.nodes[d];
    n.match = d;
    n.destIno = o.destIno;
    const mode_t type = n.mode & S_IFMT;
    // The fast path: the manifest saw this very inode with this ctime, so nothing about it
    // (mode, owner, xattrs, size, mtime) changed since the last run wrote it.
    const bool fast = job.fromManifest && n.ctimeNs == o.ctimeNs && n.ino == o.ino;
    const bool snapshot = m_settings.mode == Mode::Snapshot;
    if (type == S_IFREG) {
        const bool quick = n.size == o.size && n.mtimeNs == o.mtimeNs;
        if (!quick) {
            n.action = snapshot ? Action::Create : Action::Update;
            addItem(PlanAction::Update, 'f', job, s, n.size);
            return;
        }
        const bool meta = sameMeta(n, o);
        if (snapshot) {
            if (!meta) {
                n.action = Action::Create;
                addItem(PlanAction::Update, 'f', job, s, n.size);
                return;
            }
            n.action = m_settings.checksum ? Action::Verify : Action::LinkPrev;
        } else if (m_settings.checksum) {
            n.action = Action::Verify;
            if (!meta)
                n.flags |= FlagMetaDirty; // files: mode/owner to set if the content is the same
        } else if (!meta) {
            n.action = Action::Metadata;
            addItem(PlanAction::Metadata, 'f', job, s, 0);
        } else {
            n.action = Action::None;
        }
        if (m_settings.xattrs && !fast)
            n.flags |= FlagCheckXattr;
        if (n.action == Action::None)
            ++m_plan.unchanged;
        return;
    }
    if (type == S_IFLNK) {
        if (snapshot || job.src.symlinkTarget(n) != job.dst.symlinkTarget(o)) {
            n.action = snapshot ? Action::Create : Action::Update;
            if (!snapshot)
                addItem(PlanAction::Update, 'l', job, s, 0);
            else if (job.src.symlinkTarget(n) != job.dst.symlinkTarget(o) || n.mtimeNs != o.mtimeNs)
                addItem(PlanAction::Update, 'l', job, s, 0);
            else
                ++m_plan.unchanged;
        } else if (n.mtimeNs != o.mtimeNs || (m_settings.compareOwners && (n.uid != o.uid || n.gid != o.gid))) {
            n.action = Action::Metadata;
            addItem(PlanAction::Metadata, 'l', job, s, 0);
        } else {
            ++m_plan.unchanged;
        }
        return;
    }
    // FIFO
    if (snapshot) {
        n.action = Action::Create;
        ++m_plan.unchanged;
    } else if (!sameMeta(n, o) || n.mtimeNs != o.mtimeNs) {
        n.action = Action::Metadata;
        addItem(PlanAction::Metadata, 'p', job, s, 0);
    } else {
        ++m_plan.unchanged;
    }
}

// Plans the children of source directory s against destination directory d (NoNode: none).
void Planner::planDir(Job &job, uint32_t s, uint32_t d, std::string &rel)
{
    Tree &S = job.src;
    Tree &D = job.dst;
    const bool snapshot = m_settings.mode == Mode::Snapshot;
    uint32_t i = S.nodes[s].firstChild;
    const uint32_t iEnd = i + S.nodes[s].childCount;
    uint32_t k = d == NoNode ? 0 : D.nodes[d].firstChild;
    const uint32_t kEnd = d == NoNode ? 0 : k + D.nodes[d].childCount;
    const bool protectDst = d == NoNode || (D.nodes[d].flags & FlagScanFailed)
        || (S.nodes[s].flags & FlagScanFailed);
    bool direct = false;  // an entry directly in this directory is created, replaced or deleted
    bool subtree = false; // anything below changes
    while (i < iEnd || k < kEnd) {
        int cmp;
        if (i >= iEnd)
            cmp = 1;
        else if (k >= kEnd)
            cmp = -1;
        else {
            const std::string_view a = S.name(S.nodes[i]), b = D.name(D.nodes[k]);
            cmp = a < b ? -1 : (b < a ? 1 : 0);
        }
        if (cmp > 0) {
            // Only in the destination.
            if (!snapshot && !protectDst) {
                const Node &o = D.nodes[k];
                const size_t keep = rel.size();
                if (!rel.empty())
                    rel += '/';
                rel += D.name(o);
                if (m_settings.excludes.empty() || !m_settings.excludes.excluded(rel, S_ISDIR(o.mode))) {
                    markDelete(job, k, rel);
                    direct = subtree = true;
                } else {
                    D.nodes[k].flags |= FlagKeep;
                }
                rel.resize(keep);
            }
            ++k;
            continue;
        }
        Node &n = S.nodes[i];
        if (cmp < 0) {
            planNew(job, i);
            direct = subtree = true;
            ++i;
            continue;
        }
        // Both sides have this name.
        const Node &o = D.nodes[k];
        const mode_t type = n.mode & S_IFMT;
        if (type != (o.mode & S_IFMT)) {
            if (!snapshot) {
                const size_t keep = rel.size();
                if (!rel.empty())
                    rel += '/';
                rel += D.name(o);
                markDelete(job, k, rel);
                rel.resize(keep);
            }
            planNew(job, i);
            direct = subtree = true;
        } else if (type == S_IFDIR) {
            n.match = k;
            n.destIno = o.destIno;
            n.destCtimeNs = o.destCtimeNs;
            const size_t keep = rel.size();
            if (!rel.empty())
                rel += '/';
            rel += S.name(n);
            planDir(job, i, k, rel);
            rel.resize(keep);
            if (snapshot) {
                n.action = Action::Create;
                ++m_plan.unchanged;
            } else {
                const bool fast = job.fromManifest && n.ctimeNs == o.ctimeNs && n.ino == o.ino;
                if (!sameMeta(n, o) || n.mtimeNs != o.mtimeNs) {
                    n.action = Action::Metadata;
                    n.flags |= FlagMetaDirty;
                    addItem(PlanAction::Metadata, 'd', job, i, 0);
                } else {
                    ++m_plan.unchanged;
                }
                if (m_settings.xattrs && !fast)
                    n.flags |= FlagCheckXattr;
            }
            if (n.flags & (FlagSubtreeDirty | FlagMetaDirty | FlagCheckXattr))
                subtree = true;
        } else {
            if (type == S_IFREG && n.nlink > 1)
                planHardLink(job, i, k);
            else
                planFile(job, i, k);
            if (n.action != Action::None || (n.flags & FlagCheckXattr))
                subtree = true;
            if (n.action == Action::Create || n.action == Action::Update || n.action == Action::Link
                || n.action == Action::Verify || n.action == Action::LinkPrev)
                direct = true;
        }
        ++i;
        ++k;
    }
    if (snapshot)
        direct = subtree = true;
    if (direct)
        S.nodes[s].flags |= FlagMetaDirty;
    if (subtree || direct)
        S.nodes[s].flags |= FlagSubtreeDirty;
}

} // namespace Coffer::Sync
