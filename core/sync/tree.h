#pragma once

// The engine's in-memory picture of one tree (a source, a destination, or a manifest of what the
// last run wrote). Compact on purpose (design.md 7: well under 300 bytes per file): 96 bytes per
// node plus its name, in chunks so that growing never doubles the footprint.

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Sync {

constexpr uint32_t NoNode = UINT32_MAX;

enum NodeFlag : uint8_t {
    FlagScanFailed = 1,   // directory could not be read completely: delete nothing inside
    FlagSubtreeDirty = 2, // something in this directory's subtree changes (plan)
    FlagMetaDirty = 4,    // this directory's own metadata must be set (plan)
    FlagFailed = 8,       // the entry could not be synced (warning given)
    FlagDelete = 16,      // destination side: remove this entry
    FlagKeep = 32,        // destination side: excluded, kept
    FlagRewritten = 64,   // execute: the file got a new inode in this run
    FlagCheckXattr = 128, // compare user.* xattrs while executing (no manifest fast path)
};

enum class Action : uint8_t {
    None,     // unchanged
    Create,   // new entry (regular file data is copied)
    Update,   // regular file: data changed; symlink: target changed; or the type changed
    Metadata, // mode/owner/mtime/xattrs only
    Link,     // hard link to the group's first member (same source inode)
    LinkPrev, // snapshot: hard link to the previous snapshot's unchanged file
    Verify,   // --checksum: quick check says unchanged, compare content
};

struct Node
{
    uint64_t nameOff = 0; // in the tree's NameArena; a symlink's target follows its name
    uint64_t size = 0;    // regular file: size; symlink: target length
    int64_t mtimeNs = 0;
    int64_t ctimeNs = 0;  // source ctime (source tree, manifest)
    uint64_t ino = 0;     // source inode (source tree, manifest); destination inode (scanned dest)
    uint64_t destIno = 0; // destination inode (hard-link members; scanned dest = ino)
    int64_t destCtimeNs = 0; // destination directories: ctime after the run (manifest check)
    uint32_t parent = NoNode;
    uint32_t firstChild = 0;
    uint32_t childCount = 0;
    uint32_t mode = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t nlink = 1;
    uint32_t match = NoNode; // plan: the other tree's node with the same path
    uint16_t nameLen = 0;
    uint16_t dev = 0;        // index into Tree::devices
    Action action = Action::None;
    uint8_t flags = 0;
};

// Bytes for names (and symlink targets) in 1 MiB chunks; a string never spans two chunks.
class NameArena
{
public:
    static constexpr size_t ChunkSize = 1 << 20;
    uint64_t add(std::string_view a, std::string_view b = {})
    {
        const size_t n = a.size() + b.size();
        if (m_chunks.empty() || m_used + n > ChunkSize) {
            m_chunks.emplace_back(new char[std::max(n, ChunkSize)]);
            m_used = 0;
        }
        char *p = m_chunks.back().get() + m_used;
        if (!a.empty())
            std::memcpy(p, a.data(), a.size());
        if (!b.empty())
            std::memcpy(p + a.size(), b.data(), b.size());
        const uint64_t off = (uint64_t(m_chunks.size() - 1) << 32) | m_used;
        m_used += n;
        return off;
    }
    std::string_view get(uint64_t off, size_t len) const
    {
        return {m_chunks[off >> 32].get() + (off & 0xffffffffu), len};
    }
    size_t bytes() const { return m_chunks.size() * ChunkSize; }

private:
    std::vector<std::unique_ptr<char[]>> m_chunks;
    size_t m_used = 0;
};

// A vector of nodes in fixed-size chunks (indices stay valid, no 2x growth spikes).
class NodeTable
{
public:
    static constexpr uint32_t Shift = 14; // 16384 nodes (1.5 MiB) per chunk
    static constexpr uint32_t Mask = (1u << Shift) - 1;
    uint32_t size() const { return m_size; }
    Node &operator[](uint32_t i) { return m_chunks[i >> Shift][i & Mask]; }
    const Node &operator[](uint32_t i) const { return m_chunks[i >> Shift][i & Mask]; }
    uint32_t push(const Node &n)
    {
        if ((m_size & Mask) == 0 && (m_size >> Shift) == m_chunks.size())
            m_chunks.emplace_back(new Node[Mask + 1]);
        (*this)[m_size] = n;
        return m_size++;
    }

private:
    std::vector<std::unique_ptr<Node[]>> m_chunks;
    uint32_t m_size = 0;
};

// One tree: node 0 is the root directory; a directory's children are contiguous
// (firstChild .. firstChild + childCount - 1) and sorted by name (bytewise).
struct Tree
{
    NodeTable nodes;
    NameArena names;
    std::vector<dev_t> devices;

    std::string_view name(const Node &n) const { return names.get(n.nameOff, n.nameLen); }
    std::string_view symlinkTarget(const Node &n) const
    {
        return names.get(n.nameOff, n.nameLen + n.size).substr(n.nameLen);
    }
    uint16_t deviceIndex(dev_t dev)
    {
        for (size_t i = 0; i < devices.size(); ++i)
            if (devices[i] == dev)
                return uint16_t(i);
        devices.push_back(dev);
        return uint16_t(devices.size() - 1);
    }
    // "a/b/c" relative to the root (empty for the root).
    std::string path(uint32_t index) const;
    // Finds the child of `dir` called `name` (binary search), or NoNode.
    uint32_t child(uint32_t dir, std::string_view name) const;
};

// What the last run wrote for one source, and what it must still match to be trusted.
struct ManifestHeader
{
    std::string sourceName;
    std::string snapshot;  // snapshot mode: the snapshot this describes
    uint64_t optionsHash = 0; // excludes, xattrs, ownership (root or not), mode
    uint64_t rootDev = 0, rootIno = 0; // the destination root directory of this source
    // Empty when the run's data was flushed (syncfs) before the manifest was written. Otherwise
    // the kernel's boot id: an unflushed manifest is only trusted within the same boot, since a
    // crash may have lost data it describes.
    std::string unflushedBootId;
};

// /proc/sys/kernel/random/boot_id, or empty.
std::string currentBootId();

// Writes `tree` atomically (temp + fsync + rename) as `fileName` in `dirFd`.
void writeManifest(int dirFd, const std::string &fileName, const ManifestHeader &header,
                   const Tree &tree);
// Reads a manifest; false (and an empty tree) if missing, corrupt, of another version, or naming
// an entry with anything but a plain entry name (isEntryName: a hostile manifest).
bool readManifest(int dirFd, const std::string &fileName, ManifestHeader &header, Tree &tree);

uint64_t fnv1a(const void *data, size_t len, uint64_t hash = 0xcbf29ce484222325ull);

} // namespace Coffer::Sync
