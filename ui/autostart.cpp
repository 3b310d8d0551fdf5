#include "autostart.h"

#include "error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace Coffer::Ui {

namespace {

QString configHome()
{
    const QString xdg = qEnvironmentVariable("XDG_CONFIG_HOME");
    return QDir::isAbsolutePath(xdg) ? xdg : QDir::homePath() + QStringLiteral("/.config");
}

// An entry takes effect unless it says Hidden=true (or GNOME's X-GNOME-Autostart-enabled=false).
bool entryEnabled(const QString &file)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    bool inEntry = false;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        if (line.startsWith('['))
            inEntry = line == "[Desktop Entry]";
        else if (inEntry && (line == "Hidden=true" || line == "X-GNOME-Autostart-enabled=false"))
            return false;
    }
    return true;
}

void write(const QString &file, const QByteArray &contents)
{
    if (!QDir().mkpath(QFileInfo(file).path()))
        throw Error(ErrorCode::Failed, "Cannot make the folder of " + file.toStdString() + ".");
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly) || out.write(contents) != contents.size() || !out.commit())
        throw Error(ErrorCode::Failed, "Cannot write " + file.toStdString() + ": " + out.errorString().toStdString());
}

void remove(const QString &file)
{
    QFile f(file);
    if (f.exists() && !f.remove())
        throw Error(ErrorCode::Failed, "Cannot remove " + file.toStdString() + ": " + f.errorString().toStdString());
}

} // namespace

QString Autostart::userEntry()
{
    return configHome() + QStringLiteral("/autostart/") + QLatin1String(FileName);
}

QString Autostart::systemEntry()
{
    QString dirs = qEnvironmentVariable("XDG_CONFIG_DIRS");
    if (dirs.isEmpty())
        dirs = QStringLiteral("/etc/xdg");
    for (const QString &dir : dirs.split(QLatin1Char(':'), Qt::SkipEmptyParts)) {
        const QString file = dir + QStringLiteral("/autostart/") + QLatin1String(FileName);
        if (QDir::isAbsolutePath(dir) && QFileInfo::exists(file))
            return file;
    }
    return {};
}

bool Autostart::isEnabled()
{
    if (QFileInfo::exists(userEntry()))
        return entryEnabled(userEntry());
    const QString system = systemEntry();
    return !system.isEmpty() && entryEnabled(system);
}

void Autostart::setEnabled(bool enabled)
{
    const bool system = !systemEntry().isEmpty() && entryEnabled(systemEntry());
    if (enabled == system) {
        remove(userEntry());
        return;
    }
    if (!enabled) {
        write(userEntry(), "[Desktop Entry]\nType=Application\nName=Coffer\nExec=coffer --minimized\nHidden=true\n");
        return;
    }
    // The packaged entry itself (built in from packaging/desktop), so both say the same.
    QFile packaged(QStringLiteral(":/autostart/org.coffer.Coffer.desktop"));
    if (!packaged.open(QIODevice::ReadOnly))
        throw Error(ErrorCode::Failed, "The autostart entry is missing from this build of Coffer.");
    write(userEntry(), packaged.readAll());
}

} // namespace Coffer::Ui
