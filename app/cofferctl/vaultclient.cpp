#include "vaultclient.h"

#include "command.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "exitcodes.h"

#include <QCoreApplication>
#include <QDBusConnectionInterface>
#include <QDBusMetaType>
#include <QDBusReply>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonValue>
#include <QSocketNotifier>
#include <QTimer>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace Coffer::Ctl {

namespace {

Error invalid(std::string message)
{
    return Error(ErrorCode::InvalidArgument, std::move(message));
}

void dropTrailingNewline(SecretBuffer &secret)
{
    if (!secret.empty() && secret.data()[secret.size() - 1] == '\n')
        secret.truncate(secret.size() - 1);
}

SecretBuffer readTerminal(const char *prompt)
{
    UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (!tty)
        throw invalid("No terminal to ask for the passphrase; use --passphrase-file or --passphrase-fd.");
    (void)!::write(tty.get(), prompt, std::strlen(prompt));
    termios old {};
    const bool isTty = tcgetattr(tty.get(), &old) == 0;
    if (isTty) {
        termios noEcho = old;
        noEcho.c_lflag &= ~tcflag_t(ECHO);
        noEcho.c_lflag |= ECHONL;
        tcsetattr(tty.get(), TCSAFLUSH, &noEcho);
    }
    SecretBuffer buffer(4096);
    size_t n = 0;
    char c = 0;
    while (n < buffer.size()) {
        const ssize_t r = ::read(tty.get(), &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == '\n')
            break;
        buffer.data()[n++] = c;
    }
    c = 0;
    if (isTty)
        tcsetattr(tty.get(), TCSAFLUSH, &old);
    buffer.truncate(n);
    return buffer;
}

std::atomic<bool> g_interrupted{false};
int g_interruptPipe[2] = {-1, -1};

void onInterrupt(int)
{
    g_interrupted.store(true);
    const char c = 1;
    (void)!::write(g_interruptPipe[1], &c, 1);
}


} // namespace

