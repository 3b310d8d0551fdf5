#pragma once

// A vault's name: the one rule for it, and its place in the LUKS2 label. The name becomes the
// label "coffer:<name>", the last component of the mount point /run/coffer/<uid>/<name> and a
// line in a person's terminal, and a header is someone's file: the rule holds for names read
// from a header as much as for names a caller asks for.

#include <string>
#include <string_view>

namespace Coffer::Vault {

inline constexpr size_t maximumNameLength = 40;  // LUKS2 labels hold 47 bytes, "coffer:" takes 7
inline constexpr std::string_view labelPrefix = "coffer:";

// 1..maximumNameLength bytes of valid UTF-8; no '/', '\\', control characters (C0, DEL, C1),
// invisible format characters (bidirectional overrides, zero-width characters, ...), line or
// paragraph separators or U+FFFD; no leading '.', '-' or white space (so neither "." nor ".."),
// no trailing white space.
bool isValidName(std::string_view name);
// The same test, throwing InvalidArgument with a sentence saying what is wrong.
void validateName(std::string_view name);

// "coffer:<name>".
std::string labelFor(std::string_view name);
// The name in a label: the label without "coffer:" (a label of someone else's making as it is).
// Not validated: test it with isValidName before using it.
std::string nameFromLabel(std::string_view label);

} // namespace Coffer::Vault
