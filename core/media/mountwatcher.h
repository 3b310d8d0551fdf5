#pragma once

// Notices changes of the kernel's mount table: /proc/self/mountinfo reports one with POLLPRI
// (proc(5)), so a QSocketNotifier of type Exception on it wakes the event loop exactly when a
// filesystem is mounted or unmounted (a desktop automount after a plug, a lazy unmount after a
// yank) and never otherwise: no timer, no periodic wake-up.

#include "block/uniquefd.h"
#include "media/mountinfo.h"

#include <QObject>

#include <vector>

class QSocketNotifier;

namespace Coffer::Media {

class MountWatcher : public QObject
{
    Q_OBJECT

public:
    explicit MountWatcher(QObject *parent = nullptr);
    ~MountWatcher() override;

    // Opens /proc/self/mountinfo, reads it and starts watching. Throws Error if it cannot.
    void start();
    bool isRunning() const { return m_fd.valid(); }

    // The mount table as last read (at start() or the last change).
    const std::vector<MountEntry> &mounts() const { return m_mounts; }

Q_SIGNALS:
    // The table changed; mounts() is already the new one.
    void mountsChanged();

private:
    void reread();

    UniqueFd m_fd;
    QSocketNotifier *m_notifier = nullptr;
    std::vector<MountEntry> m_mounts;
};

} // namespace Coffer::Media
