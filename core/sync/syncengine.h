#pragma once

// The sync engine: an rsync-style copy of one or more source trees into a destination directory
// (normally a vault's mount point). It runs as whoever calls it (the helper calls it in a child
// that dropped to the caller's uid; cofferctl calls it in-process) and never follows a symlink on
// either side. See design.md 2, 4.6 and 7, and issue 4.
//
// Layout under Options::destination:
//   current/<source-name>/...                 mirror mode (== rsync -aH --delete [-X])
//   snapshots/<UTC time>/<source-name>/...    snapshot mode (unchanged files hard-linked to the
//                                             previous snapshot, renamed into place when complete)
//   .coffer/sync/                             manifests (what the last run wrote) and temp files
//
// Paths and names are bytes (std::string), never QString: names need not be UTF-8.

#include "error.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace Coffer::Sync {

enum class Mode { Mirror, Snapshot };

struct Source
{
    std::string path; // a directory; its contents go to <dest>/current/<name>/ (or the snapshot)
    std::string name; // one path component: not empty, no '/', not "." or ".."
    bool operator==(const Source &) const = default;
};

// Snapshot retention. All zero = keep every snapshot. Otherwise a snapshot is kept when any rule
// keeps it: the newest keepLast; the newest of each of the last keepDaily UTC days that have a
// snapshot; the newest of each of the last keepWeekly ISO weeks that have a snapshot.
struct Retention
{
    int keepLast = 0;
    int keepDaily = 0;
    int keepWeekly = 0;
    bool operator==(const Retention &) const = default;
};

struct Options
{
    std::vector<Source> sources;
    std::string destination;
    Mode mode = Mode::Mirror;
    // rsync-style exclude patterns: "*.tmp", "/build/" (anchored at each source's root, trailing
    // '/' = directories only), "**/cache/", "a/b*" (matched against the path's tail). Excluded
    // entries are neither copied nor deleted from the destination (rsync without
    // --delete-excluded).
    std::vector<std::string> excludes;
    bool dryRun = false;   // plan only: Result::plan says what would change; nothing is written
    bool checksum = false; // compare content of files the quick check calls unchanged, and read
                           // back every file written and compare it with its source
    bool xattrs = true;    // copy user.* extended attributes where both sides support them
    bool durable = true;   // one syncfs + directory fsyncs at the end before reporting success
    bool useManifest = true; // false: compare both sides (the new manifest is still written)
    Retention retention;   // snapshot mode only
    // Minimum time between two progress callbacks within a phase (phase changes always report).
    int progressIntervalMs = 100;
    bool operator==(const Options &) const = default;
};

enum class Phase { Scan, Copy, Delete, Flush, Done };

struct Progress
{
    Phase phase = Phase::Scan;
    uint64_t filesDone = 0;  // Scan: entries scanned so far; Copy/Delete: items done
    uint64_t filesTotal = 0; // Scan: 0 (unknown); Copy: items to transfer; Delete: to delete
    uint64_t bytesDone = 0;
    uint64_t bytesTotal = 0; // Copy: bytes of file data to write
    std::string currentItem; // "<source-name>/<relative path>" (bytes)
    bool operator==(const Progress &) const = default;
};

using ProgressCallback = std::function<void(const Progress &)>;

struct Warning
{
    std::string path; // "<source-name>/<relative path>", or empty
    std::string message;
    int sysErrno = 0;
    bool operator==(const Warning &) const = default;
};

enum class PlanAction { Add, Update, Metadata, Delete };

struct PlanItem
{
    PlanAction action = PlanAction::Add;
    char type = 'f'; // f regular, d directory, l symlink, p fifo, h hard link to another item
    std::string path; // "<source-name>/<relative path>"
    uint64_t bytes = 0; // data bytes to write (Add/Update) or to free (Delete, files only)
    bool operator==(const PlanItem &) const = default;
};

