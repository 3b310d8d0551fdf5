#pragma once

// Drives as they come and go: a libudev monitor on block devices tagged "coffer-media" by
// rules/90-coffer.rules (filesystems on USB drives), read through a QSocketNotifier on its
// netlink socket, and a MountWatcher so that a desktop's automount after the plug (or an unmount)
// reaches the same media as a change. Event-driven only: no timers, no polling loops.
//
// Works as root (the helper: teardown when a drive goes) and as any user (a client's plug flow):
// udev's netlink messages and its database are readable by everyone.

#include "media/mediatable.h"
#include "media/medium.h"

#include <QObject>

#include <memory>
#include <optional>
#include <vector>

class QSocketNotifier;
struct udev;
struct udev_monitor;

namespace Coffer::Media {

class MountWatcher;

// The udev tag rules/90-coffer.rules puts on filesystems of USB drives.
inline constexpr char mediaTag[] = "coffer-media";

class MediaMonitor : public QObject
{
    Q_OBJECT

public:
    explicit MediaMonitor(QObject *parent = nullptr);
    ~MediaMonitor() override;

    // Starts listening, then enumerates the tagged devices present now into media() (without
    // signals: they were there before). Throws Error when udev or the mount table cannot be
    // opened. Calling it again does nothing.
    void start();
    bool isRunning() const { return m_monitor != nullptr; }

    // Every medium present, by device node.
    std::vector<Medium> media() const { return m_table.media(); }
    std::optional<Medium> medium(dev_t devnum) const;

Q_SIGNALS:
    void mediumAdded(const Coffer::Media::Medium &medium);
    // With the facts last known: a removed device has no attributes left to read.
    void mediumRemoved(const Coffer::Media::Medium &medium);
    // Label, size, mount points or free space changed (a mount or unmount, a relabel).
    void mediumChanged(const Coffer::Media::Medium &medium);

private:
    void receive();
    void report(const MediaEvent &event);

    struct UdevDeleter { void operator()(udev *u) const; };
    struct MonitorDeleter { void operator()(udev_monitor *m) const; };
    std::unique_ptr<udev, UdevDeleter> m_udev;
    std::unique_ptr<udev_monitor, MonitorDeleter> m_monitor;
    QSocketNotifier *m_notifier = nullptr;
    MountWatcher *m_mounts = nullptr;
    MediaTable m_table;
};

} // namespace Coffer::Media

Q_DECLARE_METATYPE(Coffer::Media::Medium)