SecretBuffer readPassphrase(const SecretSource &source, const char *prompt, bool confirm)
{
    SecretBuffer secret;
    if (!source.file.empty()) {
        UniqueFd fd(::open(source.file.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            throw Error::fromErrno(errno, "Cannot open the passphrase file " + source.file);
        secret = SecretBuffer::readFromFd(fd.get(), 64 * 1024);
        dropTrailingNewline(secret);
    } else if (source.fd >= 0) {
        secret = SecretBuffer::readFromFd(source.fd, 64 * 1024);
        dropTrailingNewline(secret);
    } else {
        secret = readTerminal(prompt);
        if (confirm) {
            SecretBuffer again = readTerminal("Repeat the passphrase: ");
            if (again.size() != secret.size()
                || std::memcmp(again.data(), secret.data(), secret.size()) != 0)
                throw invalid("The passphrases differ.");
        }
    }
    if (secret.empty())
        throw invalid("The passphrase is empty.");
    return secret;
}

QDBusUnixFileDescriptor secretPipe(const SecretBuffer &secret)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        throw Error::fromErrno(errno, "Cannot make a pipe for the passphrase");
    UniqueFd readEnd(p[0]);
    UniqueFd writeEnd(p[1]);
    if (secret.size() > 60 * 1024)
        throw invalid("The passphrase is too long; use a key file.");
    size_t done = 0;
    while (done < secret.size()) {
        const ssize_t n = ::write(writeEnd.get(), secret.data() + done, secret.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw Error::fromErrno(errno, "Cannot pass the passphrase");
        done += size_t(n);
    }
    writeEnd.reset();
    return QDBusUnixFileDescriptor(readEnd.get()); // dups it; ours closes here
}

QDBusUnixFileDescriptor keyFileFd(const std::string &path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        throw Error::fromErrno(errno, "Cannot open the key file " + path);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw invalid("The key file " + path + " is not a regular file.");
    return QDBusUnixFileDescriptor(fd.get());
}

QDBusConnection helperBus()
{
    QDBusConnection bus = QDBusConnection::systemBus();
    if (!bus.isConnected())
        throw Error(ErrorCode::NotFound, "Cannot reach the system bus: "
                                             + bus.lastError().message().toStdString());
    return bus;
}

QDBusMessage callHelper(const QString &path, const QString &interface, const QString &method,
                        const QList<QVariant> &args, int timeoutMs)
{
    QDBusMessage call = QDBusMessage::createMethodCall(QString::fromLatin1(Helper1::Service), path,
                                                       interface, method);
    call.setArguments(args);
    call.setInteractiveAuthorizationAllowed(true);
    const QDBusMessage reply = helperBus().call(call, QDBus::Block, timeoutMs);
    if (reply.type() == QDBusMessage::ErrorMessage)
        throw DBusErrors::toError(reply.errorName(), reply.errorMessage());
    if (reply.type() != QDBusMessage::ReplyMessage)
        throw Error(ErrorCode::Failed, "No answer from the Coffer helper.");
    return reply;
}

std::vector<VaultInfo> listVaults()
{
    const QDBusMessage reply = callHelper(QString::fromLatin1(Helper1::ManagerPath),
                                          QString::fromLatin1(Helper1::ManagerInterface),
                                          QStringLiteral("ListVaults"), {});
    QList<QDBusObjectPath> paths;
    if (!reply.arguments().isEmpty())
        reply.arguments().first().value<QDBusArgument>() >> paths;
    std::vector<VaultInfo> vaults;
    for (const QDBusObjectPath &p : paths) {
        const QDBusMessage props = callHelper(p.path(), QStringLiteral("org.freedesktop.DBus.Properties"),
                                              QStringLiteral("GetAll"),
                                              {QString::fromLatin1(Helper1::VaultInterface)});
        QVariantMap m;
        props.arguments().first().value<QDBusArgument>() >> m;
        VaultInfo v;
        v.path = p.path();
        v.id = m.value(QStringLiteral("Id")).toString();
        v.name = m.value(QStringLiteral("Name")).toString();
        v.backingFile = m.value(QStringLiteral("BackingFile")).toString();
        v.mountPoint = m.value(QStringLiteral("MountPoint")).toString();
        v.loopDevice = m.value(QStringLiteral("LoopDevice")).toString();
        v.mapperDevice = m.value(QStringLiteral("MapperDevice")).toString();
        v.ownerUid = m.value(QStringLiteral("OwnerUid")).toUInt();
        v.size = m.value(QStringLiteral("Size")).toULongLong();
        v.used = m.value(QStringLiteral("Used")).toULongLong();
        v.backingDevice = m.value(QStringLiteral("BackingDevice")).toULongLong();
        v.backingInode = m.value(QStringLiteral("BackingInode")).toULongLong();
        vaults.push_back(v);
    }
    return vaults;
}

std::optional<VaultInfo> findVault(const std::string &file)
{
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        throw Error::fromErrno(ErrorCode::NotFound, errno, "Cannot find " + file);
    for (const VaultInfo &v : listVaults()) {
        if (v.backingDevice == qulonglong(st.st_dev) && v.backingInode == qulonglong(st.st_ino))
            return v;
    }
    return std::nullopt;
}

int waitForJob(const QString &jobPath, const char *what, bool json)
{
    QDBusConnection bus = helperBus();
    QEventLoop loop;
    struct State
    {
        bool done = false;
        bool ok = false;
        QString errorName, message;
        QVariantMap props;
    } state;
    const bool tty = !json && ::isatty(STDERR_FILENO);
    auto draw = [&] {
        const double progress = state.props.value(QStringLiteral("Progress")).toDouble();
        if (json) {
            QVariantMap line = state.props;
            line.insert(QStringLiteral("type"), QStringLiteral("progress"));
            std::printf("%s\n", QJsonDocument::fromVariant(line).toJson(QJsonDocument::Compact).constData());
            std::fflush(stdout);
            return;
        }
        if (!tty)
            return;
        int width = 80;
        struct winsize ws {};
        if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 30)
            width = ws.ws_col;
        const int bar = 24;
        const int filled = int(std::lround(progress * bar));
        std::string line = std::string(what) + " [" + std::string(size_t(filled), '#')
                           + std::string(size_t(bar - filled), '-') + "] "
                           + std::to_string(int(progress * 100)) + "%";
        const qulonglong filesTotal = state.props.value(QStringLiteral("FilesTotal")).toULongLong();
        const qulonglong bytesTotal = state.props.value(QStringLiteral("BytesTotal")).toULongLong();
        if (filesTotal)
            line += " " + std::to_string(state.props.value(QStringLiteral("FilesDone")).toULongLong()) + "/"
                    + std::to_string(filesTotal) + " files";
        if (bytesTotal)
            line += " " + humanBytes(state.props.value(QStringLiteral("BytesDone")).toULongLong()) + "/"
                    + humanBytes(bytesTotal);
        std::string item = state.props.value(QStringLiteral("CurrentItem")).toString().toStdString();
        for (char &c : item)
            if (static_cast<unsigned char>(c) < 0x20)
                c = '?';
        if (!item.empty() && int(line.size()) + 12 < width) {
            const size_t room = size_t(width) - line.size() - 3;
            if (item.size() > room)
                item = "..." + item.substr(item.size() - room + 3);
            line += "  " + item;
        }
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        std::fflush(stderr);
    };
    auto onCompleted = [&](bool ok, const QString &name, const QString &message) {
        if (state.done)
            return;
        state.done = true;
        state.ok = ok;
        state.errorName = name;
        state.message = message;
        loop.quit();
    };

    // Listen first, then read the state: a job that finished in between is seen either way.
    JobWatcher watcher;
    watcher.completed = onCompleted;
    watcher.changed = [&](const QVariantMap &changed) {
        for (auto it = changed.cbegin(); it != changed.cend(); ++it)
            state.props.insert(it.key(), it.value());
        draw();
    };
    const QString service = QString::fromLatin1(Helper1::Service);
    bus.connect(service, jobPath, QString::fromLatin1(Helper1::JobInterface), QStringLiteral("Completed"),
                &watcher, SLOT(onCompleted(bool,QString,QString)));
    bus.connect(service, jobPath, QStringLiteral("org.freedesktop.DBus.Properties"),
                QStringLiteral("PropertiesChanged"), &watcher,
                SLOT(onPropertiesChanged(QString,QVariantMap,QStringList)));

    QDBusMessage getAll = QDBusMessage::createMethodCall(service, jobPath, QStringLiteral("org.freedesktop.DBus.Properties"),
                                                         QStringLiteral("GetAll"));
    getAll << QString::fromLatin1(Helper1::JobInterface);
    auto poll = [&] {
        const QDBusMessage reply = bus.call(getAll, QDBus::Block, 10000);
        if (reply.type() != QDBusMessage::ReplyMessage) {
            if (!state.done) {
                state.done = true;
                state.ok = false;
                state.errorName = reply.errorName();
                state.message = QStringLiteral("Lost the job: ") + reply.errorMessage();
                loop.quit();
            }
            return;
        }
        reply.arguments().first().value<QDBusArgument>() >> state.props;
        draw();
        if (state.props.value(QStringLiteral("Finished")).toBool())
            onCompleted(state.props.value(QStringLiteral("Success")).toBool(),
                        state.props.value(QStringLiteral("ErrorName")).toString(),
                        state.props.value(QStringLiteral("ErrorMessage")).toString());
    };

    // SIGINT/SIGTERM: ask the helper to cancel; the job's completion ends the wait.
    if (g_interruptPipe[0] < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_interruptPipe) != 0)
        throw Error::fromErrno(errno, "Cannot set up the interrupt handler");
    QSocketNotifier interrupt(g_interruptPipe[0], QSocketNotifier::Read);
    QObject::connect(&interrupt, &QSocketNotifier::activated, &loop, [&] {
        char c;
        (void)!::read(g_interruptPipe[0], &c, 1);
        QDBusMessage cancel = QDBusMessage::createMethodCall(service, jobPath,
                                                             QString::fromLatin1(Helper1::JobInterface),
                                                             QStringLiteral("Cancel"));
        bus.call(cancel, QDBus::Block, 10000);
    });
    struct sigaction sa {};
    sa.sa_handler = onInterrupt;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    // Signals drive the bar; a slow poll guards against a missed signal or a vanished helper.
    QTimer timer;
    QObject::connect(&timer, &QTimer::timeout, &loop, poll);
    timer.start(1000);
    poll();
    if (!state.done)
        loop.exec();
    if (tty)
        std::fprintf(stderr, "\r\033[K");
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);

    if (json) {
        QVariantMap line{{QStringLiteral("type"), QStringLiteral("completed")},
                         {QStringLiteral("ok"), state.ok},
                         {QStringLiteral("error"), state.errorName},
                         {QStringLiteral("message"), state.message}};
        std::printf("%s\n", QJsonDocument::fromVariant(line).toJson(QJsonDocument::Compact).constData());
        std::fflush(stdout);
    }
    if (state.ok) {
        if (state.message.startsWith(QLatin1String("partial"))) {
            if (!json)
                std::fprintf(stderr, "cofferctl: %s\n", state.message.toUtf8().constData());
            return ExitCode::Partial;
        }
        return ExitCode::Ok;
    }
    const Error error = DBusErrors::toError(state.errorName, state.message);
    if (!json)
        std::fprintf(stderr, "cofferctl: %s failed: %s\n", what, error.what());
    return exitCodeFor(error.code());
}