struct Plan
{
    uint64_t added = 0, updated = 0, metadataOnly = 0, deleted = 0, unchanged = 0;
    uint64_t bytesToWrite = 0;  // file data that would be written
    uint64_t bytesToDelete = 0; // file data that would be freed (upper bound with hard links)
    uint64_t bytesFree = 0;     // free space of the destination (statvfs f_bavail)
    bool fits = true;           // bytesToWrite (rounded to blocks) <= bytesFree + bytesToDelete
    std::vector<PlanItem> items; // filled for dry runs only (every change, in walk order)
    uint64_t itemsDropped = 0;   // changes not in items: beyond the cap of a result sent over D-Bus
    bool operator==(const Plan &) const = default;
};

enum class Outcome { Complete, Partial, Cancelled };

struct Result
{
    Outcome outcome = Outcome::Complete;
    bool dryRun = false;
    bool durable = false;   // syncfs + directory fsyncs done after the last write
    bool usedManifest = false; // the no-change fast path was taken (destination not stat'ed)
    std::string snapshot;   // snapshot mode: the name of the snapshot made
    uint64_t filesScanned = 0;  // source entries seen (not excluded)
    uint64_t filesCopied = 0;   // regular files whose data was written
    uint64_t filesLinked = 0;   // hard links made (within a source, or to the previous snapshot)
    uint64_t filesDeleted = 0;  // destination entries removed
    uint64_t itemsUpdated = 0;  // directories, symlinks, fifos made + metadata-only updates
    uint64_t bytesCopied = 0;
    uint64_t warningsDropped = 0; // warnings beyond the first 1000 are only counted
    std::vector<Warning> warnings;
    std::vector<std::string> snapshotsRemoved; // retention
    Plan plan;
    bool operator==(const Result &) const = default;
};

// Runs one sync. Returns Complete, Partial (some source entries could not be read: warnings say
// which; everything else was synced) or Cancelled (*cancel became true; the destination is
// consistent: every file is its old or its new version, no partial file under a final name).
// Throws Coffer::Error for failures that stop the run: bad options (InvalidArgument), missing
// source or destination (NotFound), another run on the destination (Busy), destination full
// (NoSpace: previous versions intact), I/O errors (Failed / MediumGone). `cancel` may be null; it is checked between entries and between
// chunks of a file. Safe to call from any thread; one writing run per destination at a time (a
// second one fails with Busy: the run holds flock() on <dest>/.coffer/sync).
Result run(const Options &options, const ProgressCallback &progress = {},
           const std::atomic<bool> *cancel = nullptr);

// The snapshot names to delete under `retention` (pure; names are "YYYY-MM-DDTHHMMSSZ[-n]").
std::vector<std::string> snapshotsToRemove(const std::vector<std::string> &names,
                                           const Retention &retention);

// --- JSON lines -----------------------------------------------------------------------------
// One JSON object per line (no '\n' inside), used by `cofferctl sync --json` and by the helper's
// child -> parent pipe. Byte strings are JSON strings; bytes that are not valid UTF-8 are written
// as "\udcXX" (Python's surrogateescape), so names round-trip exactly.
//   {"type":"progress","phase":"copy","filesDone":..,"filesTotal":..,"bytesDone":..,
//    "bytesTotal":..,"item":".."}
//   {"type":"result","outcome":"complete|partial|cancelled", ..., "warnings":[..], "plan":{..}}
//   {"type":"error","code":"NoSpace","errno":28,"message":".."}
//   {"type":"options", ...}   (parent -> child)
struct ErrorReport
{
    ErrorCode code = ErrorCode::Failed;
    int sysErrno = 0;
    std::string message;
    bool operator==(const ErrorReport &) const = default;
};

using Message = std::variant<Progress, Result, ErrorReport, Options>;

std::string toJsonLine(const Progress &progress); // each ends with '\n'
std::string toJsonLine(const Result &result);
std::string toJsonLine(const ErrorReport &error);
std::string toJsonLine(const Options &options);
ErrorReport errorReport(const Error &error);
// Parses one line (with or without its '\n'). Throws Coffer::Error (InvalidArgument) on bad input.
Message parseJsonLine(std::string_view line);

std::string_view phaseName(Phase phase);     // "scan", "copy", "delete", "flush", "done"
std::string_view outcomeName(Outcome outcome); // "complete", "partial", "cancelled"

} // namespace Coffer::Sync
