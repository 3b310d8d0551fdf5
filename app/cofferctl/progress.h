#pragma once

// cofferctl's progress: one line on a terminal's standard error, redrawn in place; and the
// watching of a helper job to its end.

#include "client/jobhandle.h"

#include <string>
#include <string_view>

namespace Coffer::Ctl {

// Draws nothing unless standard error is a terminal (and `wanted`).
class ProgressLine
{
public:
    explicit ProgressLine(bool wanted = true);
    ~ProgressLine();
    ProgressLine(const ProgressLine &) = delete;
    ProgressLine &operator=(const ProgressLine &) = delete;

    // `text`, then as much of `item` (a path) as still fits on the line.
    void show(std::string text, std::string_view item = {});
    void clear();

private:
    bool m_enabled;
    bool m_shown = false;
};

// Watches `job` to its end: a progress bar labelled `what` on a terminal, or with `json` one JSON
// object per line on standard output (type "progress", a sync's "result", then "completed").
// SIGINT and SIGTERM ask the helper to cancel. Prints the helper's note on a partial outcome and
// the error of a failed one ("cofferctl: WHAT failed: ..."; not with `json`). Returns the exit
// code (Ok, Partial, or the error's) and the job's result in *result if asked. Throws the error
// of a job the helper did not accept.
int watchJob(Client::JobHandle *job, const char *what, bool json, Client::JobResult *result = nullptr);

} // namespace Coffer::Ctl
