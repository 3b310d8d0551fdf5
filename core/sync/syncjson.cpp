#include "sync/syncengine.h"

#include <charconv>
#include <cstring>
#include <map>
#include <memory>

// JSON lines for progress, results, errors and options. Written by hand rather than with
// QJsonDocument because names are bytes: invalid UTF-8 travels as "\udcXX" escapes
// (surrogateescape) and comes back byte for byte.

namespace Coffer::Sync {

namespace {

// --- writing ---------------------------------------------------------------------------------

size_t utf8Length(const unsigned char *p, size_t left)
{
    const unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < len)
        return 0;
    for (size_t i = 1; i < len; ++i) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void putString(std::string &out, std::string_view s)
{
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            }
            ++i;
        } else if (c < 0x80) {
            out += char(c);
            ++i;
        } else {
            const size_t len = utf8Length(p + i, s.size() - i);
            if (len == 0) {
                out += "\\udc";
                out += hex[c >> 4];
                out += hex[c & 15];
                ++i;
            } else {
                out.append(s.data() + i, len);
                i += len;
            }
        }
    }
    out += '"';
}

class Obj
{
public:
    explicit Obj(std::string &out) : m_out(out) { m_out += '{'; }
    void key(std::string_view k)
    {
        if (!m_first)
            m_out += ',';
        m_first = false;
        putString(m_out, k);
        m_out += ':';
    }
    void str(std::string_view k, std::string_view v)
    {
        key(k);
        putString(m_out, v);
    }
    void num(std::string_view k, uint64_t v)
    {
        key(k);
        m_out += std::to_string(v);
    }
    void inum(std::string_view k, int64_t v)
    {
        key(k);
        m_out += std::to_string(v);
    }
    void boolean(std::string_view k, bool v)
    {
        key(k);
        m_out += v ? "true" : "false";
    }
    void end() { m_out += '}'; }

private:
    std::string &m_out;
    bool m_first = true;
};

std::string_view actionName(PlanAction a)
{
    switch (a) {
    case PlanAction::Add: return "add";
    case PlanAction::Update: return "update";
    case PlanAction::Metadata: return "metadata";
    case PlanAction::Delete: return "delete";
    }
    return "add";
}

// --- parsing ---------------------------------------------------------------------------------

struct Value
{
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    bool b = false;
    std::string text; // string value or number's text
    std::vector<Value> items;
    std::vector<std::pair<std::string, Value>> fields;

    const Value *get(std::string_view k) const
    {
        for (const auto &[name, v] : fields)
            if (name == k)
                return &v;
        return nullptr;
    }
};

[[noreturn]] void bad(const char *why)
{
    throw Error(ErrorCode::InvalidArgument, std::string("Malformed sync message: ") + why + ".");
}

