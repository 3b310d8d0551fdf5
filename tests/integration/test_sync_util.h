#pragma once

// Shared by the sync integration tests: a seeded generator of hostile trees and their mutations,
// a tree comparison (type, content, mode, owner, mtime ns, symlink target, hard-link groups,
// user.* xattrs), and small helpers to run rsync and make scratch directories.

#include "sync/syncengine.h"

#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace SyncTest {

inline std::string readFile(const std::string &path)
{
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return "<unreadable>";
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        out.append(buf, size_t(n));
    ::close(fd);
    return out;
}

inline void writeFile(const std::string &path, const std::string &data)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < data.size()) {
        const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
        if (w <= 0)
            break;
        off += size_t(w);
    }
    ::close(fd);
}

inline std::vector<std::string> listDir(const std::string &path)
{
    std::vector<std::string> out;
    DIR *d = ::opendir(path.c_str());
    if (!d)
        return out;
    while (struct dirent *e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
            out.emplace_back(e->d_name);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

inline void removeAll(const std::string &path)
{
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        ::chmod(path.c_str(), 0700);
        for (const std::string &n : listDir(path))
            removeAll(path + "/" + n);
        ::rmdir(path.c_str());
    } else {
        ::unlink(path.c_str());
    }
}

inline std::map<std::string, std::string> userXattrs(const std::string &path)
{
    std::map<std::string, std::string> out;
    char list[65536];
    const ssize_t len = ::llistxattr(path.c_str(), list, sizeof list);
    for (ssize_t pos = 0; len > 0 && pos < len;) {
        const std::string name(list + pos);
        pos += ssize_t(name.size()) + 1;
        if (name.rfind("user.", 0) != 0)
            continue;
        char value[65536];
        const ssize_t v = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
        if (v >= 0)
            out[name] = std::string(value, size_t(v));
    }
    return out;
}

inline std::string show(const std::string &s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out;
}

struct CompareOptions
{
    bool owners = true;
    bool xattrs = true;
    bool dirMtimes = true;
    bool rootMeta = true;     // compare the roots' own mode and mtime
    std::set<std::string> ignoreTop; // names at the top to skip (e.g. ".coffer")
};

// Returns human-readable differences (empty if equal). Paths are relative to the roots.
inline std::vector<std::string> compareTrees(const std::string &a, const std::string &b,
                                             const CompareOptions &opt = {}, size_t maxDiffs = 20)
{
    std::vector<std::string> diffs;
    // Hard-link groups: path -> first path (in walk order) with the same inode.
    std::map<std::pair<dev_t, ino_t>, std::string> groupA, groupB;
    std::map<std::string, std::string> leaderA, leaderB;
    std::vector<std::string> stack{""};
    auto note = [&](const std::string &rel, const std::string &what) {
        if (diffs.size() < maxDiffs)
            diffs.push_back(show(rel.empty() ? "." : rel) + ": " + what);
    };
    while (!stack.empty()) {
        const std::string rel = stack.back();
        stack.pop_back();
        const std::string pa = a + (rel.empty() ? "" : "/" + rel), pb = b + (rel.empty() ? "" : "/" + rel);
        struct stat sa, sb;
        const bool ha = ::lstat(pa.c_str(), &sa) == 0, hb = ::lstat(pb.c_str(), &sb) == 0;
        if (!ha || !hb) {
            note(rel, ha ? "missing on the right" : "missing on the left");
            continue;
        }
        if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
            note(rel, "type differs");
            continue;
        }
        const bool isRoot = rel.empty();
        if ((!isRoot || opt.rootMeta) && !S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777))
            note(rel, "mode " + std::to_string(sa.st_mode & 07777) + " vs " + std::to_string(sb.st_mode & 07777));
        if (opt.owners && (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid))
            note(rel, "owner differs");
        const bool checkTime = S_ISDIR(sa.st_mode) ? (opt.dirMtimes && (!isRoot || opt.rootMeta)) : true;
        if (checkTime && (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec))
            note(rel, "mtime " + std::to_string(sa.st_mtim.tv_sec) + "." + std::to_string(sa.st_mtim.tv_nsec)
                 + " vs " + std::to_string(sb.st_mtim.tv_sec) + "." + std::to_string(sb.st_mtim.tv_nsec));
        if (opt.xattrs && !S_ISLNK(sa.st_mode) && !S_ISFIFO(sa.st_mode) && userXattrs(pa) != userXattrs(pb))
            note(rel, "xattrs differ");
        if (S_ISLNK(sa.st_mode)) {
            char ta[4096], tb[4096];
            const ssize_t la = ::readlink(pa.c_str(), ta, sizeof ta), lb = ::readlink(pb.c_str(), tb, sizeof tb);
            if (la < 0 || lb < 0 || std::string(ta, size_t(la)) != std::string(tb, size_t(lb)))
                note(rel, "symlink target differs");
        } else if (S_ISREG(sa.st_mode)) {
            if (sa.st_size != sb.st_size || readFile(pa) != readFile(pb))
                note(rel, "content differs");
            auto la = groupA.try_emplace({sa.st_dev, sa.st_ino}, rel).first->second;
            auto lb = groupB.try_emplace({sb.st_dev, sb.st_ino}, rel).first->second;
            if (la != lb)
                note(rel, "hard-link group differs (" + show(la) + " vs " + show(lb) + ")");
        } else if (S_ISDIR(sa.st_mode)) {
            std::vector<std::string> na = listDir(pa), nb = listDir(pb);
            if (isRoot && !opt.ignoreTop.empty()) {
                auto drop = [&](std::vector<std::string> &v) {
                    v.erase(std::remove_if(v.begin(), v.end(), [&](const std::string &n) { return opt.ignoreTop.count(n) > 0; }), v.end());
                };
                drop(na);
                drop(nb);
            }
            std::set<std::string> all(na.begin(), na.end());
            all.insert(nb.begin(), nb.end());
            // Reverse so that the stack pops in sorted order (hard-link leaders agree).
            for (auto it = all.rbegin(); it != all.rend(); ++it)
                stack.push_back(rel.empty() ? *it : rel + "/" + *it);
        }
    }
    return diffs;
}

