#pragma once

// cofferctl's one argument parser: --name VALUE, --name=VALUE, --flag and positional arguments,
// against the options a command takes.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Coffer::Ctl {

// A bad command line: main() prints "cofferctl COMMAND: MESSAGE" with a hint and exits with 2.
struct UsageError
{
    std::string message;
};

// An option a command takes: with a value (`needs` says what, for "--size needs a size"), or a
// flag (`needs` empty).
struct Option
{
    std::string_view name;
    std::string_view needs;
};

std::vector<Option> operator+(std::vector<Option> a, const std::vector<Option> &b);

// --passphrase-file F and --passphrase-fd N.
extern const std::vector<Option> passphraseOptions;

class Args
{
public:
    // argv[0] is the command's name. Throws UsageError for an unknown option, a missing value or
    // a value given to a flag.
    Args(int argc, char **argv, const std::vector<Option> &options);

    const std::vector<std::string> &positional() const { return m_positional; }
    bool has(std::string_view flag) const;
    // The option's (first) value, or `fallback`.
    std::string value(std::string_view name, const std::string &fallback = {}) const;
    std::vector<std::string> all(std::string_view name) const;
    // The option's value as a number up to `max`, or `fallback` (UsageError "--x needs ...").
    uint64_t number(std::string_view name, uint64_t fallback, uint64_t max) const;
    // Every option with a value, in command-line order (--source A --as NAME).
    const std::vector<std::pair<std::string, std::string>> &values() const { return m_values; }

private:
    std::vector<Option> m_options;
    std::vector<std::string> m_positional;
    std::vector<std::pair<std::string, std::string>> m_values;
    std::vector<std::string> m_flags;
};

} // namespace Coffer::Ctl
