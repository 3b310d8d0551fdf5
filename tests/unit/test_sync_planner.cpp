// The sync engine's plan phase (core/sync/planner.h) on hand-built trees: what it decides for
// each entry, what it counts, what it deletes -- without a file system.

#include "sync/planner.h"

#include <QTest>

#include <sys/stat.h>

#include <algorithm>
#include <map>

using namespace Coffer::Sync;

namespace {

// One entry of a hand-built tree, by path ("a/b"; the root is implicit).
struct Entry
{
    std::string path;
    mode_t mode = S_IFREG | 0644;
    uint64_t size = 10;
    int64_t mtimeNs = 1000;
    uint64_t ino = 0;        // 0: a fresh one
    uint32_t nlink = 1;
    std::string target;      // symlinks
    uint32_t uid = 1000;
};

Entry aDir(std::string path, mode_t perms = 0755)
{
    Entry e;
    e.path = std::move(path);
    e.mode = S_IFDIR | perms;
    e.size = 0;
    return e;
}

Entry aFile(std::string path, uint64_t size = 10, int64_t mtimeNs = 1000)
{
    Entry e;
    e.path = std::move(path);
    e.size = size;
    e.mtimeNs = mtimeNs;
    return e;
}

Entry aLink(std::string path, std::string target)
{
    Entry e;
    e.path = std::move(path);
    e.mode = S_IFLNK | 0777;
    e.target = std::move(target);
    e.size = e.target.size();
    return e;
}

// Builds a tree the way the scanner does: a directory's children contiguous and sorted by name.
// Destination trees get destIno = ino, as a scanned destination has.
Tree build(const std::vector<Entry> &entries, bool destination)
{
    std::map<std::string, std::vector<const Entry *>> children; // parent path -> entries
    for (const Entry &e : entries) {
        const size_t slash = e.path.rfind('/');
        children[slash == std::string::npos ? std::string() : e.path.substr(0, slash)].push_back(&e);
    }
    for (auto &[parent, kids] : children)
        std::sort(kids.begin(), kids.end(), [](const Entry *a, const Entry *b) { return a->path < b->path; });
    Tree t;
    Node root;
    root.mode = S_IFDIR | 0755;
    root.mtimeNs = 1000;
    root.uid = 1000;
    root.ino = 1;
    root.destIno = destination ? 1 : 0;
    t.nodes.push(root);
    uint64_t nextIno = 100;
    std::vector<std::pair<uint32_t, std::string>> pending{{0, std::string()}};
    while (!pending.empty()) {
        const auto [index, path] = pending.front();
        pending.erase(pending.begin());
        const auto it = children.find(path);
        if (it == children.end())
            continue;
        t.nodes[index].firstChild = t.nodes.size();
        t.nodes[index].childCount = uint32_t(it->second.size());
        for (const Entry *e : it->second) {
            Node n;
            const std::string name = e->path.substr(path.empty() ? 0 : path.size() + 1);
            n.nameOff = t.names.add(name, e->target);
            n.nameLen = uint16_t(name.size());
            n.parent = index;
            n.mode = e->mode;
            n.size = e->size;
            n.mtimeNs = e->mtimeNs;
            n.ctimeNs = e->mtimeNs;
            n.ino = e->ino ? e->ino : nextIno++;
            n.destIno = destination ? n.ino : 0;
            n.nlink = e->nlink;
            n.uid = e->uid;
            n.gid = 100;
            const uint32_t at = t.nodes.push(n);
            if (S_ISDIR(e->mode))
                pending.emplace_back(at, e->path);
        }
    }
    return t;
}

Job makeJob(const std::vector<Entry> &source, const std::vector<Entry> *destination)
{
    Job job;
    job.source.name = "src";
    job.src = build(source, false);
    if (destination) {
        job.dst = build(*destination, true);
        job.haveDst = true;
    }
    return job;
}

uint32_t find(const Tree &t, const std::string &path)
{
    uint32_t at = 0;
    size_t start = 0;
    while (start <= path.size()) {
        const size_t slash = path.find('/', start);
        const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        at = t.child(at, part);
        if (at == NoNode || slash == std::string::npos)
            return at;
        start = slash + 1;
    }
    return at;
}

PlanSettings listing()
{
    PlanSettings s;
    s.listItems = true;
    s.xattrs = false;
    return s;
}

// "Add f src/a" for each item, to compare whole plans at once.
QStringList itemsOf(const Plan &plan)
{
    QStringList out;
    for (const PlanItem &i : plan.items) {
        static const char *names[] = {"Add", "Update", "Metadata", "Delete"};
        out << QStringLiteral("%1 %2 %3").arg(names[int(i.action)]).arg(QChar(i.type)).arg(QString::fromStdString(i.path));
    }
    return out;
}

} // namespace

