#include "sync/runcontext.h"

#include "error.h"

#include <unistd.h>

#include <cstring>

namespace Coffer::Sync {

namespace {

constexpr size_t MaxWarnings = 1000;

std::string hexName(std::string_view name)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : name) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

} // namespace

void throwDest(int err, const std::string &what)
{
    throw Error::fromErrno(err, what);
}

RunContext::RunContext(const Options &opt, const ProgressCallback &progressCb, const std::atomic<bool> *cancel)
    : options(opt)
    , excludes(opt.excludes)
    , root(::geteuid() == 0)
    , m_progressCb(progressCb)
    , m_cancel(cancel)
{
}

void RunContext::warn(std::string path, std::string message, int err, bool partial)
{
    std::lock_guard<std::mutex> guard(m_warnLock);
    if (partial)
        m_partial = true;
    if (result.warnings.size() >= MaxWarnings) {
        ++result.warningsDropped;
        return;
    }
    if (err)
        message += std::string(": ") + std::strerror(err);
    result.warnings.push_back({std::move(path), std::move(message), err});
}

bool RunContext::partial()
{
    std::lock_guard<std::mutex> guard(m_warnLock);
    return m_partial;
}

void RunContext::report(Phase phase, const Job *job, uint32_t idx, bool force)
{
    if (!m_progressCb)
        return;
    const auto now = std::chrono::steady_clock::now();
    const bool phaseChange = phase != progress.phase;
    if (!force && !phaseChange
        && now - m_lastReport < std::chrono::milliseconds(options.progressIntervalMs))
        return;
    m_lastReport = now;
    progress.phase = phase;
    progress.currentItem = job ? (idx == NoNode ? job->source.name : itemPath(*job, idx)) : std::string();
    m_progressCb(progress);
}

uint64_t RunContext::optionsHash() const
{
    std::string key = "v1;";
    key += options.mode == Mode::Mirror ? 'm' : 's';
    key += options.xattrs ? 'x' : '-';
    key += root ? 'r' : 'u';
    for (const std::string &e : options.excludes) {
        key += '\0';
        key += e;
    }
    return fnv1a(key.data(), key.size());
}

std::string RunContext::manifestName(const Job &job) const
{
    return std::string(options.mode == Mode::Mirror ? "mirror-" : "snapshot-") + hexName(job.source.name)
        + ".manifest";
}

} // namespace Coffer::Sync
