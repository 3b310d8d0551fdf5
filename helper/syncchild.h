#pragma once

// The sync runs in a child process that has become the caller (design.md 4.6): supplementary
// groups from the user database, then setresgid/setresuid, no_new_privs, parent-death signal.
// It runs the sync engine in-process and writes the engine's JSON lines (progress, then one
// result or error) to a pipe the helper reads. The child can read only what the user can.

#include "block/uniquefd.h"
#include "sync/syncengine.h"

#include <sys/types.h>

#include <string>
#include <vector>

namespace Coffer::Helper {

struct Credentials
{
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};

// The caller's primary gid and supplementary groups (getpwuid_r + getgrouplist). A uid with
// no user database entry gets gid = uid and no supplementary groups.
Credentials credentialsFor(uid_t uid);

// In the child, before anything else: setgroups, setresgid, setresuid, no_new_privs,
// PR_SET_PDEATHSIG(SIGKILL). Returns false if any step failed (the child must then exit).
bool dropPrivileges(const Credentials &credentials);

struct SyncChild
{
    pid_t pid = -1;
    UniqueFd output; // the read end: JSON lines
};

// Forks the child, which drops to `credentials` and runs Sync::run(options). SIGTERM in the
// child cancels the run (the engine leaves the destination consistent).
SyncChild startSyncChild(const Credentials &credentials, const Sync::Options &options);

} // namespace Coffer::Helper
