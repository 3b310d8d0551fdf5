#pragma once

#include <QString>

// The helper's log: one line per event on stderr (the journal) and, if configured, in a file.
namespace Coffer::Helper::Log {

// The file lines are appended to besides stderr ("": none). Set once at start.
void setFile(const QString &path);

// Writes "<UTC time> coffer-helper: <text>". Control and invisible characters in `text` are
// escaped (escaped()): a vault name, a path in an error message or a header string must not
// start a line of its own or hide what follows.
void write(const QString &text);

// `text` with '\\' doubled, \n \r \t as such and other control, format and separator
// characters as \xNN or \uNNNN.
QString escaped(const QString &text);

} // namespace Coffer::Helper::Log
