#include "client/holders.h"

#include <QRegularExpression>

namespace Coffer::Client {

BusyReport holdersFromBusyError(const Error &error)
{
    BusyReport report;
    if (error.code() != ErrorCode::Busy)
        return report;
    const QString message = QString::fromStdString(error.message());
    report.otherUsers = message.contains(QLatin1String("programs of other users"));
    report.incomplete = message.contains(QLatin1String("maybe others"));

    // Each holder is "NAME (pid N, WHAT)", joined by ", " after "in use by " or "other users: ".
    // A program's name may hold spaces; what it holds never holds parentheses.
    static const QRegularExpression entry(QStringLiteral("\\(pid (\\d+), ([^()]*)\\)"));
    static const QRegularExpression lead(QStringLiteral("(?:other users: | in use by (?!programs of other users))"));
    qsizetype from = -1;
    for (auto it = entry.globalMatch(message); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        qsizetype start = from;
        if (start < 0) {
            const QRegularExpressionMatch before = lead.match(message);
            if (!before.hasMatch() || before.capturedStart() > m.capturedStart())
                break;
            start = before.capturedEnd();
        } else if (message.mid(start, 2) == QLatin1String(", ")) {
            start += 2;
        } else {
            break; // not a list any more
        }
        Holder h;
        h.name = message.mid(start, m.capturedStart() - start).trimmed();
        h.pid = m.captured(1).toUInt();
        h.what = m.captured(2).trimmed();
        if (h.name.isEmpty() || !h.pid)
            break;
        report.holders << h;
        from = m.capturedEnd();
    }
    return report;
}

} // namespace Coffer::Client
