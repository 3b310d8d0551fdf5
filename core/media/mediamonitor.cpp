#include "media/mediamonitor.h"

#include "error.h"
#include "media/mountwatcher.h"

#include <QSocketNotifier>

#include <libudev.h>

#include <cerrno>

namespace Coffer::Media {

namespace {

struct DeviceUnref
{
    void operator()(udev_device *d) const { udev_device_unref(d); }
};
using DevicePtr = std::unique_ptr<udev_device, DeviceUnref>;

struct EnumerateUnref
{
    void operator()(udev_enumerate *e) const { udev_enumerate_unref(e); }
};

void putAttribute(PropertyMap &attrs, udev_device *device, const char *name)
{
    if (const char *value = device ? udev_device_get_sysattr_value(device, name) : nullptr)
        attrs[name] = value;
}

// The properties and the "size" and "removable" attributes of one device, as the pure parser
// (mediumFromUdev) takes them.
std::optional<Medium> mediumOf(udev_device *device)
{
    PropertyMap properties, attrs;
    for (udev_list_entry *e = udev_device_get_properties_list_entry(device); e; e = udev_list_entry_get_next(e)) {
        const char *value = udev_list_entry_get_value(e);
        properties[udev_list_entry_get_name(e)] = value ? value : "";
    }
    putAttribute(attrs, device, "size");
    // "removable" belongs to the disk, whether the filesystem is on a partition of it or on the
    // whole disk (most sticks have a partition table; some are formatted whole).
    const char *devtype = udev_device_get_devtype(device);
    udev_device *disk = devtype && std::string_view(devtype) == "partition"
                            ? udev_device_get_parent_with_subsystem_devtype(device, "block", "disk")
                            : device;
    putAttribute(attrs, disk, "removable");
    return mediumFromUdev(properties, attrs);
}

} // namespace

void MediaMonitor::UdevDeleter::operator()(udev *u) const
{
    udev_unref(u);
}

void MediaMonitor::MonitorDeleter::operator()(udev_monitor *m) const
{
    udev_monitor_unref(m);
}

MediaMonitor::MediaMonitor(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<Medium>();
}

MediaMonitor::~MediaMonitor() = default;

void MediaMonitor::start()
{
    if (isRunning())
        return;
    std::unique_ptr<udev, UdevDeleter> context(udev_new());
    if (!context)
        throw Error::fromErrno(errno, "Cannot talk to udev, so plugged-in drives go unnoticed");
    std::unique_ptr<udev_monitor, MonitorDeleter> monitor(udev_monitor_new_from_netlink(context.get(), "udev"));
    if (!monitor || udev_monitor_filter_add_match_subsystem_devtype(monitor.get(), "block", nullptr) < 0
        || udev_monitor_filter_add_match_tag(monitor.get(), mediaTag) < 0
        || udev_monitor_enable_receiving(monitor.get()) < 0)
        throw Error::fromErrno(errno, "Cannot listen to udev for plugged-in drives");

    auto mounts = std::make_unique<MountWatcher>();
    mounts->start();

    m_udev = std::move(context);
    m_monitor = std::move(monitor);
    m_mounts = mounts.release();
    m_mounts->setParent(this);
    connect(m_mounts, &MountWatcher::mountsChanged, this, [this] {
        for (const MediaEvent &event : m_table.remount(m_mounts->mounts()))
            report(event);
    });
    m_notifier = new QSocketNotifier(udev_monitor_get_fd(m_monitor.get()), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &MediaMonitor::receive);

    // Listening first, then enumerating: a device plugged in between is seen twice, which the
    // table turns into one Added.
    std::unique_ptr<udev_enumerate, EnumerateUnref> enumerate(udev_enumerate_new(m_udev.get()));
    if (!enumerate || udev_enumerate_add_match_subsystem(enumerate.get(), "block") < 0
        || udev_enumerate_add_match_tag(enumerate.get(), mediaTag) < 0
        || udev_enumerate_scan_devices(enumerate.get()) < 0)
        return; // nothing to enumerate; events still arrive
    for (udev_list_entry *e = udev_enumerate_get_list_entry(enumerate.get()); e; e = udev_list_entry_get_next(e)) {
        DevicePtr device(udev_device_new_from_syspath(m_udev.get(), udev_list_entry_get_name(e)));
        if (device)
            m_table.apply("add", udev_device_get_devnum(device.get()), mediumOf(device.get()), m_mounts->mounts());
    }
}

std::optional<Medium> MediaMonitor::medium(dev_t devnum) const
{
    const Medium *m = m_table.find(devnum);
    return m ? std::optional<Medium>(*m) : std::nullopt;
}

void MediaMonitor::receive()
{
    // The socket is non-blocking: take every event queued, then wait for the next wake-up.
    while (DevicePtr device{udev_monitor_receive_device(m_monitor.get())}) {
        const char *action = udev_device_get_action(device.get());
        if (auto event = m_table.apply(action ? action : "change", udev_device_get_devnum(device.get()),
                                       mediumOf(device.get()), m_mounts->mounts()))
            report(*event);
    }
}

void MediaMonitor::report(const MediaEvent &event)
{
    switch (event.change) {
    case MediaChange::Added: Q_EMIT mediumAdded(event.medium); break;
    case MediaChange::Removed: Q_EMIT mediumRemoved(event.medium); break;
    case MediaChange::Changed: Q_EMIT mediumChanged(event.medium); break;
    }
}

} // namespace Coffer::Media
