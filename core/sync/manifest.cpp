#include "sync/tree.h"

#include "block/uniquefd.h"
#include "error.h"
#include "sync/fsops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

// Manifest file format (version 1), little-endian varints throughout:
//   "CFRSYNC\n" magic, varint version
//   header: string sourceName, string snapshot, u64 optionsHash, rootDev, rootIno, node count
//   nodes in table order: string name, mode, uid, gid, size, mtime (zigzag), ctime (zigzag), ino,
//     destIno, nlink, then directories: childCount, destCtime (zigzag); symlinks: target bytes
//   trailer: 8 bytes FNV-1a 64 of everything before it.
// The children of each directory are stored contiguously in the order of a depth-first walk of
// directories, so the layout is rebuilt from child counts alone.

namespace Coffer::Sync {

uint64_t fnv1a(const void *data, size_t len, uint64_t hash)
{
    const auto *p = static_cast<const unsigned char *>(data);
    // Eight bytes at a time would be faster; the manifest is hashed once per run.
    for (size_t i = 0; i < len; ++i) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

std::string currentBootId()
{
    UniqueFd fd(::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
    char buf[64];
    const ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
    if (n <= 0)
        return {};
    std::string id(buf, size_t(n));
    while (!id.empty() && (id.back() == '\n' || id.back() == ' '))
        id.pop_back();
    return id;
}

std::string Tree::path(uint32_t index) const
{
    if (index == 0 || index == NoNode)
        return {};
    std::vector<uint32_t> chain;
    for (uint32_t i = index; i != 0 && i != NoNode; i = nodes[i].parent)
        chain.push_back(i);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if (!out.empty())
            out += '/';
        out += name(nodes[*it]);
    }
    return out;
}

uint32_t Tree::child(uint32_t dir, std::string_view wanted) const
{
    const Node &d = nodes[dir];
    uint32_t lo = d.firstChild, hi = d.firstChild + d.childCount;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        const std::string_view n = name(nodes[mid]);
        if (n < wanted)
            lo = mid + 1;
        else if (wanted < n)
            hi = mid;
        else
            return mid;
    }
    return NoNode;
}

namespace {

constexpr char Magic[8] = {'C', 'F', 'R', 'S', 'Y', 'N', 'C', '\n'};
constexpr uint64_t Version = 1;

class Writer
{
public:
    explicit Writer(int fd) : m_fd(fd) { m_buf.reserve(1 << 20); }
    void raw(const void *p, size_t n)
    {
        m_buf.append(static_cast<const char *>(p), n);
        if (m_buf.size() >= (1 << 20))
            flush();
    }
    void varint(uint64_t v)
    {
        char tmp[10];
        size_t n = 0;
        while (v >= 0x80) {
            tmp[n++] = char((v & 0x7f) | 0x80);
            v >>= 7;
        }
        tmp[n++] = char(v);
        raw(tmp, n);
    }
    void svarint(int64_t v) { varint((uint64_t(v) << 1) ^ uint64_t(v >> 63)); }
    void str(std::string_view s)
    {
        varint(s.size());
        raw(s.data(), s.size());
    }
    void flush()
    {
        m_hash = fnv1a(m_buf.data(), m_buf.size(), m_hash);
        writeAll(m_buf.data(), m_buf.size());
        m_buf.clear();
    }
    void finish()
    {
        flush();
        const uint64_t h = m_hash;
        char tail[8];
        for (int i = 0; i < 8; ++i)
            tail[i] = char(h >> (8 * i));
        writeAll(tail, 8);
    }

private:
    void writeAll(const char *p, size_t n)
    {
        while (n > 0) {
            const ssize_t w = ::write(m_fd, p, n);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                throw Error::fromErrno(errno, "Cannot write the sync manifest");
            }
            p += w;
            n -= size_t(w);
        }
    }
    int m_fd;
    std::string m_buf;
    uint64_t m_hash = 0xcbf29ce484222325ull;
};

// Reads the manifest through a 1 MiB window (the whole file is never in memory at once: the
// tree it becomes is what counts against design.md's bytes per file), hashing the body as it goes.
class Reader
{
public:
    Reader(int fd, uint64_t bodyLen) : m_fd(fd), m_bodyLeft(bodyLen), m_buf(new char[BufSize]) {}
    bool ok() const { return m_ok; }
    uint64_t hash() const { return m_hash; }
    uint64_t varint()
    {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!ensure(1)) {
                m_ok = false;
                return 0;
            }
            const auto b = static_cast<unsigned char>(m_buf[m_pos++]);
            v |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        m_ok = false;
        return 0;
    }
    int64_t svarint()
    {
        const uint64_t v = varint();
        return int64_t(v >> 1) ^ -int64_t(v & 1);
    }
    // Valid until the next call.
    std::string_view bytes(uint64_t n)
    {
        if (n > 65536 || !ensure(size_t(n))) {
            m_ok = false;
            return {};
        }
        std::string_view s(m_buf.get() + m_pos, size_t(n));
        m_pos += size_t(n);
        return s;
    }
    std::string_view str() { return bytes(varint()); }
    bool atEnd() const { return m_pos == m_len && m_bodyLeft == 0; }

private:
    static constexpr size_t BufSize = 1 << 20;
    bool ensure(size_t n)
    {
        if (m_len - m_pos >= n)
            return true;
        std::memmove(m_buf.get(), m_buf.get() + m_pos, m_len - m_pos);
        m_len -= m_pos;
        m_pos = 0;
        while (m_len < n && m_bodyLeft > 0) {
            const size_t want = size_t(std::min<uint64_t>(BufSize - m_len, m_bodyLeft));
            const ssize_t r = ::read(m_fd, m_buf.get() + m_len, want);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return false;
            m_hash = fnv1a(m_buf.get() + m_len, size_t(r), m_hash);
            m_len += size_t(r);
            m_bodyLeft -= uint64_t(r);
        }
        return m_len >= n;
    }
    int m_fd;
    uint64_t m_bodyLeft;
    std::unique_ptr<char[]> m_buf;
    size_t m_pos = 0, m_len = 0;
    uint64_t m_hash = 0xcbf29ce484222325ull;
    bool m_ok = true;
};

