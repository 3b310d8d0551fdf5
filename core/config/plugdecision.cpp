#include "config/plugdecision.h"

#include <string_view>

namespace Coffer::Config {

std::optional<std::string> vaultFileOn(const Media::Medium &medium, const std::string &relativePath)
{
    if (!medium.mounted() || relativePath.empty() || relativePath.front() == '/')
        return std::nullopt;
    size_t start = 0;
    while (start <= relativePath.size()) {
        size_t end = relativePath.find('/', start);
        if (end == std::string::npos)
            end = relativePath.size();
        const std::string_view part(relativePath.data() + start, end - start);
        if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos)
            return std::nullopt;
        start = end + 1;
    }
    std::string root = medium.mountPoints.front();
    if (root.empty() || root.back() != '/')
        root += '/';
    return root + relativePath;
}

PlugDecision decidePlug(const VaultEntry &vault, const Media::Medium &medium, bool interactive)
{
    PlugDecision d;
    d.secret = vault.secretSource;
    if (vault.trigger == Trigger::Manual) {
        d.reason = "it is set to back up only when asked (trigger manual)";
        return d;
    }
    if (vault.sources.empty()) {
        d.reason = "no folders are set to back up into it (cofferctl register --source)";
        return d;
    }
    if (!medium.mounted()) {
        d.action = PlugAction::NeedsMount;
        d.reason = "the drive is not mounted";
        return d;
    }
    const std::optional<std::string> file = vaultFileOn(medium, vault.path);
    if (!file) {
        d.reason = "its registered path is not a path on the drive";
        return d;
    }
    d.file = *file;
    // A key file the registry names but does not give cannot be read: ask for the passphrase.
    if (d.secret == SecretSource::KeyFile && vault.keyFile.empty())
        d.secret = SecretSource::Prompt;
    const bool needsPassphrase = d.secret == SecretSource::Prompt;
    if (vault.trigger == Trigger::Ask) {
        d.action = interactive ? PlugAction::Ask : PlugAction::CannotAsk;
        if (!interactive)
            d.reason = "it is set to ask before a backup, and there is no terminal to ask on";
        return d;
    }
    if (needsPassphrase && !interactive) {
        d.action = PlugAction::CannotAsk;
        d.reason = "it needs a passphrase, and there is no terminal to ask for it "
                   "(register it with --keyfile, or with --keyring)";
        return d;
    }
    d.action = PlugAction::BackUp;
    return d;
}

} // namespace Coffer::Config
