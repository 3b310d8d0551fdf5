#pragma once

// Byte counts for people, both ways: "1.5 MiB" (powers of 1024) in messages, progress and
// previews; "64M", "1G", "1.5GiB" from a command line or a size field.

#include <cstdint>
#include <string>
#include <string_view>

namespace Coffer {

// "512 B", "1.5 MiB", "2.0 GiB".
std::string formatBytes(uint64_t bytes);

// "64M", "1G", "1.5GiB", "100000000" (bytes), units K M G T with or without "i"/"B", any case.
// Throws InvalidArgument for anything else, zero or more than 10^18 bytes.
uint64_t parseBytes(std::string_view text);

} // namespace Coffer