uint64_t parseSize(const std::string &text)
{
    char *end = nullptr;
    errno = 0;
    const double value = std::strtod(text.c_str(), &end);
    if (errno || !end || end == text.c_str() || value <= 0 || !std::isfinite(value))
        throw invalid("Cannot read the size \"" + text + "\"; write e.g. 64M, 2G or 1.5GiB.");
    std::string unit(end);
    for (char &c : unit)
        c = char(std::toupper(static_cast<unsigned char>(c)));
    if (unit.size() > 1 && unit.back() == 'B')
        unit.pop_back();
    if (unit.size() > 1 && unit.back() == 'I')
        unit.pop_back();
    double multiplier = 1;
    if (unit.empty())
        multiplier = 1;
    else if (unit == "K")
        multiplier = 1024.0;
    else if (unit == "M")
        multiplier = 1024.0 * 1024;
    else if (unit == "G")
        multiplier = 1024.0 * 1024 * 1024;
    else if (unit == "T")
        multiplier = 1024.0 * 1024 * 1024 * 1024;
    else
        throw invalid("Unknown size unit in \"" + text + "\"; use K, M, G or T.");
    const double bytes = value * multiplier;
    if (bytes > 1e18)
        throw invalid("The size \"" + text + "\" is too large.");
    return uint64_t(bytes);
}

std::string jsonString(const QString &text)
{
    return QJsonDocument::fromVariant(QVariantList{text}).toJson(QJsonDocument::Compact).mid(1).chopped(1).toStdString();
}

} // namespace Coffer::Ctl