class TestSyncPlanner : public QObject
{
    Q_OBJECT

private slots:
    void emptyDestinationAddsEverything()
    {
        Job job = makeJob({aDir("a"), aFile("a/x", 100), aLink("l", "a/x"), aFile("z", 5)}, nullptr);
        const PlanSettings settings = listing();
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(itemsOf(plan), QStringList({"Add d src/a", "Add f src/a/x", "Add l src/l", "Add f src/z"}));
        QCOMPARE(plan.added, uint64_t(4));
        QCOMPARE(plan.bytesToWrite, uint64_t(105));
        QCOMPARE(job.src.nodes[0].action, Action::Create);
        QCOMPARE(job.src.nodes[find(job.src, "a/x")].action, Action::Create);
        QVERIFY(job.manifestChanged);
    }

    void addUpdateAndUnchanged()
    {
        const std::vector<Entry> dst{aFile("same", 10), aFile("grown", 10), aFile("touched", 10, 1000)};
        Job job = makeJob({aFile("new", 7), aFile("same", 10), aFile("grown", 20), aFile("touched", 10, 2000)}, &dst);
        const PlanSettings settings = listing();
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(itemsOf(plan), QStringList({"Update f src/grown", "Add f src/new", "Update f src/touched"}));
        QCOMPARE(plan.added, uint64_t(1));
        QCOMPARE(plan.updated, uint64_t(2));
        QCOMPARE(plan.unchanged, uint64_t(1));
        QCOMPARE(plan.bytesToWrite, uint64_t(7 + 20 + 10));
        QCOMPARE(job.src.nodes[find(job.src, "same")].action, Action::None);
        QCOMPARE(job.src.nodes[find(job.src, "grown")].action, Action::Update);
        QVERIFY(job.src.nodes[0].flags & FlagSubtreeDirty);
    }

    // Same size and mtime, other permissions: only the metadata is set, nothing is copied.
    // Owners count only when running as root.
    void metadataOnly()
    {
        Entry mode = aFile("mode");
        mode.mode = S_IFREG | 0600;
        Entry owner = aFile("owner");
        owner.uid = 2000;
        const std::vector<Entry> dst{aFile("mode"), aFile("owner")};
        for (const bool root : {false, true}) {
            Job job = makeJob({mode, owner}, &dst);
            PlanSettings settings = listing();
            settings.compareOwners = root;
            Plan plan;
            Planner(settings, plan).plan(job);
            QCOMPARE(job.src.nodes[find(job.src, "mode")].action, Action::Metadata);
            QCOMPARE(job.src.nodes[find(job.src, "owner")].action, root ? Action::Metadata : Action::None);
            QCOMPARE(plan.metadataOnly, uint64_t(root ? 2 : 1));
            QCOMPARE(plan.bytesToWrite, uint64_t(0));
        }
    }

    void deleteWhatTheSourceNoLongerHas()
    {
        Entry linked = aFile("gone/linked", 50);
        linked.nlink = 2; // freeing it frees nothing while its other link stays
        const std::vector<Entry> dst{aFile("keep"), aFile("old", 30), aDir("gone"), aFile("gone/a", 20), linked};
        for (const bool list : {false, true}) {
            Job job = makeJob({aFile("keep")}, &dst);
            PlanSettings settings = listing();
            settings.listItems = list;
            Plan plan;
            Planner(settings, plan).plan(job);
            QVERIFY(job.dst.nodes[find(job.dst, "old")].flags & FlagDelete);
            QVERIFY(job.dst.nodes[find(job.dst, "gone")].flags & FlagDelete);
            QVERIFY(!(job.dst.nodes[find(job.dst, "keep")].flags & FlagDelete));
            QCOMPARE(plan.deleted, uint64_t(4)); // a directory counts with everything below it
            QCOMPARE(plan.bytesToDelete, uint64_t(30 + 20));
            if (list)
                QCOMPARE(itemsOf(plan), QStringList({"Delete f src/gone/a", "Delete f src/gone/linked",
                                                     "Delete d src/gone", "Delete f src/old"}));
            QVERIFY(job.src.nodes[0].flags & FlagMetaDirty); // entries of the root change
        }
    }

