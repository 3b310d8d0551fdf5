// coffer-forge: hostile inputs for VM scenarios, made with the same code as the host tests'
// (tests/forge.h). Not installed; a test tool only.
//   coffer-forge luks-uuid FILE UUID          the LUKS2 header's UUID, any bytes
//   coffer-forge luks-json FILE FROM TO       replace text in the LUKS2 JSON metadata
//   coffer-forge manifest-entry DIR FILE NAME one more file entry NAME at the root of the
//                                            sync manifest FILE in directory DIR

#include "block/uniquefd.h"
#include "forge.h"

#include <fcntl.h>

#include <cstdio>
#include <string>

using namespace Coffer;

int main(int argc, char **argv)
{
    const std::string cmd = argc > 1 ? argv[1] : "";
    bool ok = false;
    if ((cmd == "luks-uuid" && argc == 4) || (cmd == "luks-json" && argc == 5)) {
        UniqueFd fd(::open(argv[2], O_RDWR | O_CLOEXEC));
        ok = fd && (cmd == "luks-uuid" ? Test::forgeLuks2Uuid(fd.get(), argv[3])
                                       : Test::forgeLuks2Json(fd.get(), argv[3], argv[4]));
    } else if (cmd == "manifest-entry" && argc == 5) {
        UniqueFd dir(::open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ok = dir && Test::addManifestEntry(dir.get(), argv[3], argv[4]);
    } else {
        std::fprintf(stderr, "usage: coffer-forge luks-uuid FILE UUID | luks-json FILE FROM TO | "
                             "manifest-entry DIR FILE NAME\n");
        return 2;
    }
    if (!ok)
        std::fprintf(stderr, "coffer-forge %s: failed\n", cmd.c_str());
    return ok ? 0 : 1;
}