inline std::string joinDiffs(const std::vector<std::string> &d)
{
    std::string out;
    for (const std::string &s : d)
        out += "\n  " + s;
    return out;
}

inline int runRsync(const std::string &src, const std::string &dst, const QStringList &extra = {})
{
    QProcess p;
    // --modify-window=-1: compare mtimes to the nanosecond. rsync's default compares whole
    // seconds, so it leaves a file touched within the same second (and a directory's mtime after
    // its contents changed) stale; our engine compares nanoseconds.
    QStringList args{"-aHX", "--delete", "--modify-window=-1"};
    args += extra;
    args << QString::fromLocal8Bit(src + "/") << QString::fromLocal8Bit(dst + "/");
    p.start("rsync", args);
    p.waitForFinished(300000);
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}

// A seeded generator of hostile trees.
class TreeGen
{
public:
    TreeGen(std::string root, uint64_t seed) : m_root(std::move(root)), m_rng(seed) {}

    uint64_t rnd(uint64_t n) { return n ? m_rng() % n : 0; }
    bool chance(int percent) { return int(rnd(100)) < percent; }

    std::string name()
    {
        const std::string id = std::to_string(++m_counter);
        switch (rnd(12)) {
        case 0: return "with space " + id;
        case 1: return "new\nline" + id;
        case 2: return "-" + id;
        case 3: return "--" + id + "=x";
        case 4: return "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac " + id; // UTF-8
        case 5: return "bad\xff\xfe" + id;                                 // invalid UTF-8
        case 6: { std::string n = "L" + id + "_"; n.resize(255, 'x'); return n; }
        case 7: return ".hidden" + id;
        case 8: return "*?[glob]" + id;
        default: return "f" + id;
        }
    }

    std::string content()
    {
        switch (rnd(6)) {
        case 0: return {};
        case 1: return std::string(1 + rnd(4096), char('a' + rnd(26)));
        case 2: { std::string s(rnd(200000), '\0'); for (char &c : s) c = char(m_rng()); return s; }
        default: { std::string s(rnd(3000), '\0'); for (char &c : s) c = char('!' + rnd(90)); return s; }
        }
    }

    struct timespec randomTime()
    {
        struct timespec ts;
        ts.tv_sec = time_t(1500000000 + rnd(200000000));
        ts.tv_nsec = long(rnd(1000000000));
        return ts;
    }