class Parser
{
public:
    explicit Parser(std::string_view s) : m_s(s) {}
    Value parse()
    {
        Value v = value(0);
        ws();
        if (m_i != m_s.size())
            bad("trailing characters");
        return v;
    }

private:
    void ws()
    {
        while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\t' || m_s[m_i] == '\n' || m_s[m_i] == '\r'))
            ++m_i;
    }
    bool lit(std::string_view w)
    {
        if (m_s.substr(m_i, w.size()) == w) {
            m_i += w.size();
            return true;
        }
        return false;
    }
    Value value(int depth)
    {
        if (depth > 16)
            bad("nested too deeply");
        ws();
        if (m_i >= m_s.size())
            bad("unexpected end");
        Value v;
        const char c = m_s[m_i];
        if (c == '{') {
            v.kind = Value::Object;
            ++m_i;
            ws();
            if (m_i < m_s.size() && m_s[m_i] == '}') {
                ++m_i;
                return v;
            }
            for (;;) {
                ws();
                if (m_i >= m_s.size() || m_s[m_i] != '"')
                    bad("expected a key");
                std::string k = string();
                ws();
                if (m_i >= m_s.size() || m_s[m_i] != ':')
                    bad("expected ':'");
                ++m_i;
                v.fields.emplace_back(std::move(k), value(depth + 1));
                ws();
                if (m_i < m_s.size() && m_s[m_i] == ',') {
                    ++m_i;
                    continue;
                }
                if (m_i < m_s.size() && m_s[m_i] == '}') {
                    ++m_i;
                    return v;
                }
                bad("expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.kind = Value::Array;
            ++m_i;
            ws();
            if (m_i < m_s.size() && m_s[m_i] == ']') {
                ++m_i;
                return v;
            }
            for (;;) {
                v.items.push_back(value(depth + 1));
                ws();
                if (m_i < m_s.size() && m_s[m_i] == ',') {
                    ++m_i;
                    continue;
                }
                if (m_i < m_s.size() && m_s[m_i] == ']') {
                    ++m_i;
                    return v;
                }
                bad("expected ',' or ']'");
            }
        }
        if (c == '"') {
            v.kind = Value::String;
            v.text = string();
            return v;
        }
        if (lit("true")) {
            v.kind = Value::Bool;
            v.b = true;
            return v;
        }
        if (lit("false")) {
            v.kind = Value::Bool;
            return v;
        }
        if (lit("null"))
            return v;
        const size_t start = m_i;
        while (m_i < m_s.size() && (std::strchr("+-0123456789.eE", m_s[m_i]) != nullptr))
            ++m_i;
        if (m_i == start)
            bad("unexpected character");
        v.kind = Value::Number;
        v.text = std::string(m_s.substr(start, m_i - start));
        return v;
    }
    unsigned hex4()
    {
        if (m_i + 4 > m_s.size())
            bad("short \\u escape");
        unsigned v = 0;
        for (int k = 0; k < 4; ++k) {
            const char h = m_s[m_i++];
            v <<= 4;
            if (h >= '0' && h <= '9')
                v |= unsigned(h - '0');
            else if (h >= 'a' && h <= 'f')
                v |= unsigned(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                v |= unsigned(h - 'A' + 10);
            else
                bad("bad \\u escape");
        }
        return v;
    }
    static void putUtf8(std::string &out, uint32_t cp)
    {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += char(0xe0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        } else {
            out += char(0xf0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3f));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        }
    }
    std::string string()
    {
        ++m_i; // '"'
        std::string out;
        for (;;) {
            if (m_i >= m_s.size())
                bad("unterminated string");
            const char c = m_s[m_i++];
            if (c == '"')
                return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (m_i >= m_s.size())
                bad("unterminated escape");
            const char e = m_s[m_i++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                uint32_t cp = hex4();
                if (cp >= 0xdc80 && cp <= 0xdcff) {
                    out += char(cp & 0xff); // surrogateescape: one raw byte
                    break;
                }
                if (cp >= 0xd800 && cp <= 0xdbff && m_s.substr(m_i, 2) == "\\u") {
                    m_i += 2;
                    const uint32_t lo = hex4();
                    if (lo < 0xdc00 || lo > 0xdfff)
                        bad("bad surrogate pair");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xd800 && cp <= 0xdfff) {
                    bad("lone surrogate");
                }
                putUtf8(out, cp);
                break;
            }
            default: bad("unknown escape");
            }
        }
    }
    std::string_view m_s;
    size_t m_i = 0;
};

uint64_t getU(const Value &o, std::string_view k)
{
    const Value *v = o.get(k);
    if (!v)
        return 0;
    if (v->kind != Value::Number)
        bad("a number was expected");
    uint64_t out = 0;
    const auto r = std::from_chars(v->text.data(), v->text.data() + v->text.size(), out);
    if (r.ec != std::errc() || r.ptr != v->text.data() + v->text.size())
        bad("not an unsigned integer");
    return out;
}

int64_t getI(const Value &o, std::string_view k)
{
    const Value *v = o.get(k);
    if (!v)
        return 0;
    if (v->kind != Value::Number)
        bad("a number was expected");
    int64_t out = 0;
    const auto r = std::from_chars(v->text.data(), v->text.data() + v->text.size(), out);
    if (r.ec != std::errc() || r.ptr != v->text.data() + v->text.size())
        bad("not an integer");
    return out;
}

std::string getS(const Value &o, std::string_view k)
{
    const Value *v = o.get(k);
    if (!v)
        return {};
    if (v->kind != Value::String)
        bad("a string was expected");
    return v->text;
}

bool getB(const Value &o, std::string_view k)
{
    const Value *v = o.get(k);
    if (!v)
        return false;
    if (v->kind != Value::Bool)
        bad("a boolean was expected");
    return v->b;
}

const std::vector<Value> &getA(const Value &o, std::string_view k)
{
    static const std::vector<Value> none;
    const Value *v = o.get(k);
    if (!v)
        return none;
    if (v->kind != Value::Array)
        bad("an array was expected");
    return v->items;
}

} // namespace