    // A source directory that could not be read completely: nothing in it is deleted.
    void unreadableSourceDeletesNothing()
    {
        const std::vector<Entry> dst{aDir("d"), aFile("d/x"), aFile("d/y")};
        Job job = makeJob({aDir("d"), aFile("d/x")}, &dst);
        job.src.nodes[find(job.src, "d")].flags |= FlagScanFailed;
        const PlanSettings settings = listing();
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(plan.deleted, uint64_t(0));
        QVERIFY(!(job.dst.nodes[find(job.dst, "d/y")].flags & FlagDelete));
    }

    // Excluded destination entries stay (rsync without --delete-excluded).
    void excludedEntriesAreKept()
    {
        const std::vector<Entry> dst{aFile("a.tmp"), aDir("cache"), aFile("cache/c"), aFile("b")};
        Job job = makeJob({}, &dst);
        PlanSettings settings = listing();
        settings.excludes = ExcludeRules({"*.tmp", "cache/"});
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(itemsOf(plan), QStringList({"Delete f src/b"}));
        QVERIFY(job.dst.nodes[find(job.dst, "a.tmp")].flags & FlagKeep);
        QVERIFY(job.dst.nodes[find(job.dst, "cache")].flags & FlagKeep);
    }

    // The same name with another type: the old entry goes, the new one is made.
    void typeChanges()
    {
        const std::vector<Entry> dst{aDir("was-dir"), aFile("was-dir/inner"), aFile("was-file"), aLink("was-link", "t")};
        Job job = makeJob({aFile("was-dir"), aDir("was-file"), aFile("was-file/x"), aFile("was-link")}, &dst);
        const PlanSettings settings = listing();
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(itemsOf(plan), QStringList({"Delete f src/was-dir/inner", "Delete d src/was-dir",
                                             "Add f src/was-dir", "Delete f src/was-file",
                                             "Add d src/was-file", "Add f src/was-file/x",
                                             "Delete l src/was-link", "Add f src/was-link"}));
        QCOMPARE(job.src.nodes[find(job.src, "was-file")].action, Action::Create);
        QVERIFY(job.dst.nodes[find(job.dst, "was-dir")].flags & FlagDelete);
    }

    void symlinkTargetAndMtime()
    {
        Entry moved = aLink("moved", "new-target");
        Entry touched = aLink("touched", "t");
        touched.mtimeNs = 5000;
        const std::vector<Entry> dst{aLink("moved", "old-target"), aLink("touched", "t"), aLink("same", "t")};
        Job job = makeJob({moved, touched, aLink("same", "t")}, &dst);
        const PlanSettings settings = listing();
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(itemsOf(plan), QStringList({"Update l src/moved", "Metadata l src/touched"}));
        QCOMPARE(plan.unchanged, uint64_t(1));
    }

