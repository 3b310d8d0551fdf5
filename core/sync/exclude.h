#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace Coffer::Sync {

// rsync-style exclude rules (the subset `--exclude PATTERN` takes):
// - a trailing '/' matches directories only;
// - a leading '/' anchors the pattern at the source's root;
// - a pattern without '/' (after those) matches the last component of a path;
// - otherwise it matches the path's tail at a component boundary; a leading "**" may also match
//   at the very start ("**/cache/" excludes "cache/" at the top too, as rsync does);
// - wildcards: '*' (not '/'), '**' (anything), '?' (one char, not '/'), "[a-z]", "[!x]", '\' escapes.
class ExcludeRules
{
public:
    ExcludeRules() = default;
    explicit ExcludeRules(const std::vector<std::string> &patterns);

    bool empty() const { return m_rules.empty(); }
    // relPath: path relative to the source root, no leading '/', components separated by '/'.
    bool excluded(std::string_view relPath, bool isDirectory) const;

private:
    struct Rule
    {
        std::string pattern;
        bool dirOnly = false;
        bool anchored = false;
        bool wholePath = false; // contains '/' or "**": matched against the (tail of the) path
        bool leadingStars = false;
    };
    std::vector<Rule> m_rules;
};

// Shell-style match with rsync's wildcard rules (exposed for tests).
bool wildMatch(std::string_view pattern, std::string_view text);

} // namespace Coffer::Sync
