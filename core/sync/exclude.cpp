#include "sync/exclude.h"

#include "error.h"

namespace Coffer::Sync {

namespace {

// Matches a bracket expression at p (p[0] == '['), returns the position after ']' or npos if
// malformed; `matched` says whether c is in the set.
size_t matchClass(std::string_view p, size_t i, unsigned char c, bool &matched)
{
    ++i; // '['
    bool negate = false;
    if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
        negate = true;
        ++i;
    }
    bool found = false;
    bool first = true;
    while (i < p.size() && (p[i] != ']' || first)) {
        first = false;
        unsigned char lo = static_cast<unsigned char>(p[i]);
        if (lo == '\\' && i + 1 < p.size())
            lo = static_cast<unsigned char>(p[++i]);
        unsigned char hi = lo;
        if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
            hi = static_cast<unsigned char>(p[i + 2]);
            if (hi == '\\' && i + 3 < p.size()) {
                hi = static_cast<unsigned char>(p[i + 3]);
                ++i;
            }
            i += 2;
        }
        if (c >= lo && c <= hi)
            found = true;
        ++i;
    }
    if (i >= p.size())
        return std::string_view::npos;
    matched = found != negate;
    return i + 1;
}

bool match(std::string_view p, std::string_view t)
{
    size_t pi = 0, ti = 0;
    while (pi < p.size()) {
        const char pc = p[pi];
        if (pc == '*') {
            const bool doubleStar = pi + 1 < p.size() && p[pi + 1] == '*';
            while (pi < p.size() && p[pi] == '*')
                ++pi;
            if (pi == p.size())
                return doubleStar || t.find('/', ti) == std::string_view::npos;
            for (size_t k = ti; k <= t.size(); ++k) {
                if (match(p.substr(pi), t.substr(k)))
                    return true;
                if (k < t.size() && t[k] == '/' && !doubleStar)
                    return false;
            }
            return false;
        }
        if (ti >= t.size())
            return false;
        const unsigned char tc = static_cast<unsigned char>(t[ti]);
        if (pc == '?') {
            if (tc == '/')
                return false;
        } else if (pc == '[') {
            bool matched = false;
            const size_t next = matchClass(p, pi, tc, matched);
            if (next == std::string_view::npos) {
                if (tc != '[')
                    return false;
            } else {
                if (!matched || tc == '/')
                    return false;
                pi = next;
                ++ti;
                continue;
            }
        } else if (pc == '\\' && pi + 1 < p.size()) {
            ++pi;
            if (static_cast<unsigned char>(p[pi]) != tc)
                return false;
        } else if (static_cast<unsigned char>(pc) != tc) {
            return false;
        }
        ++pi;
        ++ti;
    }
    return ti == t.size();
}

} // namespace

bool wildMatch(std::string_view pattern, std::string_view text)
{
    return match(pattern, text);
}

ExcludeRules::ExcludeRules(const std::vector<std::string> &patterns)
{
    for (const std::string &raw : patterns) {
        Rule rule;
        std::string p = raw;
        if (p.empty())
            throw Error(ErrorCode::InvalidArgument, "An exclude pattern is empty.");
        while (p.size() > 1 && p.back() == '/') {
            rule.dirOnly = true;
            p.pop_back();
        }
        if (p == "/")
            throw Error(ErrorCode::InvalidArgument, "The exclude pattern \"/\" would exclude everything.");
        if (p.front() == '/') {
            rule.anchored = true;
            p.erase(0, 1);
        }
        rule.wholePath = rule.anchored || p.find('/') != std::string::npos
            || p.find("**") != std::string::npos;
        rule.leadingStars = p.rfind("**", 0) == 0;
        rule.pattern = std::move(p);
        m_rules.push_back(std::move(rule));
    }
}

bool ExcludeRules::excluded(std::string_view relPath, bool isDirectory) const
{
    for (const Rule &rule : m_rules) {
        if (rule.dirOnly && !isDirectory)
            continue;
        if (rule.anchored) {
            if (match(rule.pattern, relPath))
                return true;
            continue;
        }
        if (!rule.wholePath) {
            const size_t slash = relPath.rfind('/');
            const std::string_view last = slash == std::string_view::npos ? relPath : relPath.substr(slash + 1);
            if (match(rule.pattern, last))
                return true;
            continue;
        }
        // Unanchored with '/': the tail of the path at each component boundary.
        if (match(rule.pattern, relPath))
            return true;
        for (size_t i = relPath.find('/'); i != std::string_view::npos; i = relPath.find('/', i + 1)) {
            if (match(rule.pattern, relPath.substr(i + 1)))
                return true;
        }
        if (rule.leadingStars && rule.pattern.size() > 2 && rule.pattern[2] == '/') {
            // rsync lets "**/x" match "x" at the top.
            if (match(std::string_view(rule.pattern).substr(3), relPath))
                return true;
        }
    }
    return false;
}

} // namespace Coffer::Sync
