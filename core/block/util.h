#pragma once

// Small helpers of the block layer (internal).

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
    int exitCode = -1;       // -1: killed by a signal
    std::string output;      // stdout + stderr, at most 16 KiB (the tail)
};

// Runs an external tool by absolute path with a fixed argv: no shell, a clean environment
// (PATH and LC_ALL=C only), stdin from /dev/null, no inherited descriptors. Waits for it.
ToolResult runTool(const std::vector<std::string> &argv);

// The last line of a tool's output, for error messages.
std::string lastLine(const std::string &output);

} // namespace Coffer