std::string_view phaseName(Phase phase)
{
    switch (phase) {
    case Phase::Scan: return "scan";
    case Phase::Copy: return "copy";
    case Phase::Delete: return "delete";
    case Phase::Flush: return "flush";
    case Phase::Done: return "done";
    }
    return "scan";
}

std::string_view outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Complete: return "complete";
    case Outcome::Partial: return "partial";
    case Outcome::Cancelled: return "cancelled";
    }
    return "complete";
}

std::string toJsonLine(const Progress &p)
{
    std::string out;
    Obj o(out);
    o.str("type", "progress");
    o.str("phase", phaseName(p.phase));
    o.num("filesDone", p.filesDone);
    o.num("filesTotal", p.filesTotal);
    o.num("bytesDone", p.bytesDone);
    o.num("bytesTotal", p.bytesTotal);
    o.str("item", p.currentItem);
    o.end();
    out += '\n';
    return out;
}

std::string toJsonLine(const Result &r)
{
    std::string out;
    Obj o(out);
    o.str("type", "result");
    o.str("outcome", outcomeName(r.outcome));
    o.boolean("dryRun", r.dryRun);
    o.boolean("durable", r.durable);
    o.boolean("usedManifest", r.usedManifest);
    o.str("snapshot", r.snapshot);
    o.num("filesScanned", r.filesScanned);
    o.num("filesCopied", r.filesCopied);
    o.num("filesLinked", r.filesLinked);
    o.num("filesDeleted", r.filesDeleted);
    o.num("itemsUpdated", r.itemsUpdated);
    o.num("bytesCopied", r.bytesCopied);
    o.num("warningsDropped", r.warningsDropped);
    o.key("warnings");
    out += '[';
    for (size_t i = 0; i < r.warnings.size(); ++i) {
        if (i)
            out += ',';
        Obj w(out);
        w.str("path", r.warnings[i].path);
        w.str("message", r.warnings[i].message);
        w.inum("errno", r.warnings[i].sysErrno);
        w.end();
    }
    out += ']';
    o.key("snapshotsRemoved");
    out += '[';
    for (size_t i = 0; i < r.snapshotsRemoved.size(); ++i) {
        if (i)
            out += ',';
        putString(out, r.snapshotsRemoved[i]);
    }
    out += ']';
    o.key("plan");
    {
        const Plan &p = r.plan;
        Obj q(out);
        q.num("added", p.added);
        q.num("updated", p.updated);
        q.num("metadataOnly", p.metadataOnly);
        q.num("deleted", p.deleted);
        q.num("unchanged", p.unchanged);
        q.num("bytesToWrite", p.bytesToWrite);
        q.num("bytesToDelete", p.bytesToDelete);
        q.num("bytesFree", p.bytesFree);
        q.boolean("fits", p.fits);
        q.key("items");
        out += '[';
        for (size_t i = 0; i < p.items.size(); ++i) {
            if (i)
                out += ',';
            Obj it(out);
            it.str("action", actionName(p.items[i].action));
            it.str("type", std::string(1, p.items[i].type));
            it.str("path", p.items[i].path);
            it.num("bytes", p.items[i].bytes);
            it.end();
        }
        out += ']';
        q.end();
    }
    o.end();
    out += '\n';
    return out;
}

