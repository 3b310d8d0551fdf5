#pragma once

// Private buses and D-Bus mocks for core/desktop's tests: a dbus-daemon of the test's own (with
// no service directories, so nothing is activated behind the test's back) and python-dbusmock
// services on it, steered through their org.freedesktop.DBus.Mock interface.

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusReply>
#include <QDBusVariant>
#include <QDeadlineTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include <csignal>
#include <sys/prctl.h>

namespace Coffer::Test {

// The python that has dbusmock: Debian's, not whatever python3 comes first on PATH.
inline const QString DebianPython = QStringLiteral("/usr/bin/python3");
inline const QString MockInterface = QStringLiteral("org.freedesktop.DBus.Mock");
inline const QString ManagerPath = QStringLiteral("/org/freedesktop/login1");
inline const QString ManagerInterface = QStringLiteral("org.freedesktop.login1.Manager");
inline const QString SessionInterface = QStringLiteral("org.freedesktop.login1.Session");

// Children die with the test, even when it crashes.
inline void dieWithParent(QProcess &process)
{
    process.setChildProcessModifier([] { prctl(PR_SET_PDEATHSIG, SIGKILL); });
}

// Waits (spinning the event loop) until `condition` holds or `ms` passed; returns whether it held.
template<typename F>
bool waitFor(F condition, int ms = 10000)
{
    QDeadlineTimer deadline(ms);
    while (!condition()) {
        if (deadline.hasExpired())
            return false;
        QTest::qWait(10);
    }
    return true;
}

// A dbus-daemon of our own, and one connection of the test's to it.
class TestBus
{
public:
    explicit TestBus(const QString &connectionName)
        : m_name(connectionName)
    {
        QFile config(m_dir.filePath(QStringLiteral("bus.conf")));
        config.open(QIODevice::WriteOnly);
        config.write(QStringLiteral(
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
            "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
            "<busconfig><type>session</type><listen>unix:dir=%1</listen><auth>EXTERNAL</auth>"
            "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
            "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n")
                         .arg(m_dir.path())
                         .toUtf8());
        config.close();
        dieWithParent(m_daemon);
        m_daemon.start(QStringLiteral("dbus-daemon"),
                       {QStringLiteral("--nofork"), QStringLiteral("--print-address=1"),
                        QStringLiteral("--config-file=") + config.fileName()});
        if (m_daemon.waitForStarted() && m_daemon.waitForReadyRead(10000))
            m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
        m_connection = std::make_unique<QDBusConnection>(QDBusConnection::connectToBus(m_address, m_name));
    }
    ~TestBus()
    {
        m_connection.reset();
        QDBusConnection::disconnectFromBus(m_name);
        m_daemon.kill();
        m_daemon.waitForFinished();
    }

    bool isConnected() const { return m_connection->isConnected(); }
    QString address() const { return m_address; }
    QDBusConnection connection() const { return *m_connection; }
    bool hasOwner(const QString &name) const
    {
        return m_connection->interface()->isServiceRegistered(name);
    }

private:
    QString m_name;
    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
    std::unique_ptr<QDBusConnection> m_connection;
};

// A python-dbusmock service on `bus`. `arguments` are dbusmock's: ["-t", "logind"], or a bus
// name, path and interface. Ready when its bus name is owned.
class DBusMock
{
public:
    DBusMock(const TestBus &bus, const QString &busName, const QStringList &arguments, bool systemBus = false)
        : m_bus(bus)
        , m_busName(busName)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), bus.address());
        env.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), bus.address());
        m_process.setProcessEnvironment(env);
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        dieWithParent(m_process);
        QStringList all{QStringLiteral("-m"), QStringLiteral("dbusmock")};
        all << (systemBus ? QStringLiteral("--system") : QStringLiteral("--session")) << arguments;
        m_process.start(DebianPython, all);
        m_ready = m_process.waitForStarted() && waitFor([this] { return m_bus.hasOwner(m_busName); });
    }
    ~DBusMock() { stop(); }

    bool isReady() const { return m_ready; }
    // Kills the service: its name vanishes from the bus as when a daemon crashes.
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.kill();
        m_process.waitForFinished();
    }

    // A method of the object at `path` on the service; returns the reply (or error).
    QDBusMessage call(const QString &path, const QString &interface, const QString &method,
                      const QVariantList &arguments = {}) const
    {
        QDBusMessage message = QDBusMessage::createMethodCall(m_busName, path, interface, method);
        message.setArguments(arguments);
        return m_bus.connection().call(message);
    }
    QDBusMessage mock(const QString &path, const QString &method, const QVariantList &arguments = {}) const
    {
        return call(path, MockInterface, method, arguments);
    }
    // Mock.EmitSignal: `signature` describes `arguments`.
    QDBusMessage emitSignal(const QString &path, const QString &interface, const QString &name,
                            const QString &signature, const QVariantList &arguments) const
    {
        QVariantList wrapped;
        for (const QVariant &argument : arguments)
            wrapped << QVariant::fromValue(QDBusVariant(argument));
        return mock(path, QStringLiteral("EmitSignal"),
                    {interface, name, signature, QVariant::fromValue(wrapped)});
    }
    // Mock.AddMethod: `code` is Python, run with `args`, `self` and dbusmock's globals.
    QDBusMessage addMethod(const QString &path, const QString &interface, const QString &name,
                           const QString &inSignature, const QString &outSignature, const QString &code) const
    {
        return mock(path, QStringLiteral("AddMethod"), {interface, name, inSignature, outSignature, code});
    }
    QDBusMessage updateProperties(const QString &path, const QString &interface, const QVariantMap &properties) const
    {
        return mock(path, QStringLiteral("UpdateProperties"), {interface, properties});
    }

private:
    const TestBus &m_bus;
    QString m_busName;
    QProcess m_process;
    bool m_ready = false;
};

// Whether `reply` is a reply (not an error), with the error's text for QVERIFY2.
inline bool isReply(const QDBusMessage &reply)
{
    if (reply.type() == QDBusMessage::ReplyMessage)
        return true;
    qWarning("D-Bus error: %s: %s", qPrintable(reply.errorName()), qPrintable(reply.errorMessage()));
    return false;
}

} // namespace Coffer::Test
