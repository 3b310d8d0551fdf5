#pragma once

#include "block/uniquefd.h"

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace Coffer {

// One loop device over a backing file, attached in one step with LOOP_CONFIGURE (autoclear,
// block size, direct I/O) while we hold a BSD lock on it so udev does not probe a half-made
// device. Falls back to LOOP_SET_FD + LOOP_SET_STATUS64 on kernels without LOOP_CONFIGURE.
// The destructor detaches (LOOP_CLR_FD: immediately, or when the last opener goes away);
// release() closes our handle only, so the kernel detaches it once whatever sits on top
// (dm-crypt) lets go.
class LoopDevice
{
public:
    struct Options
    {
        uint32_t blockSize = 4096;
        bool directIo = true;    // tried first; dropped if the backing file refuses it
        bool readOnly = false;
    };

    LoopDevice() = default;
    LoopDevice(LoopDevice &&other) noexcept = default;
    LoopDevice &operator=(LoopDevice &&other) noexcept;
    ~LoopDevice();

    static LoopDevice attach(int backingFd, const Options &options);

    bool valid() const { return m_fd.valid(); }
    int fd() const { return m_fd.get(); }
    int number() const { return m_number; }
    const std::string &path() const { return m_path; }
    dev_t devno() const { return m_devno; }
    bool directIo() const { return m_directIo; }

    // Re-reads the backing file's size (after it grew).
    void refreshCapacity();
    // Tells udev that the mapping coffer-<luksUuid> (a canonical UUID) now holds this device: a
    // synthetic "change" uevent, so that rules/90-coffer.rules hides it from desktop
    // automounters, whatever its label.
    void announceHeld(const std::string &luksUuid) const;
    // Detaches now (LOOP_CLR_FD) and waits up to timeoutMs until the kernel really let go.
    void detach(int timeoutMs = 10000);
    // Hands teardown to the kernel (autoclear): closes our handle without detaching.
    void release();

    // The backing file of /dev/loopN as the kernel names it ("" if N is not attached).
    static std::string backingFile(int number);
    // Waits until loop N is detached (or bound to a file other than backingFile if that is
    // non-empty). Returns false on timeout.
    static bool waitDetached(int number, const std::string &backingFile, int timeoutMs);

private:
    UniqueFd m_fd;
    int m_number = -1;
    std::string m_path;
    dev_t m_devno = 0;
    bool m_directIo = false;
};

} // namespace Coffer