std::string toJsonLine(const ErrorReport &e)
{
    std::string out;
    Obj o(out);
    o.str("type", "error");
    o.str("code", errorCodeName(e.code));
    o.inum("errno", e.sysErrno);
    o.str("message", e.message);
    o.end();
    out += '\n';
    return out;
}

std::string toJsonLine(const Options &opt)
{
    std::string out;
    Obj o(out);
    o.str("type", "options");
    o.key("sources");
    out += '[';
    for (size_t i = 0; i < opt.sources.size(); ++i) {
        if (i)
            out += ',';
        Obj s(out);
        s.str("path", opt.sources[i].path);
        s.str("name", opt.sources[i].name);
        s.end();
    }
    out += ']';
    o.str("destination", opt.destination);
    o.str("mode", opt.mode == Mode::Mirror ? "mirror" : "snapshot");
    o.key("excludes");
    out += '[';
    for (size_t i = 0; i < opt.excludes.size(); ++i) {
        if (i)
            out += ',';
        putString(out, opt.excludes[i]);
    }
    out += ']';
    o.boolean("dryRun", opt.dryRun);
    o.boolean("checksum", opt.checksum);
    o.boolean("xattrs", opt.xattrs);
    o.boolean("durable", opt.durable);
    o.boolean("useManifest", opt.useManifest);
    o.inum("keepLast", opt.retention.keepLast);
    o.inum("keepDaily", opt.retention.keepDaily);
    o.inum("keepWeekly", opt.retention.keepWeekly);
    o.inum("progressIntervalMs", opt.progressIntervalMs);
    o.end();
    out += '\n';
    return out;
}

ErrorReport errorReport(const Error &error)
{
    return {error.code(), error.sysErrno(), error.message()};
}