    void setTime(const std::string &path)
    {
        const struct timespec t[2] = {randomTime(), randomTime()};
        ::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW);
    }

    void setMeta(const std::string &path, bool dir)
    {
        static const mode_t fileModes[] = {0644, 0600, 0755, 0444, 0640, 04755, 0700, 0000};
        static const mode_t dirModes[] = {0755, 0700, 0555, 0750, 01777, 02755};
        ::chmod(path.c_str(), dir ? dirModes[rnd(6)] : fileModes[rnd(8)]);
        if (::geteuid() == 0 && chance(30))
            ::lchown(path.c_str(), uid_t(1000 + rnd(3)), gid_t(1000 + rnd(3)));
        if (chance(15))
            ::lsetxattr(path.c_str(), ("user.k" + std::to_string(rnd(3))).c_str(),
                        std::to_string(rnd(1000)).c_str(), 3, 0);
    }

    void makeFile(const std::string &path)
    {
        if (chance(8)) {
            // Sparse: holes around a little data.
            int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const off_t size = off_t(1 + rnd(8)) << 20;
            if (::ftruncate(fd, size)) {}
            const std::string data = "data" + std::to_string(rnd(1000));
            if (::pwrite(fd, data.data(), data.size(), off_t(rnd(uint64_t(size) - 16)))) {}
            ::close(fd);
        } else {
            writeFile(path, content());
        }
        setMeta(path, false);
    }

    void makeSymlink(const std::string &dir, const std::string &n)
    {
        std::string target;
        switch (rnd(5)) {
        case 0: target = "/etc/hostname"; break;
        case 1: target = "../" + name(); break;
        case 2: target = "does-not-exist/" + name(); break;
        case 3: target = n; break; // loops to itself
        default: target = m_files.empty() ? "x" : m_files[rnd(m_files.size())]; break;
        }
        if (::symlink(target.c_str(), (dir + "/" + n).c_str()) == 0 && ::geteuid() == 0 && chance(20))
            ::lchown((dir + "/" + n).c_str(), uid_t(1000 + rnd(3)), gid_t(1000 + rnd(3)));
    }

    // Rebuilds the lists of what is in the tree.
    void rescan()
    {
        m_files.clear();
        m_dirs.clear();
        m_others.clear();
        std::vector<std::string> stack{""};
        while (!stack.empty()) {
            const std::string rel = stack.back();
            stack.pop_back();
            m_dirs.push_back(rel);
            for (const std::string &n : listDir(m_root + (rel.empty() ? "" : "/" + rel))) {
                const std::string r = rel.empty() ? n : rel + "/" + n;
                struct stat st;
                if (::lstat((m_root + "/" + r).c_str(), &st) != 0)
                    continue;
                if (S_ISDIR(st.st_mode))
                    stack.push_back(r);
                else if (S_ISREG(st.st_mode))
                    m_files.push_back(r);
                else
                    m_others.push_back(r);
            }
        }
    }

    std::string abs(const std::string &rel) const { return rel.empty() ? m_root : m_root + "/" + rel; }
    std::string randomDir() { return m_dirs[rnd(m_dirs.size())]; }
    std::string child(const std::string &dir, const std::string &n) { return dir.empty() ? n : dir + "/" + n; }

    void generate(int entries)
    {
        ::mkdir(m_root.c_str(), 0755);
        m_dirs = {""};
        // A deep chain (about 2000 bytes of path).
        std::string deep;
        for (int i = 0; i < 24; ++i) {
            deep = child(deep, "deep" + std::to_string(i) + std::string(70, 'd'));
            ::mkdir(abs(deep).c_str(), 0755);
        }
        writeFile(abs(child(deep, "bottom")), "the bottom");
        m_dirs.push_back(deep);
        for (int i = 0; i < entries; ++i) {
            const std::string dir = randomDir();
            const std::string n = name();
            const std::string p = child(dir, n);
            const uint64_t kind = rnd(100);
            if (kind < 15) {
                ::mkdir(abs(p).c_str(), 0755);
                m_dirs.push_back(p);
            } else if (kind < 70) {
                makeFile(abs(p));
                m_files.push_back(p);
            } else if (kind < 82) {
                makeSymlink(abs(dir), n);
            } else if (kind < 94 && !m_files.empty()) {
                if (::link(abs(m_files[rnd(m_files.size())]).c_str(), abs(p).c_str()) == 0)
                    m_files.push_back(p);
            } else if (kind < 97) {
                ::mkfifo(abs(p).c_str(), 0644);
            } else {
                writeFile(abs(p), "");
            }
        }
        finish();
    }

    // Gives every entry a random mtime, directories last (deepest first) so they keep theirs,
    // and random modes to directories (after their contents exist).
    void finish()
    {
        rescan();
        for (const std::string &f : m_files)
            setTime(abs(f));
        for (const std::string &o : m_others)
            setTime(abs(o));
        std::vector<std::string> dirs = m_dirs;
        std::sort(dirs.begin(), dirs.end(), [](const std::string &x, const std::string &y) {
            return std::count(x.begin(), x.end(), '/') > std::count(y.begin(), y.end(), '/');
        });
        for (const std::string &d : dirs) {
            if (!d.empty() && chance(30))
                setMeta(abs(d), true);
            setTime(abs(d));
        }
    }

    void mutate(int count)
    {
        rescan();
        for (int i = 0; i < count; ++i) {
            rescanIfNeeded();
            const uint64_t what = rnd(14);
            if (m_files.empty())
                break;
            const std::string f = m_files[rnd(m_files.size())];
            const std::string pf = abs(f);
            switch (what) {
            case 0: { // edit in place, new mtime
                int fd = ::open(pf.c_str(), O_WRONLY);
                if (fd >= 0) {
                    const std::string d = "edit" + std::to_string(rnd(100000));
                    struct stat st;
                    ::fstat(fd, &st);
                    if (::pwrite(fd, d.data(), d.size(), off_t(rnd(uint64_t(st.st_size) + 1)))) {}
                    ::close(fd);
                }
                setTime(pf);
                break;
            }
            case 1: // truncate
                if (::truncate(pf.c_str(), off_t(rnd(100)))) {}
                setTime(pf);
                break;
            case 2: setTime(pf); break; // touch only
            case 3: ::chmod(pf.c_str(), 0600 + mode_t(rnd(0200))); break;
            case 4: { // rename, maybe to another directory
                const std::string to = child(randomDir(), name());
                ::rename(pf.c_str(), abs(to).c_str());
                m_dirty = true;
                break;
            }
            case 5: ::unlink(pf.c_str()); m_dirty = true; break;
            case 6: { // file -> directory
                ::unlink(pf.c_str());
                ::mkdir(pf.c_str(), 0755);
                writeFile(pf + "/inside", "was a file");
                m_dirty = true;
                break;
            }
            case 7: { // file -> symlink
                ::unlink(pf.c_str());
                if (::symlink("somewhere/else", pf.c_str())) {}
                m_dirty = true;
                break;
            }
            case 8: { // symlink or fifo -> file, or directory -> file
                if (!m_others.empty() && chance(50)) {
                    const std::string o = abs(m_others[rnd(m_others.size())]);
                    ::unlink(o.c_str());
                    makeFile(o);
                } else if (m_dirs.size() > 2) {
                    const std::string d = m_dirs[1 + rnd(m_dirs.size() - 1)];
                    if (d.find("deep") == std::string::npos) {
                        removeAll(abs(d));
                        makeFile(abs(d));
                    }
                }
                m_dirty = true;
                break;
            }
            case 9: { // split a hard link (new inode, same content, new mtime)
                struct stat st;
                if (::lstat(pf.c_str(), &st) == 0 && st.st_nlink > 1) {
                    const std::string data = readFile(pf);
                    writeFile(pf + ".split", data);
                    ::rename((pf + ".split").c_str(), pf.c_str());
                    setTime(pf);
                }
                m_dirty = true;
                break;
            }
            case 10: { // join two files
                const std::string g = m_files[rnd(m_files.size())];
                if (g != f) {
                    ::unlink(abs(g).c_str());
                    if (::link(pf.c_str(), abs(g).c_str())) {}
                }
                m_dirty = true;
                break;
            }
            case 11: ::lsetxattr(pf.c_str(), "user.mut", "v", 1 + rnd(1), 0); break;
            case 12: ::lchown(pf.c_str(), uid_t(1000 + rnd(3)), gid_t(1000 + rnd(3))); break;
            default: { // a new file or directory
                const std::string p = child(randomDir(), name());
                if (chance(30)) {
                    ::mkdir(abs(p).c_str(), 0755);
                    makeFile(abs(p) + "/" + name());
                } else {
                    makeFile(abs(p));
                }
                m_dirty = true;
            }
            }
        }
    }

private:
    void rescanIfNeeded()
    {
        if (m_dirty) {
            rescan();
            m_dirty = false;
        }
    }

    std::string m_root;
    std::mt19937_64 m_rng;
    uint64_t m_counter = 0;
    bool m_dirty = false;
    std::vector<std::string> m_files, m_dirs, m_others;
};

inline Coffer::Sync::Options mirrorOptions(const std::string &src, const std::string &dest,
                                           const std::string &name = "src")
{
    Coffer::Sync::Options o;
    o.sources.push_back({src, name});
    o.destination = dest;
    o.progressIntervalMs = 0;
    return o;
}

} // namespace SyncTest
