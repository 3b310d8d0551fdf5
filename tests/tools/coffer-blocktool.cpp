// coffer-blocktool: a thin command line over core/block (vault.h) for VM scenarios, benchmarks
// and `make demo`. It plays the helper's part: it opens the files, reads secrets into locked
// memory and calls the vault operations. Not installed; not a user interface.
//
// Secrets come from files (--pass-file, --new-pass-file, --keyfile; "-" = stdin), never argv.
// Exit codes follow cofferctl's (app/cofferctl/exitcodes.h): 0 ok, 1 failed, 2 usage,
// 4 bad passphrase, 6 busy, 8 no space, 9 not found, 10 medium gone.

#include "block/secretbuffer.h"
#include "block/uniquefd.h"
#include "block/vault.h"
#include "error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace Coffer;

namespace {

int usage()
{
    std::fprintf(stderr,
                 "usage: coffer-blocktool COMMAND ARGS [OPTIONS]\n"
                 "  create FILE SIZE NAME [--keyfile F] [--pbkdf-memory KIB] [--pbkdf-iterations N]\n"
                 "                        [--iter-ms MS] [--owner UID:GID] [--cipher SPEC]\n"
                 "  open FILE MOUNTPOINT [--fsck yes] [--ro] [--no-direct-io]\n"
                 "  close MOUNTPOINT|MAPPER [--force [--owner UID]] [--lazy]\n"
                 "  list | cleanup | holders MOUNTPOINT | ciphers | info FILE | medium FILE SIZE\n"
                 "  check FILE | change-pass FILE | add-key FILE | remove-key FILE\n"
                 "  backup-header FILE OUT | restore-header FILE IN\n"
                 "  grow FILE SIZE [--online MOUNTPOINT]\n"
                 "secrets: --pass-file F (default: stdin), --new-pass-file F\n");
    return 2;
}

uint64_t parseSize(const std::string &s)
{
    char *end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    std::string unit = end ? end : "";
    uint64_t mult = 1;
    if (unit == "K" || unit == "k") mult = 1ull << 10;
    else if (unit == "M") mult = 1ull << 20;
    else if (unit == "G") mult = 1ull << 30;
    else if (unit == "T") mult = 1ull << 40;
    else if (!unit.empty())
        throw Error(ErrorCode::InvalidArgument, "Cannot read the size " + s);
    return v * mult;
}

SecretBuffer readSecret(const std::string &path)
{
    if (path.empty() || path == "-")
        return SecretBuffer::readFromFd(0);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open the secret file " + path);
    return SecretBuffer::readFromFd(fd.get());
}

UniqueFd openBacking(const std::string &path, int flags)
{
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open " + path);
    return fd;
}

void printVault(const Vault::OpenVault &v)
{
    std::printf("mount=%s\nloop=%s\nmapper=%s\nuuid=%s\nlabel=%s\nname=%s\ntype=%s\nbacking=%s\n"
                "size=%llu\nused=%llu\nfsck=%d\nkeyslot=%d\n",
                v.mountPoint.c_str(), v.loopDevice.c_str(), v.mapperDevice.c_str(), v.luksUuid.c_str(),
                v.label.c_str(), v.name.c_str(), v.luksType.c_str(), v.backingFile.c_str(),
                (unsigned long long)v.size, (unsigned long long)v.used, v.fsckRan ? 1 : 0, v.keyslot);
}

Vault::OpenVault findOpen(const std::string &what)
{
    for (auto &v : Vault::listOpen()) {
        if (v.mountPoint == what || v.mapperName == what || v.mapperDevice == what)
            return v;
    }
    throw Error(ErrorCode::NotFound, "No open vault at " + what);
}

int run(const std::string &cmd, std::vector<std::string> &args, std::map<std::string, std::string> &opt)
{
    auto need = [&](size_t n) {
        if (args.size() != n)
            throw Error(ErrorCode::InvalidArgument, "usage");
    };
    auto has = [&](const char *k) { return opt.count(k) > 0; };
    auto u32 = [&](const char *k) { return has(k) ? uint32_t(std::strtoul(opt[k].c_str(), nullptr, 10)) : 0u; };
    Vault::PbkdfOptions pbkdf;
    pbkdf.memoryKiB = u32("pbkdf-memory");
    pbkdf.iterations = u32("pbkdf-iterations");
    pbkdf.iterMs = u32("iter-ms");

    if (cmd == "create") {
        need(3);
        UniqueFd fd = openBacking(args[0], O_RDWR | O_CREAT);
        SecretBuffer pass = readSecret(opt["pass-file"]);
        Vault::CreateOptions o;
        o.name = args[2];
        o.pbkdf = pbkdf;
        SecretBuffer key;
        if (has("keyfile")) {
            key = readSecret(opt["keyfile"]);
            o.keyFile = &key;
        }
        if (has("owner"))
            std::sscanf(opt["owner"].c_str(), "%u:%u", &o.ownerUid, &o.ownerGid);
        if (has("cipher"))
            o.cipher = opt["cipher"];
        Vault::CreateResult r = Vault::create(fd.get(), parseSize(args[1]), pass, o);
        std::printf("uuid=%s\nlabel=%s\nsize=%llu\nfs=%s\n", r.luksUuid.c_str(), r.label.c_str(),
                    (unsigned long long)r.size, r.medium.fsType.c_str());
        for (const auto &w : r.medium.warnings)
            std::printf("warning=%s\n", w.c_str());
        return 0;
    }
    if (cmd == "open") {
        need(2);
        bool ro = has("ro");
        UniqueFd fd = openBacking(args[0], ro ? O_RDONLY : O_RDWR);
        SecretBuffer secret = readSecret(has("keyfile") ? opt["keyfile"] : opt["pass-file"]);
        Vault::OpenOptions o;
        o.readOnly = ro;
        o.directIo = !has("no-direct-io");
        o.forceFsck = opt["fsck"] == "yes";
        printVault(Vault::open(fd.get(), secret, args[1], o));
        return 0;
    }
    if (cmd == "close") {
        need(1);
        Vault::OpenVault v = findOpen(args[0]);
        Vault::CloseOptions o;
        o.force = has("force");
        o.lazy = has("lazy");
        if (has("owner"))
            o.ownerUid = uid_t(std::stoul(opt["owner"]));
        Vault::close(v, o);
        return 0;
    }
    if (cmd == "list") {
        for (const auto &v : Vault::listOpen()) {
            printVault(v);
            std::printf("\n");
        }
        return 0;
    }
    if (cmd == "cleanup") {
        for (const auto &n : Vault::cleanupStale())
            std::printf("removed=%s\n", n.c_str());
        return 0;
    }
    if (cmd == "holders") {
        need(1);
        for (const auto &h : Vault::holders(args[0]))
            std::printf("%d %s (%s)\n", h.pid, h.name.c_str(), h.what.c_str());
        return 0;
    }
    if (cmd == "ciphers") {
        for (const auto &c : Vault::availableCiphers())
            std::printf("%s\n", c.c_str());
        return 0;
    }
    if (cmd == "info") {
        need(1);
        UniqueFd fd = openBacking(args[0], O_RDONLY);
        Vault::HeaderInfo h = Vault::headerInfo(fd.get());
        std::printf("type=%s\nuuid=%s\nlabel=%s\nsubsystem=%s\ncipher=%s\nkeybits=%u\nsector=%u\ncoffer=%d\nslots=",
                    h.luksType.c_str(), h.luksUuid.c_str(), h.label.c_str(), h.subsystem.c_str(),
                    h.cipher.c_str(), h.keyBits, h.sectorSize, h.isCoffer ? 1 : 0);
        for (size_t i = 0; i < h.activeKeyslots.size(); ++i)
            std::printf("%s%d", i ? "," : "", h.activeKeyslots[i]);
        std::printf("\n");
        return 0;
    }
    if (cmd == "medium") {
        need(2);
        UniqueFd fd = openBacking(args[0], O_RDONLY);
        Vault::MediumInfo m = Vault::checkMedium(fd.get(), parseSize(args[1]));
        std::printf("fs=%s\nfree=%llu\nsparse=%d\n", m.fsType.c_str(), (unsigned long long)m.freeBytes,
                    m.canSparse ? 1 : 0);
        for (const auto &w : m.warnings)
            std::printf("warning=%s\n", w.c_str());
        return 0;
    }
    if (cmd == "check") {
        need(1);
        UniqueFd fd = openBacking(args[0], O_RDONLY);
        SecretBuffer secret = readSecret(has("keyfile") ? opt["keyfile"] : opt["pass-file"]);
        std::printf("keyslot=%d\n", Vault::checkPassphrase(fd.get(), secret));
        return 0;
    }
    if (cmd == "change-pass" || cmd == "add-key") {
        need(1);
        UniqueFd fd = openBacking(args[0], O_RDWR);
        SecretBuffer oldSecret = readSecret(opt["pass-file"]);
        SecretBuffer newSecret = readSecret(opt["new-pass-file"]);
        if (cmd == "change-pass")
            Vault::changePassphrase(fd.get(), oldSecret, newSecret, pbkdf);
        else
            std::printf("keyslot=%d\n", Vault::addKey(fd.get(), oldSecret, newSecret, pbkdf));
        return 0;
    }
    if (cmd == "remove-key") {
        need(1);
        UniqueFd fd = openBacking(args[0], O_RDWR);
        SecretBuffer secret = readSecret(opt["pass-file"]);
        Vault::removeKey(fd.get(), secret);
        return 0;
    }
    if (cmd == "backup-header") {
        need(2);
        UniqueFd fd = openBacking(args[0], O_RDONLY);
        UniqueFd out = openBacking(args[1], O_WRONLY | O_CREAT | O_TRUNC);
        Vault::backupHeader(fd.get(), out.get());
        return 0;
    }
    if (cmd == "restore-header") {
        need(2);
        UniqueFd fd = openBacking(args[0], O_RDWR);
        UniqueFd in = openBacking(args[1], O_RDONLY);
        Vault::restoreHeader(fd.get(), in.get());
        return 0;
    }
    if (cmd == "grow") {
        need(2);
        UniqueFd fd = openBacking(args[0], O_RDWR);
        SecretBuffer secret = readSecret(opt["pass-file"]);
        if (has("online")) {
            Vault::OpenVault v = findOpen(opt["online"]);
            Vault::grow(fd.get(), parseSize(args[1]), secret, &v);
        } else {
            Vault::grow(fd.get(), parseSize(args[1]), secret);
        }
        return 0;
    }
    return usage();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    std::string cmd = argv[1];
    std::vector<std::string> args;
    std::map<std::string, std::string> opt;
    static const char *flags[] = {"ro", "force", "lazy", "no-direct-io"};
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) == 0) {
            std::string k = a.substr(2);
            bool isFlag = false;
            for (const char *f : flags)
                isFlag |= k == f;
            if (isFlag) {
                opt[k] = "1";
            } else {
                if (i + 1 >= argc)
                    return usage();
                opt[k] = argv[++i];
            }
        } else {
            args.push_back(a);
        }
    }
    try {
        return run(cmd, args, opt);
    } catch (const Error &e) {
        if (e.message() == "usage")
            return usage();
        std::fprintf(stderr, "coffer-blocktool: %s: %s\n", std::string(errorCodeName(e.code())).c_str(),
                     e.message().c_str());
        return exitCodeFor(e.code());
    }
}
