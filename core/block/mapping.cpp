#include "block/mapping.h"

#include "block/util.h"
#include "error.h"

#include <libdevmapper.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdarg>
#include <memory>

namespace Coffer {

namespace {

// libdevmapper prints to stderr by default; keep our output clean, keep the last error errno.
thread_local int t_dmErrno = 0;

void dmLog(int level, const char *, int, int dmErrno, const char *, ...)
{
    if ((level & 7) <= 3 && dmErrno)
        t_dmErrno = dmErrno;
}

// Again before every task: libcryptsetup puts libdevmapper's default (stderr) logger back when
// it releases its own dm backend.
void setupDm()
{
    dm_log_with_errno_init(dmLog);
}

struct TaskDeleter
{
    void operator()(dm_task *t) const { dm_task_destroy(t); }
};
using Task = std::unique_ptr<dm_task, TaskDeleter>;

Task makeTask(int type, const std::string &name = {})
{
    setupDm();
    Task t(dm_task_create(type));
    if (!t)
        throw Error(ErrorCode::Failed, "Cannot talk to device-mapper (out of memory)");
    if (!name.empty() && !dm_task_set_name(t.get(), name.c_str()))
        throw Error(ErrorCode::InvalidArgument, "Invalid device-mapper name");
    return t;
}

// Runs a remove task, with a udev cookie so /dev/mapper/<name> is gone when we return
// (libdevmapper falls back to removing the node itself when udevd is not running).
bool runRemove(const std::string &name, bool deferred, int *err)
{
    Task t = makeTask(DM_DEVICE_REMOVE, name);
    if (deferred) {
        // No udev cookie: the remove event comes only when the last user lets go, and
        // waiting for it here would hang.
        dm_task_deferred_remove(t.get());
        t_dmErrno = 0;
        int ok = dm_task_run(t.get());
        if (!ok && err)
            *err = t_dmErrno ? t_dmErrno : EBUSY;
        return ok != 0;
    }
    uint32_t cookie = 0;
    if (!dm_task_set_cookie(t.get(), &cookie, 0)) {
        if (err)
            *err = EIO;
        return false;
    }
    t_dmErrno = 0;
    int ok = dm_task_run(t.get());
    int saved = t_dmErrno;
    dm_udev_wait(cookie);
    if (!ok && err)
        *err = saved ? saved : EBUSY;
    return ok != 0;
}

} // namespace

Mapping &Mapping::operator=(Mapping &&other) noexcept
{
    if (this != &other) {
        if (!m_name.empty()) {
            try {
                remove();
            } catch (...) {
            }
        }
        m_name = std::exchange(other.m_name, {});
    }
    return *this;
}

Mapping::~Mapping()
{
    if (!m_name.empty()) {
        try {
            remove(5000);
        } catch (...) {
            // Last resort: the kernel removes it when its last user goes away.
            try {
                removeOrDefer(m_name);
            } catch (...) {
            }
        }
    }
}

void Mapping::remove(int timeoutMs)
{
    if (m_name.empty())
        return;
    std::string name = m_name;
    int err = 0;
    // udev (blkid) may hold the device open for a moment after an event: retry.
    bool gone = waitUntil(timeoutMs, [&] {
        if (!exists(name))
            return true;
        return removeNow(name, &err) || !exists(name);
    });
    if (!gone)
        throw Error(ErrorCode::Busy, "The encrypted volume " + name + " is still in use and cannot be closed", err);
    m_name.clear();
}

bool Mapping::available()
{
    std::string misc = readSmallFile("/proc/misc");
    return misc.find(" device-mapper\n") != std::string::npos;
}

std::optional<Mapping::Info> Mapping::info(const std::string &name)
{
    if (!available())
        return std::nullopt;
    Task t = makeTask(DM_DEVICE_INFO, name);
    if (!dm_task_run(t.get()))
        return std::nullopt;
    dm_info di;
    if (!dm_task_get_info(t.get(), &di) || !di.exists)
        return std::nullopt;
    Info info;
    info.name = name;
    if (const char *u = dm_task_get_uuid(t.get()))
        info.uuid = u;
    info.devno = makedev(di.major, di.minor);
    info.openCount = di.open_count;
    info.deferredRemove = di.deferred_remove != 0;

    Task deps = makeTask(DM_DEVICE_DEPS, name);
    if (dm_task_run(deps.get())) {
        if (dm_deps *d = dm_task_get_deps(deps.get())) {
            for (uint32_t i = 0; i < d->count; ++i)
                info.deps.push_back(dev_t(d->device[i]));
        }
    }
    return info;
}

std::vector<std::string> Mapping::list(const std::string &prefix)
{
    std::vector<std::string> out;
    if (!available())
        return out; // no device-mapper in this kernel: nothing of ours can exist
    Task t = makeTask(DM_DEVICE_LIST);
    if (!dm_task_run(t.get()))
        return out; // no device-mapper in this kernel: nothing of ours can exist
    dm_names *names = dm_task_get_names(t.get());
    if (!names || !names->dev)
        return out;
    for (;;) {
        std::string n = names->name;
        if (n.compare(0, prefix.size(), prefix) == 0)
            out.push_back(n);
        if (!names->next)
            break;
        names = reinterpret_cast<dm_names *>(reinterpret_cast<char *>(names) + names->next);
    }
    return out;
}

bool Mapping::removeNow(const std::string &name, int *err)
{
    return runRemove(name, false, err);
}

void Mapping::deferRemove(const std::string &name)
{
    int err = 0;
    if (!runRemove(name, true, &err))
        throw Error::fromErrno(err, "Cannot hand " + name + " over to the kernel for removal");
}

bool Mapping::removeOrDefer(const std::string &name)
{
    int err = 0;
    if (removeNow(name, &err))
        return true;
    if (!exists(name))
        return true;
    deferRemove(name);
    return !exists(name);
}

bool Mapping::waitGone(const std::string &name, int timeoutMs)
{
    return waitUntil(timeoutMs, [&] { return !exists(name); });
}

} // namespace Coffer
