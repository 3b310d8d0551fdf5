// coffer: the desktop app (issue 13). One per session (org.coffer.Coffer on the session bus: a
// second start raises the first's window); --minimized starts in the tray only (the autostart
// entry); it quits only from its menu.

#include "icons.h"
#include "shell.h"
#include "singleinstance.h"
#include "translations.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDBusConnection>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    Coffer::Ui::installTranslations();
    QApplication::setApplicationName(QStringLiteral("coffer"));
    QApplication::setApplicationDisplayName(QApplication::translate("main", "Coffer"));
    QApplication::setApplicationVersion(QStringLiteral(COFFER_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.coffer.Coffer"));
    QApplication::setQuitOnLastWindowClosed(false);
    QApplication::setWindowIcon(Coffer::Ui::Icons::application());

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate("main", "Encrypted backups of your secrets to USB drives."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption minimized(QStringLiteral("minimized"),
                                       QApplication::translate("main", "Start in the tray, without the window."));
    parser.addOption(minimized);
    parser.process(app);

    const QDBusConnection session = QDBusConnection::sessionBus();
    Coffer::Ui::SingleInstance instance(session);
    if (instance.claim() == Coffer::Ui::SingleInstance::Claim::AlreadyRunning)
        return instance.activateRunning() ? 0 : 1;

    Coffer::Ui::Shell shell(QDBusConnection::systemBus(), session, {parser.isSet(minimized)});
    QObject::connect(&instance, &Coffer::Ui::SingleInstance::activated, &shell, &Coffer::Ui::Shell::activate);
    QObject::connect(&instance, &Coffer::Ui::SingleInstance::quitRequested, &app, &QApplication::quit);
    QObject::connect(&shell, &Coffer::Ui::Shell::quitRequested, &app, &QApplication::quit);
    return app.exec();
}
