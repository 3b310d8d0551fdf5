#pragma once

// The helper's runtime state under /run/coffer (design.md 4.3): root-owned directories for
// the mount points /run/coffer/<uid>/<name>, and one record per vault the helper attached
// (/run/coffer/state/<dev>-<ino>.json, named after the backing file as the kernel knows it: a
// header's strings never name a file here). A record is written *before* the vault is attached
// ("opening") and completed after the mount ("open"), so a helper killed at any point leaves
// enough behind for the next one to clean up or adopt (reconcile, in Manager). Two vaults
// with the same LUKS UUID (one file copied) are two files, so two records and two mount points.
//
// Who can reach what: /run/coffer is root's, 0711 (nobody lists whose vaults are open);
// /run/coffer/<uid> is root's, 0700 plus an ACL entry user:<uid>:r-x (as udisks does for
// /run/media/$USER), so only root and that user reach the mount points; the mounted vault's own
// top directory is the user's, 0700.

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
    explicit RuntimeState(std::string root);

    const std::string &root() const { return m_root; }

    // /run/coffer/<uid>: made, or repaired (owner, mode and ACL), as described above.
    std::string userDir(uid_t uid);
    // A new, empty, root-owned mount point /run/coffer/<uid>/<name> (or <name>-2 ... when
    // `name` is taken), returned. `name` must pass Vault::isValidName (InvalidArgument).
    std::string makeMountPoint(uid_t uid, const std::string &name);
    // Removes an (empty) mount point directory under the root; ignores errors.
    void removeMountPoint(const std::string &path);

    // The top directory of a vault just mounted at mountPoint: owned by `uid`, mode 0700. A
    // read-only mount cannot be changed: one that is not private already is refused.
    static void makeVaultRootPrivate(const std::string &mountPoint, uid_t uid, gid_t gid, bool readOnly);

    void save(const StateRecord &record);
    void remove(const FileId &backing);
    std::vector<StateRecord> load() const;

private:
    std::string ensureDir(const std::string &path, mode_t mode);
    std::string recordPath(const FileId &backing) const;

    std::string m_root;
};

} // namespace Coffer::Helper
