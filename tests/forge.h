#pragma once

// Hostile inputs for tests, made the way an attacker would: LUKS2 headers edited in place with
// valid checksums (libcryptsetup accepts them), and sync manifests with names no directory
// listing can produce. Shared by the host tests and tests/tools/coffer-forge (VM scenarios).

#include "sync/tree.h"

#include <QByteArray>
#include <QCryptographicHash>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace Coffer::Test {

// Edits both copies of the LUKS2 header of the file open as fd: `edit` gets the binary header
// (4096 bytes) and the JSON area (hdr_size - 4096 bytes, NUL padded) of each copy; the checksum
// is recomputed. False if fd holds no LUKS2 header.
inline bool forgeLuks2(int fd, const std::function<void(QByteArray &binary, QByteArray &json)> &edit)
{
    QByteArray first(4096, 0);
    if (::pread(fd, first.data(), first.size(), 0) != first.size() || !first.startsWith("LUKS\xba\xbe"))
        return false;
    quint64 hdrSize = 0;
    for (int i = 8; i < 16; ++i)
        hdrSize = hdrSize << 8 | quint8(first[i]);
    if (hdrSize < 16384 || hdrSize > (4u << 20))
        return false;
    for (const qint64 base : {qint64(0), qint64(hdrSize)}) {
        QByteArray hdr(qsizetype(hdrSize), 0);
        if (::pread(fd, hdr.data(), hdr.size(), base) != hdr.size())
            return false;
        QByteArray binary = hdr.left(4096), json = hdr.mid(4096);
        edit(binary, json);
        binary.resize(4096, 0);
        json.resize(qsizetype(hdrSize) - 4096, 0);
        hdr = binary + json;
        hdr.replace(448, 64, QByteArray(64, 0)); // the checksum is over the header with it zeroed
        const QByteArray sum = QCryptographicHash::hash(hdr, QCryptographicHash::Sha256);
        hdr.replace(448, sum.size(), sum);
        if (::pwrite(fd, hdr.constData(), hdr.size(), base) != hdr.size())
            return false;
    }
    return true;
}

// Puts `uuid` (any bytes, up to 39) into the header as its UUID.
inline bool forgeLuks2Uuid(int fd, const QByteArray &uuid)
{
    return forgeLuks2(fd, [&](QByteArray &binary, QByteArray &) {
        binary.replace(168, 40, uuid.leftJustified(40, '\0', true));
    });
}

// Replaces text in the JSON metadata (e.g. "\"time\":4" by "\"time\":4000000000"). False if
// `from` is not there.
inline bool forgeLuks2Json(int fd, const QByteArray &from, const QByteArray &to)
{
    bool found = false;
    const bool ok = forgeLuks2(fd, [&](QByteArray &, QByteArray &json) {
        const qsizetype end = json.indexOf('\0');
        QByteArray text = json.left(end < 0 ? json.size() : end);
        found = text.contains(from);
        text.replace(from, to);
        json = text;
    });
    return ok && found;
}

// Rewrites the manifest `file` in dirFd with one more regular file among the root's children,
// called `name` (which the manifest's reader must refuse when it is not a plain name). Keeps
// everything the engine checks before trusting a manifest (header, directories' inodes and
// ctimes), so only the name can make it untrustworthy.
inline bool addManifestEntry(int dirFd, const std::string &file, const std::string &name)
{
    using namespace Coffer::Sync;
    ManifestHeader header;
    Tree old;
    if (!readManifest(dirFd, file, header, old))
        return false;
    Tree out;
    // Copies dir's children (and, depth first, theirs) into `out` as the children of `to`.
    std::function<void(uint32_t, uint32_t)> copyChildren = [&](uint32_t from, uint32_t to) {
        const Node &d = old.nodes[from];
        std::vector<std::pair<std::string, uint32_t>> kids; // name, old index (NoNode: the new one)
        for (uint32_t i = d.firstChild; i < d.firstChild + d.childCount; ++i)
            kids.emplace_back(std::string(old.name(old.nodes[i])), i);
        if (from == 0)
            kids.emplace_back(name, NoNode);
        std::sort(kids.begin(), kids.end());
        out.nodes[to].firstChild = out.nodes.size();
        out.nodes[to].childCount = uint32_t(kids.size());
        std::vector<std::pair<uint32_t, uint32_t>> dirs;
        for (const auto &[kidName, index] : kids) {
            Node n;
            if (index != NoNode) {
                n = old.nodes[index];
                const std::string_view target = S_ISLNK(n.mode) ? old.symlinkTarget(n) : std::string_view();
                n.nameOff = out.names.add(kidName, target);
            } else {
                n.mode = S_IFREG | 0644;
                n.size = 1;
                n.nlink = 1;
                n.nameOff = out.names.add(kidName);
            }
            n.nameLen = uint16_t(kidName.size());
            n.parent = to;
            const uint32_t at = out.nodes.push(n);
            if (index != NoNode && S_ISDIR(n.mode))
                dirs.emplace_back(index, at);
        }
        for (const auto &[oldDir, newDir] : dirs)
            copyChildren(oldDir, newDir);
    };
    out.nodes.push(old.nodes[0]);
    copyChildren(0, 0);
    writeManifest(dirFd, file, header, out);
    return true;
}

} // namespace Coffer::Test