    // Members of a hard-link group: the first in walk order is copied, the others link to it;
    // when the destination already has the group linked, nothing changes.
    void hardLinks()
    {
        Entry a = aFile("a", 40), b = aFile("b", 40);
        a.ino = b.ino = 7;
        a.nlink = b.nlink = 2;
        {
            Job job = makeJob({a, b}, nullptr);
            const PlanSettings settings = listing();
            Plan plan;
            Planner(settings, plan).plan(job);
            QCOMPARE(itemsOf(plan), QStringList({"Add f src/a", "Add h src/b"}));
            QCOMPARE(job.src.nodes[find(job.src, "b")].action, Action::Link);
            QCOMPARE(plan.bytesToWrite, uint64_t(40)); // once
        }
        {
            Entry da = a, db = b;
            da.ino = db.ino = 70; // the destination's own inode, shared
            const std::vector<Entry> dst{da, db};
            Job job = makeJob({a, b}, &dst);
            const PlanSettings settings = listing();
            Plan plan;
            Planner(settings, plan).plan(job);
            QVERIFY(plan.items.empty());
            QCOMPARE(job.src.nodes[find(job.src, "b")].action, Action::None);
        }
        {
            Entry da = a, db = b;
            da.ino = 70;
            db.ino = 71; // copies, not links: the second becomes a link again
            const std::vector<Entry> dst{da, db};
            Job job = makeJob({a, b}, &dst);
            const PlanSettings settings = listing();
            Plan plan;
            Planner(settings, plan).plan(job);
            QCOMPARE(itemsOf(plan), QStringList({"Update h src/b"}));
        }
    }

    // Snapshot mode: unchanged files are linked to the previous snapshot (no item), changed ones
    // are written anew; nothing is ever deleted.
    void snapshotMode()
    {
        const std::vector<Entry> prev{aFile("same"), aFile("changed", 10), aFile("dropped")};
        Job job = makeJob({aFile("same"), aFile("changed", 11)}, &prev);
        PlanSettings settings = listing();
        settings.mode = Mode::Snapshot;
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(itemsOf(plan), QStringList({"Update f src/changed"}));
        QCOMPARE(job.src.nodes[find(job.src, "same")].action, Action::LinkPrev);
        QCOMPARE(job.src.nodes[find(job.src, "changed")].action, Action::Create);
        QCOMPARE(job.src.nodes[0].action, Action::Create);
        QCOMPARE(plan.deleted, uint64_t(0));
        QVERIFY(!(job.dst.nodes[find(job.dst, "dropped")].flags & FlagDelete));
    }

    // --checksum: what the quick check calls unchanged is verified by content.
    void checksumVerifies()
    {
        const std::vector<Entry> dst{aFile("f")};
        Job job = makeJob({aFile("f")}, &dst);
        PlanSettings settings = listing();
        settings.checksum = true;
        Plan plan;
        Planner(settings, plan).plan(job);
        QCOMPARE(job.src.nodes[find(job.src, "f")].action, Action::Verify);
        QVERIFY(plan.items.empty());
    }

    // From a trusted manifest, an entry whose inode and ctime are what the last run saw needs no
    // xattr check, and a run that changes nothing leaves the manifest as it is.
    void manifestFastPath()
    {
        const std::vector<Entry> dst{aDir("d"), aFile("d/f")};
        for (const bool fromManifest : {true, false}) {
            Job job = makeJob({aDir("d"), aFile("d/f")}, &dst);
            job.dst.nodes[find(job.dst, "d/f")].ino = job.src.nodes[find(job.src, "d/f")].ino;
            job.dst.nodes[find(job.dst, "d")].ino = job.src.nodes[find(job.src, "d")].ino;
            job.fromManifest = fromManifest;
            PlanSettings settings = listing();
            settings.xattrs = true;
            Plan plan;
            Planner(settings, plan).plan(job);
            QVERIFY(plan.items.empty());
            const bool checks = job.src.nodes[find(job.src, "d/f")].flags & FlagCheckXattr;
            QCOMPARE(checks, !fromManifest);
            QCOMPARE(job.manifestChanged, !fromManifest);
        }
        // An unflushed manifest is rewritten by a durable run, even with nothing to do.
        Job job = makeJob({aDir("d"), aFile("d/f")}, &dst);
        job.dst.nodes[find(job.dst, "d/f")].ino = job.src.nodes[find(job.src, "d/f")].ino;
        job.dst.nodes[find(job.dst, "d")].ino = job.src.nodes[find(job.src, "d")].ino;
        job.fromManifest = job.manifestUnflushed = true;
        PlanSettings settings = listing();
        Plan plan;
        Planner(settings, plan).plan(job);
        QVERIFY(job.manifestChanged);
    }
};

QTEST_GUILESS_MAIN(TestSyncPlanner)
#include "test_sync_planner.moc"
