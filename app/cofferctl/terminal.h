#pragma once

// cofferctl's terminal: passphrases asked for without echo (or read from a file or an fd for
// scripts), and names made safe to print.

#include "args.h"
#include "block/secretbuffer.h"
#include "client/secret.h"

#include <string>
#include <string_view>

namespace Coffer::Ctl {

// Where a passphrase comes from: --passphrase-file F, --passphrase-fd N, or the terminal.
struct SecretSource
{
    std::string file;
    int fd = -1;
};

// The source named by the two options (UsageError for an fd that is not a number).
SecretSource secretSource(const Args &args, std::string_view fileOption = "--passphrase-file",
                          std::string_view fdOption = "--passphrase-fd");

// Reads a passphrase (file/fd: one trailing newline dropped; terminal: no echo; `confirm` asks
// twice). Throws InvalidArgument when it is empty or the two differ.
SecretBuffer readPassphrase(const SecretSource &source, const char *prompt, bool confirm = false);

// What unlocks FILE: the key file of --keyfile, or else a passphrase.
Client::Secret unlockSecret(const Args &args, const std::string &file);

// Control characters and DEL as \xNN; longer than `max`: "..." and the tail.
std::string printable(std::string_view s, size_t max = 4096);

} // namespace Coffer::Ctl
