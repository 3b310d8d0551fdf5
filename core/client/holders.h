#pragma once

// The programs that keep an unlocked vault busy, as a failed Lock (Busy) reports them.
//
// Today the helper names them only inside the Busy error's message, the block layer's sentence
// "The vault is in use by gpg-agent (pid 812, working directory), vim (pid 900, open file). ...";
// holdersFromBusyError() reads that back. A structured call on the Vault object,
// Holders() -> a(uss) (pid, program name, what it holds), would replace the parsing.

#include "error.h"

#include <QList>
#include <QString>

namespace Coffer::Client {

struct Holder
{
    uint pid = 0;
    QString name;   // the program (/proc/PID/comm)
    QString what;   // "open file", "working directory", ...
    bool operator==(const Holder &) const = default;
};

struct BusyReport
{
    QList<Holder> holders;
    // Programs of other users hold it: Coffer stops only the owner's, so forcing cannot help.
    bool otherUsers = false;
    // The helper could not look at every process: there may be more.
    bool incomplete = false;
};

// What a Busy error says about the holders (none for other errors, or a message that names none).
BusyReport holdersFromBusyError(const Error &error);

} // namespace Coffer::Client
