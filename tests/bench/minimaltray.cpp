// bench-tray's baseline: the smallest Qt tray application there is (an icon, a menu with Quit),
// built with the same compiler and flags as coffer, to compare coffer's idle memory and wake-ups
// against.

#include <QApplication>
#include <QMenu>
#include <QStyle>
#include <QSystemTrayIcon>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setQuitOnLastWindowClosed(false);
    QSystemTrayIcon tray(app.style()->standardIcon(QStyle::SP_DriveHDIcon));
    QMenu menu;
    menu.addAction(QStringLiteral("Quit"), &app, &QApplication::quit);
    tray.setContextMenu(&menu);
    tray.setToolTip(QStringLiteral("minimal tray"));
    tray.show();
    return app.exec();
}
