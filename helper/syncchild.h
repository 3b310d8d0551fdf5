#pragma once

// The sync runs in a process of its own that has become the vault's owner (design.md 4.6). The
// helper is a multithreaded root process, so it does not fork and go on in the copy: it starts
// the small program coffer-sync (posix_spawn: a clean environment, stdin, stdout and stderr on
// /dev/null, the sync's options on fd 3, a pipe on fd 4, nothing else). coffer-sync drops to the
// user before anything else (supplementary groups, setresgid/setresuid, no_new_privs,
// parent-death signal), then runs the sync engine and writes the engine's JSON lines
// (progress, then one result or error) to the pipe. It can read only what the user can.

#include "block/uniquefd.h"
#include "sync/syncengine.h"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace Coffer::Helper {

struct Credentials
{
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};

// The user's primary gid and supplementary groups (getpwuid_r + getgrouplist). A uid with
// no user database entry gets gid = uid and no supplementary groups.
Credentials credentialsFor(uid_t uid);

// setgroups, setresgid, setresuid, no_new_privs, PR_SET_PDEATHSIG(SIGKILL), and a check that
// there is no way back. False if any step failed (the process must then exit). Never to root.
bool dropPrivileges(const Credentials &credentials);

// coffer-sync's interface: its descriptors and its command line
// "coffer-sync --uid U --gid G --groups A,B,.. --parent PID".
inline constexpr int SyncOptionsFd = 3; // Sync::toJsonLine(options), read to the end
inline constexpr int SyncOutputFd = 4;  // the engine's JSON lines
std::vector<std::string> syncProgramArguments(const std::string &program, const Credentials &credentials,
                                              pid_t parent);
struct SyncProgramArguments
{
    Credentials credentials;
    pid_t parent = 0;
};
std::optional<SyncProgramArguments> parseSyncProgramArguments(int argc, const char *const *argv);
// Writes all of `text` (retrying on EINTR); false on an error.
bool writeAll(int fd, std::string_view text);

struct SyncChild
{
    pid_t pid = -1;
    UniqueFd pidfd;  // readable once the child has exited; reap it with waitid(P_PIDFD)
    UniqueFd output; // the read end of the pipe (non-blocking)
};

// Starts `program` (coffer-sync) for `options` as `credentials`. SIGTERM to the child cancels
// the run (the engine leaves the destination consistent).
SyncChild startSyncChild(const std::string &program, const Credentials &credentials,
                         const Sync::Options &options);

} // namespace Coffer::Helper
