#pragma once

// Paths taken apart as bytes (names need not be UTF-8), the way Coffer names things: a source
// folder is kept in the vault under its last component ("/home/alice/.ssh/" -> ".ssh").

#include <string>

namespace Coffer {

// The last component, trailing slashes ignored: "/a/b/" -> "b", "/" -> "/", "b" -> "b".
std::string lastComponent(std::string path);

// What holds it, trailing slashes ignored: "/a/b/" -> "/a", "/a" -> "/", "b" -> ".".
std::string parentDirectory(std::string path);

} // namespace Coffer