Message parseJsonLine(std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    if (line.size() > (64u << 20))
        bad("line too long");
    const Value v = Parser(line).parse();
    if (v.kind != Value::Object)
        bad("not an object");
    const std::string type = getS(v, "type");
    if (type == "progress") {
        Progress p;
        const std::string phase = getS(v, "phase");
        bool known = false;
        for (Phase ph : {Phase::Scan, Phase::Copy, Phase::Delete, Phase::Flush, Phase::Done})
            if (phaseName(ph) == phase) {
                p.phase = ph;
                known = true;
            }
        if (!known)
            bad("unknown phase");
        p.filesDone = getU(v, "filesDone");
        p.filesTotal = getU(v, "filesTotal");
        p.bytesDone = getU(v, "bytesDone");
        p.bytesTotal = getU(v, "bytesTotal");
        p.currentItem = getS(v, "item");
        return p;
    }
    if (type == "result") {
        Result r;
        const std::string outcome = getS(v, "outcome");
        if (outcome == "complete")
            r.outcome = Outcome::Complete;
        else if (outcome == "partial")
            r.outcome = Outcome::Partial;
        else if (outcome == "cancelled")
            r.outcome = Outcome::Cancelled;
        else
            bad("unknown outcome");
        r.dryRun = getB(v, "dryRun");
        r.durable = getB(v, "durable");
        r.usedManifest = getB(v, "usedManifest");
        r.snapshot = getS(v, "snapshot");
        r.filesScanned = getU(v, "filesScanned");
        r.filesCopied = getU(v, "filesCopied");
        r.filesLinked = getU(v, "filesLinked");
        r.filesDeleted = getU(v, "filesDeleted");
        r.itemsUpdated = getU(v, "itemsUpdated");
        r.bytesCopied = getU(v, "bytesCopied");
        r.warningsDropped = getU(v, "warningsDropped");
        for (const Value &w : getA(v, "warnings")) {
            if (w.kind != Value::Object)
                bad("a warning is not an object");
            r.warnings.push_back({getS(w, "path"), getS(w, "message"), int(getI(w, "errno"))});
        }
        for (const Value &s : getA(v, "snapshotsRemoved")) {
            if (s.kind != Value::String)
                bad("a snapshot name is not a string");
            r.snapshotsRemoved.push_back(s.text);
        }
        if (const Value *p = v.get("plan")) {
            if (p->kind != Value::Object)
                bad("the plan is not an object");
            r.plan.added = getU(*p, "added");
            r.plan.updated = getU(*p, "updated");
            r.plan.metadataOnly = getU(*p, "metadataOnly");
            r.plan.deleted = getU(*p, "deleted");
            r.plan.unchanged = getU(*p, "unchanged");
            r.plan.bytesToWrite = getU(*p, "bytesToWrite");
            r.plan.bytesToDelete = getU(*p, "bytesToDelete");
            r.plan.bytesFree = getU(*p, "bytesFree");
            r.plan.fits = getB(*p, "fits");
            for (const Value &it : getA(*p, "items")) {
                if (it.kind != Value::Object)
                    bad("a plan item is not an object");
                PlanItem item;
                const std::string a = getS(it, "action");
                if (a == "add")
                    item.action = PlanAction::Add;
                else if (a == "update")
                    item.action = PlanAction::Update;
                else if (a == "metadata")
                    item.action = PlanAction::Metadata;
                else if (a == "delete")
                    item.action = PlanAction::Delete;
                else
                    bad("unknown plan action");
                const std::string t = getS(it, "type");
                item.type = t.size() == 1 ? t[0] : '?';
                item.path = getS(it, "path");
                item.bytes = getU(it, "bytes");
                r.plan.items.push_back(std::move(item));
            }
        }
        return r;
    }
    if (type == "error") {
        ErrorReport e;
        e.code = errorCodeFromName(getS(v, "code")).value_or(ErrorCode::Failed); // a name from a newer child
        e.sysErrno = int(getI(v, "errno"));
        e.message = getS(v, "message");
        return e;
    }
    if (type == "options") {
        Options o;
        for (const Value &s : getA(v, "sources")) {
            if (s.kind != Value::Object)
                bad("a source is not an object");
            o.sources.push_back({getS(s, "path"), getS(s, "name")});
        }
        o.destination = getS(v, "destination");
        const std::string mode = getS(v, "mode");
        if (mode == "mirror" || mode.empty())
            o.mode = Mode::Mirror;
        else if (mode == "snapshot")
            o.mode = Mode::Snapshot;
        else
            bad("unknown mode");
        for (const Value &e : getA(v, "excludes")) {
            if (e.kind != Value::String)
                bad("an exclude is not a string");
            o.excludes.push_back(e.text);
        }
        o.dryRun = getB(v, "dryRun");
        o.checksum = getB(v, "checksum");
        o.xattrs = v.get("xattrs") ? getB(v, "xattrs") : true;
        o.durable = v.get("durable") ? getB(v, "durable") : true;
        o.useManifest = v.get("useManifest") ? getB(v, "useManifest") : true;
        o.retention.keepLast = int(getI(v, "keepLast"));
        o.retention.keepDaily = int(getI(v, "keepDaily"));
        o.retention.keepWeekly = int(getI(v, "keepWeekly"));
        o.progressIntervalMs = v.get("progressIntervalMs") ? int(getI(v, "progressIntervalMs")) : 100;
        return o;
    }
    bad("unknown message type");
}

} // namespace Coffer::Sync
