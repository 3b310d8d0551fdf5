#include "media/mountwatcher.h"

#include "error.h"

#include <QSocketNotifier>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace Coffer::Media {

MountWatcher::MountWatcher(QObject *parent)
    : QObject(parent)
{
}

MountWatcher::~MountWatcher() = default;

void MountWatcher::start()
{
    if (isRunning())
        return;
    UniqueFd fd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot watch the mount table (/proc/self/mountinfo)");
    m_fd = std::move(fd);
    reread();
    m_notifier = new QSocketNotifier(m_fd.get(), QSocketNotifier::Exception, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] {
        reread();
        Q_EMIT mountsChanged();
    });
}

// Reading the same fd from the start: the poll event belongs to the open file and is cleared by
// the poll that reported it, so reading never hides a later change.
void MountWatcher::reread()
{
    std::string text;
    char buf[16384];
    if (::lseek(m_fd.get(), 0, SEEK_SET) == 0) {
        for (;;) {
            const ssize_t n = ::read(m_fd.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            text.append(buf, size_t(n));
        }
    }
    m_mounts = parseMountInfo(text);
}

} // namespace Coffer::Media
