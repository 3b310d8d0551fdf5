#pragma once

// What the GUI tests (tests/gui, label gui) share: a private X server (Xvfb, started before the
// QApplication, so the widgets run on the real xcb platform with real focus and keyboard
// handling), screenshots of every page and dialog as artifacts (build/screenshots/*.png), and
// the checks every window passes: an accessible name on each control that takes focus, and no
// two mnemonics alike among the controls visible together.

#include <QAbstractButton>
#include <QAccessible>
#include <QApplication>
#include <QDir>
#include <QLabel>
#include <QMap>
#include <QWidget>
#include <QtTest>

#include <csignal>
#include <cstdlib>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace Coffer::Test {

// Xvfb on a display of its own for the test's lifetime; without Xvfb the test stays offscreen.
class Xvfb
{
public:
    Xvfb()
    {
        int fds[2];
        if (::pipe(fds) != 0)
            return;
        const std::string fd = std::to_string(fds[1]);
        const char *argv[] = {"Xvfb", "-displayfd", fd.c_str(), "-screen", "0", "1280x1024x24", "-nolisten", "tcp", nullptr};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        const int rc = posix_spawnp(&m_pid, "Xvfb", &actions, nullptr, const_cast<char **>(argv), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            m_pid = 0;
            ::close(fds[0]);
            return;
        }
        std::string display;
        char c;
        while (::read(fds[0], &c, 1) == 1 && c != '\n')
            display += c;
        ::close(fds[0]);
        if (display.empty())
            return;
        ::setenv("DISPLAY", (":" + display).c_str(), 1);
        ::setenv("QT_QPA_PLATFORM", "xcb", 1);
        ::unsetenv("WAYLAND_DISPLAY");
    }
    ~Xvfb()
    {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    Xvfb(const Xvfb &) = delete;
    Xvfb &operator=(const Xvfb &) = delete;

private:
    pid_t m_pid = 0;
};

inline QString screenshotDir()
{
    return QStringLiteral(COFFER_BINARY_DIR "/screenshots");
}

// Saves what `widget` (its window) shows as <build>/screenshots/<name>.png.
inline void screenshot(QWidget *widget, const QString &name)
{
    QWidget *window = widget->window();
    QVERIFY(window->isVisible());
    QCoreApplication::processEvents();
    QDir().mkpath(screenshotDir());
    QVERIFY(window->grab().save(screenshotDir() + QLatin1Char('/') + name + QStringLiteral(".png")));
}

// Controls under root, visible now, that take the keyboard's focus but have no accessible name.
inline QStringList unnamedControls(QWidget *root)
{
    QStringList out;
    QList<QWidget *> all = root->findChildren<QWidget *>();
    all.prepend(root);
    for (QWidget *w : all) {
        if (!w->isVisibleTo(root->window()) || !w->isEnabled() || !(w->focusPolicy() & Qt::TabFocus) || w->focusProxy())
            continue;
        QAccessibleInterface *a = QAccessible::queryAccessibleInterface(w);
        if (!a || a->text(QAccessible::Name).trimmed().isEmpty())
            out << QStringLiteral("%1 \"%2\"").arg(QString::fromLatin1(w->metaObject()->className()), w->objectName());
    }
    return out;
}

// Mnemonic letters used more than once among the labels and buttons visible in root's window.
inline QStringList mnemonicClashes(QWidget *root)
{
    QMap<QChar, QStringList> seen;
    for (QWidget *w : root->window()->findChildren<QWidget *>()) {
        if (!w->isVisibleTo(root->window()))
            continue;
        QString text;
        if (auto *b = qobject_cast<QAbstractButton *>(w))
            text = b->text();
        else if (auto *l = qobject_cast<QLabel *>(w); l && l->buddy())
            text = l->text();
        const qsizetype amp = text.indexOf(QRegularExpression(QStringLiteral("&[^&]")));
        if (amp >= 0)
            seen[text[amp + 1].toLower()] << text;
    }
    QStringList out;
    for (auto it = seen.begin(); it != seen.end(); ++it) {
        if (it->size() > 1)
            out << it->join(QStringLiteral(" / "));
    }
    return out;
}

// Both checks, for the window as it is shown now.
#define COFFER_CHECK_KEYBOARD_AND_NAMES(widget)                                                                        \
    do {                                                                                                               \
        QCOMPARE(Coffer::Test::unnamedControls(widget), QStringList());                                                \
        QCOMPARE(Coffer::Test::mnemonicClashes(widget), QStringList());                                                \
    } while (false)

} // namespace Coffer::Test

// A QtTest main that runs the widgets under their own Xvfb.
#define COFFER_GUI_TEST_MAIN(TestClass)                                                                                \
    int main(int argc, char **argv)                                                                                    \
    {                                                                                                                  \
        Coffer::Test::Xvfb xvfb;                                                                                       \
        QApplication::setAttribute(Qt::AA_Use96Dpi, true);                                                             \
        QApplication app(argc, argv);                                                                                  \
        TestClass test;                                                                                                \
        QTEST_SET_MAIN_SOURCE_PATH                                                                                     \
        return QTest::qExec(&test, argc, argv);                                                                        \
    }
