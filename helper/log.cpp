#include "log.h"

#include <QDateTime>
#include <QFile>
#include <QMutex>

#include <unistd.h>

namespace Coffer::Helper::Log {

namespace {

QMutex g_mutex;
QString g_file;

bool needsEscape(QChar c)
{
    switch (c.category()) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Other_Surrogate:
    case QChar::Separator_Line:
    case QChar::Separator_Paragraph:
        return true;
    default:
        return false;
    }
}

} // namespace

void setFile(const QString &path)
{
    const QMutexLocker lock(&g_mutex);
    g_file = path;
}

QString escaped(const QString &text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        if (c == QLatin1Char('\\'))
            out += QLatin1String("\\\\");
        else if (c == QLatin1Char('\n'))
            out += QLatin1String("\\n");
        else if (c == QLatin1Char('\r'))
            out += QLatin1String("\\r");
        else if (c == QLatin1Char('\t'))
            out += QLatin1String("\\t");
        else if (!needsEscape(c))
            out += c;
        else if (c.unicode() < 0x100)
            out += QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'));
        else
            out += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
    }
    return out;
}

void write(const QString &text)
{
    const QByteArray line = QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toUtf8()
                            + " coffer-helper: " + escaped(text).toUtf8() + '\n';
    const QMutexLocker lock(&g_mutex);
    (void)!::write(STDERR_FILENO, line.constData(), size_t(line.size()));
    if (!g_file.isEmpty()) {
        QFile file(g_file);
        if (file.open(QIODevice::Append))
            file.write(line);
    }
}

} // namespace Coffer::Helper::Log