// Children blocks follow the depth-first order of directories.
void writeDir(Writer &w, const Tree &tree, uint32_t dir)
{
    const Node &d = tree.nodes[dir];
    for (uint32_t i = d.firstChild; i < d.firstChild + d.childCount; ++i) {
        const Node &n = tree.nodes[i];
        w.str(tree.name(n));
        w.varint(n.mode);
        w.varint(n.uid);
        w.varint(n.gid);
        w.varint(n.size);
        w.svarint(n.mtimeNs);
        w.svarint(n.ctimeNs);
        w.varint(n.ino);
        w.varint(n.destIno);
        w.varint(n.nlink);
        if (S_ISDIR(n.mode)) {
            w.varint(n.childCount);
            w.svarint(n.destCtimeNs);
        } else if (S_ISLNK(n.mode)) {
            w.raw(tree.symlinkTarget(n).data(), n.size);
        }
    }
    for (uint32_t i = d.firstChild; i < d.firstChild + d.childCount; ++i)
        if (S_ISDIR(tree.nodes[i].mode))
            writeDir(w, tree, i);
}

} // namespace

void writeManifest(int dirFd, const std::string &fileName, const ManifestHeader &header,
                   const Tree &tree)
{
    const std::string tmpName = fileName + ".tmp";
    ::unlinkat(dirFd, tmpName.c_str(), 0);
    UniqueFd fd(::openat(dirFd, tmpName.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot create the sync manifest");
    Writer w(fd.get());
    w.raw(Magic, sizeof Magic);
    w.varint(Version);
    w.str(header.sourceName);
    w.str(header.snapshot);
    w.varint(header.optionsHash);
    w.varint(header.rootDev);
    w.varint(header.rootIno);
    w.str(header.unflushedBootId);
    w.varint(tree.nodes.size());
    const Node &root = tree.nodes[0];
    w.varint(root.mode);
    w.varint(root.uid);
    w.varint(root.gid);
    w.svarint(root.mtimeNs);
    w.svarint(root.ctimeNs);
    w.varint(root.ino);
    w.varint(root.childCount);
    w.svarint(root.destCtimeNs);
    writeDir(w, tree, 0);
    w.finish();
    // A flushed run's manifest is written after the data's syncfs; make it durable too.
    if (header.unflushedBootId.empty() && ::fdatasync(fd.get()) != 0)
        throw Error::fromErrno(errno, "Cannot flush the sync manifest");
    fd.reset();
    if (::renameat(dirFd, tmpName.c_str(), dirFd, fileName.c_str()) != 0)
        throw Error::fromErrno(errno, "Cannot install the sync manifest");
}

namespace {

bool readInto(int dirFd, const std::string &fileName, ManifestHeader &header, Tree &tree)
{
    UniqueFd fd(::openat(dirFd, fileName.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
        return false;
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 16
        || st.st_size > (off_t(1) << 34))
        return false;
    const uint64_t bodyLen = uint64_t(st.st_size) - 8;
    Reader r(fd.get(), bodyLen);
    const std::string_view magic = r.bytes(sizeof Magic);
    if (magic != std::string_view(Magic, sizeof Magic))
        return false;
    if (r.varint() != Version)
        return false;
    header.sourceName = std::string(r.str());
    header.snapshot = std::string(r.str());
    header.optionsHash = r.varint();
    header.rootDev = r.varint();
    header.rootIno = r.varint();
    header.unflushedBootId = std::string(r.str());
    const uint64_t count = r.varint();
    if (!r.ok() || count == 0 || count > bodyLen || count >= NoNode)
        return false;
    Node root;
    root.mode = uint32_t(r.varint());
    root.uid = uint32_t(r.varint());
    root.gid = uint32_t(r.varint());
    root.mtimeNs = r.svarint();
    root.ctimeNs = r.svarint();
    root.ino = r.varint();
    root.childCount = uint32_t(r.varint());
    root.destCtimeNs = r.svarint();
    root.parent = NoNode;
    if (!S_ISDIR(root.mode))
        return false;
    tree.nodes.push(root);
    // Replay the depth-first walk: a stack of directories whose children are still to be read.
    std::vector<uint32_t> stack{0};
    std::vector<uint32_t> pendingDirs;
    while (!stack.empty()) {
        const uint32_t dir = stack.back();
        stack.pop_back();
        Node &d = tree.nodes[dir];
        d.firstChild = tree.nodes.size();
        const uint32_t n = d.childCount;
        if (uint64_t(d.firstChild) + n > count)
            return false;
        pendingDirs.clear();
        std::string prev, name; // copies: the reader's window moves on
        for (uint32_t k = 0; k < n; ++k) {
            Node c;
            name = r.str();
            c.mode = uint32_t(r.varint());
            c.uid = uint32_t(r.varint());
            c.gid = uint32_t(r.varint());
            c.size = r.varint();
            c.mtimeNs = r.svarint();
            c.ctimeNs = r.svarint();
            c.ino = r.varint();
            c.destIno = r.varint();
            c.nlink = uint32_t(r.varint());
            c.parent = dir;
            // The manifest lives in the destination, which may be someone else's file: a name
            // that is not one plain entry name ("../x", "a/b", "..") would make the engine
            // write or delete outside the directory the entry is in.
            if (!r.ok() || !isEntryName(name) || (k > 0 && !(prev < name)))
                return false;
            prev = name;
            if (S_ISDIR(c.mode)) {
                c.childCount = uint32_t(r.varint());
                c.destCtimeNs = r.svarint();
            } else if (S_ISLNK(c.mode)) {
                if (c.size > 4096)
                    return false;
                const std::string_view target = r.bytes(c.size);
                c.nameLen = uint16_t(name.size());
                c.nameOff = tree.names.add(name, target);
            }
            if (!r.ok())
                return false;
            if (!S_ISLNK(c.mode)) {
                c.nameLen = uint16_t(name.size());
                c.nameOff = tree.names.add(name);
            }
            const uint32_t idx = tree.nodes.push(c);
            if (S_ISDIR(c.mode))
                pendingDirs.push_back(idx);
        }
        // Depth-first: the first child directory is read next.
        for (auto it = pendingDirs.rbegin(); it != pendingDirs.rend(); ++it)
            stack.push_back(*it);
    }
    char tail[8];
    uint64_t stored = 0;
    if (!r.ok() || !r.atEnd() || tree.nodes.size() != count
        || ::pread(fd.get(), tail, 8, off_t(bodyLen)) != 8)
        return false;
    for (int i = 0; i < 8; ++i)
        stored |= uint64_t(static_cast<unsigned char>(tail[i])) << (8 * i);
    return stored == r.hash();
}

} // namespace

bool readManifest(int dirFd, const std::string &fileName, ManifestHeader &header, Tree &tree)
{
    tree = Tree();
    if (readInto(dirFd, fileName, header, tree))
        return true;
    tree = Tree();
    return false;
}

} // namespace Coffer::Sync
