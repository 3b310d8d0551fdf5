#pragma once

// Small helpers of the block layer (internal).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace Coffer {

// Contents of a small (sysfs, procfs) file; "" if it cannot be read.
std::string readSmallFile(const std::string &path, size_t maxSize = 65536);

// Polls pred (every few ms, backing off to 50 ms) until it returns true or timeoutMs passed.
// For kernel state that offers no event to wait on (a loop device's autoclear, deferred dm
// removal). Returns pred's last value.
bool waitUntil(int timeoutMs, const std::function<bool()> &pred);

struct ToolResult
{
    int exitCode = -1;       // -1: killed by a signal (or stopped at the timeout)
    bool timedOut = false;   // ToolOptions::timeoutMs passed: the tool was killed
    std::string output;      // stdout + stderr, at most 16 KiB (the tail)
};

struct ToolOptions
{
    // After this long the tool (its whole process group) is killed and timedOut set; 0: no limit.
    int timeoutMs = 0;
    // A block device the tool works on in a sandbox, for tools that read what users built (e2fsck,
    // resize2fs on someone's vault): empty for none. The tool then runs as an unprivileged user
    // ("nobody") with no capabilities and no way to gain any (no_new_privs), in a private mount
    // namespace whose /dev holds only null and this device, as sandboxDevicePath (pass that in
    // argv), with the rlimits below.
    std::string sandboxDevice;
    uint64_t cpuSeconds = 0;        // RLIMIT_CPU (sandbox; 0: none)
    uint64_t addressSpaceBytes = 0; // RLIMIT_AS (sandbox; 0: none)
    uint64_t openFiles = 64;        // RLIMIT_NOFILE (sandbox)
};

// What the sandboxed tool sees of ToolOptions::sandboxDevice.
inline constexpr const char *sandboxDevicePath = "/dev/coffer-device";

// Runs an external tool by absolute path with a fixed argv: no shell, a clean environment
// (PATH and LC_ALL=C only), stdin from /dev/null, no inherited descriptors, its own process
// group. Waits for it (at most options.timeoutMs). Throws NotSupported when it cannot be
// started (or its sandbox cannot be set up).
ToolResult runTool(const std::vector<std::string> &argv, const ToolOptions &options = {});

// The last line of a tool's output, for error messages.
std::string lastLine(const std::string &output);

} // namespace Coffer
