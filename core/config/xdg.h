#pragma once

// The XDG base directories of the user (the XDG Base Directory Specification), as every Coffer
// process of that user finds them.

#include <string>

namespace Coffer::Config {

// $<variable> if it is an absolute path, else $HOME/<underHome> (HOME from the environment, else
// the password database): xdgDirectory("XDG_CONFIG_HOME", ".config").
std::string xdgDirectory(const char *variable, const char *underHome);

} // namespace Coffer::Config
