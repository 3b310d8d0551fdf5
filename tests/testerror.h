#pragma once

// What a call threw, for tests: the kind of the Coffer::Error (or NoError if it returned), and
// its message.

#include "error.h"

#include <string>
#include <utility>

namespace Coffer::Test {

constexpr ErrorCode NoError = ErrorCode(-1);

template<typename F>
ErrorCode codeOf(F &&f)
{
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return NoError;
}

// Whether the call threw a Coffer::Error of any kind.
template<typename F>
bool throwsError(F &&f)
{
    return codeOf(std::forward<F>(f)) != NoError;
}

// The message of the Coffer::Error the call threw, or "" if it returned.
template<typename F>
std::string messageOf(F &&f)
{
    try {
        f();
    } catch (const Error &e) {
        return e.message();
    }
    return {};
}

} // namespace Coffer::Test
