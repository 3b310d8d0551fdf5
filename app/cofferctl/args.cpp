#include "args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace Coffer::Ctl {

std::vector<Option> operator+(std::vector<Option> a, const std::vector<Option> &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::vector<Option> passphraseOptions{{"--passphrase-file", "a file"},
                                            {"--passphrase-fd", "a file descriptor number"}};

Args::Args(int argc, char **argv, const std::vector<Option> &options)
    : m_options(options)
{
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0 || arg == "--") {
            m_positional.push_back(arg);
            continue;
        }
        std::string value;
        const size_t eq = arg.find('=');
        const bool inlineValue = eq != std::string::npos;
        if (inlineValue) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
        }
        const auto option = std::find_if(options.begin(), options.end(),
                                         [&](const Option &o) { return o.name == arg; });
        if (option == options.end())
            throw UsageError{"unknown option " + arg};
        if (option->needs.empty()) {
            if (inlineValue)
                throw UsageError{arg + " takes no value"};
            m_flags.push_back(arg);
            continue;
        }
        if (!inlineValue) {
            if (i + 1 >= argc)
                throw UsageError{arg + " needs " + std::string(option->needs)};
            value = argv[++i];
        }
        m_values.emplace_back(arg, value);
    }
}

bool Args::has(std::string_view flag) const
{
    return std::find(m_flags.begin(), m_flags.end(), flag) != m_flags.end();
}

std::string Args::value(std::string_view name, const std::string &fallback) const
{
    for (const auto &[key, value] : m_values) {
        if (key == name)
            return value;
    }
    return fallback;
}

std::vector<std::string> Args::all(std::string_view name) const
{
    std::vector<std::string> out;
    for (const auto &[key, value] : m_values) {
        if (key == name)
            out.push_back(value);
    }
    return out;
}

uint64_t Args::number(std::string_view name, uint64_t fallback, uint64_t max) const
{
    const auto given = std::find_if(m_values.begin(), m_values.end(),
                                    [&](const auto &v) { return v.first == name; });
    if (given == m_values.end())
        return fallback;
    const std::string &text = given->second;
    char *end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || errno || *end || n > max) {
        const auto option = std::find_if(m_options.begin(), m_options.end(),
                                         [&](const Option &o) { return o.name == name; });
        throw UsageError{std::string(name) + " needs " + std::string(option->needs)};
    }
    return n;
}

} // namespace Coffer::Ctl
