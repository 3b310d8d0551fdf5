#pragma once

// What the plug of a registered vault's drive does (issue 12): the vault's trigger, where its
// passphrase comes from, and whether there is anyone to ask. `cofferctl agent` acts on it; kept
// apart from the terminal and the bus so that every case is tested without either.

#include "config/vaultentry.h"
#include "media/medium.h"

#include <optional>
#include <string>

namespace Coffer::Config {

enum class PlugAction {
    BackUp,     // unlock (with `secret`), sync, lock as the vault's policy says
    Ask,        // ask the person first, then as BackUp
    Nothing,    // the trigger says manual, or there is nothing to back up: `reason`
    NeedsMount, // the drive is not mounted: mount it only when asked to (`reason`)
    CannotAsk,  // the person would have to answer (a question, a passphrase) and cannot: `reason`
};

struct PlugDecision
{
    PlugAction action = PlugAction::Nothing;
    SecretSource secret = SecretSource::Prompt; // BackUp, Ask: where the passphrase comes from
    std::string file;                           // BackUp, Ask: the vault's file on the mounted drive
    std::string reason;                         // a sentence for the other actions
};

// The vault's file on the mounted medium: its first mount point joined with `relativePath`, or
// nothing when that is not a plain relative path ("", absolute, or with "", "." or ".."
// components: the registry is a file anyone with the user's rights may have edited, and the path
// must not lead off the drive).
std::optional<std::string> vaultFileOn(const Media::Medium &medium, const std::string &relativePath);

// interactive: a person answers on this terminal.
PlugDecision decidePlug(const VaultEntry &vault, const Media::Medium &medium, bool interactive);

} // namespace Coffer::Config
