#pragma once

// A main() for GUI tests that need a real X server (screenshots, the tray): an Xvfb of the
// test's own is started before QApplication (which connects to DISPLAY once, at start), and
// killed at the end. COFFER_XVFB_MAIN(TestClass).

#include <QApplication>
#include <QTest>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace Coffer::Test {

// Starts Xvfb (it dies with this process); returns its pid and sets DISPLAY, or -1.
inline pid_t startXvfb()
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(out[0]);
        const std::string fd = std::to_string(out[1]);
        execlp("Xvfb", "Xvfb", "-displayfd", fd.c_str(), "-nolisten", "tcp", "-screen", "0", "1280x1024x24", "-wr", "-noreset",
               static_cast<char *>(nullptr));
        _exit(127);
    }
    close(out[1]);
    char display[32] = {};
    ssize_t n = 0;
    size_t got = 0;
    while (got < sizeof display - 1 && (n = read(out[0], display + got, sizeof display - 1 - got)) > 0) {
        got += size_t(n);
        if (display[got - 1] == '\n')
            break;
    }
    close(out[0]);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return -1;
    }
    display[strcspn(display, "\n")] = 0;
    setenv("DISPLAY", (std::string(":") + display).c_str(), 1);
    setenv("QT_QPA_PLATFORM", "xcb", 1);
    unsetenv("WAYLAND_DISPLAY");
    return pid;
}

} // namespace Coffer::Test

#define COFFER_XVFB_MAIN(TestObject)                                                                           \
    int main(int argc, char **argv)                                                                            \
    {                                                                                                          \
        const pid_t xvfb = Coffer::Test::startXvfb();                                                          \
        if (xvfb < 0) {                                                                                        \
            std::fprintf(stderr, "Xvfb could not be started (packages.txt: xvfb)\n");                          \
            return 1;                                                                                          \
        }                                                                                                      \
        int status = 0;                                                                                        \
        {                                                                                                      \
            QApplication app(argc, argv);                                                                      \
            TestObject test;                                                                                   \
            status = QTest::qExec(&test, argc, argv);                                                          \
        }                                                                                                      \
        kill(xvfb, SIGTERM);                                                                                   \
        waitpid(xvfb, nullptr, 0);                                                                             \
        return status;                                                                                         \
    }
