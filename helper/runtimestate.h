#pragma once

// The helper's runtime state under /run/coffer (design.md 4.3): root-owned directories for
// the mount points /run/coffer/<uid>/<name>, and one record per vault the helper attached
// (/run/coffer/state/<LUKS UUID>.json: whose it is, where it is mounted, which file backs it).
// A record is written *before* the vault is attached ("opening") and completed after the mount
// ("open"), so a helper killed at any point leaves enough behind for the next one to clean up
// or adopt (reconcile, in Manager).

#include "callerchecks.h"

#include <sys/types.h>

#include <string>
#include <vector>

namespace Coffer::Helper {

struct StateRecord
{
    std::string luksUuid;
    uid_t uid = 0;
    std::string name;
    std::string mountPoint;
    FileId backing;
    bool open = false; // false: the helper was still attaching it
};

class RuntimeState
{
public:
    // root: /run/coffer, or $COFFER_RUNTIME_DIR (tests).
    explicit RuntimeState(std::string root = defaultRoot());
    static std::string defaultRoot();

    const std::string &root() const { return m_root; }

    // Creates (if needed) root-owned /run/coffer/<uid>/ and an empty, root-owned mount point
    // directory /run/coffer/<uid>/<name> (or <name>-2 ... when `name` is taken), and returns it.
    // Refuses anything that is not a plain directory owned by root.
    std::string makeMountPoint(uid_t uid, const std::string &name);
    // Removes an (empty) mount point directory that makeMountPoint made; ignores errors.
    void removeMountPoint(const std::string &path);

    void save(const StateRecord &record);
    void remove(const std::string &luksUuid);
    std::vector<StateRecord> load() const;

private:
    std::string ensureDir(const std::string &path, mode_t mode);

    std::string m_root;
};

} // namespace Coffer::Helper
