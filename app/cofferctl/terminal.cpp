#include "terminal.h"

#include "block/uniquefd.h"
#include "error.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace Coffer::Ctl {

namespace {

constexpr size_t maxPassphraseBytes = 64 * 1024;

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

} // namespace

SecretSource secretSource(const Args &args, std::string_view fileOption, std::string_view fdOption)
{
    SecretSource s;
    s.file = args.value(fileOption);
    const std::string fd = args.value(fdOption);
    if (!fd.empty()) {
        char *end = nullptr;
        const long n = std::strtol(fd.c_str(), &end, 10);
        if (!end || *end || n < 0 || n > 65535)
            throw UsageError{std::string(fdOption) + " needs a file descriptor number"};
        s.fd = int(n);
    }
    return s;
}

SecretBuffer readPassphrase(const SecretSource &source, const char *prompt, bool confirm)
{
    SecretBuffer secret;
    if (!source.file.empty()) {
        UniqueFd fd(::open(source.file.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            throw Error::fromErrno(errno, "Cannot open the passphrase file " + source.file);
        secret = SecretBuffer::readFromFd(fd.get(), maxPassphraseBytes);
        dropTrailingNewline(secret);
    } else if (source.fd >= 0) {
        secret = SecretBuffer::readFromFd(source.fd, maxPassphraseBytes);
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

Client::Secret unlockSecret(const Args &args, const std::string &file)
{
    const std::string keyFile = args.value("--keyfile");
    if (!keyFile.empty())
        return Client::Secret::keyFile(keyFile);
    const std::string prompt = "Passphrase for " + file + ": ";
    return Client::Secret::passphrase(readPassphrase(secretSource(args), prompt.c_str()));
}

std::string printable(std::string_view s, size_t max)
{
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    if (out.size() > max && max > 3)
        out = "..." + out.substr(out.size() - (max - 3));
    return out;
}

} // namespace Coffer::Ctl
