#pragma once

// Secrets on the client's side: a passphrase in locked memory or a key file named by the user.
// They reach the helper only as file descriptors (design.md 3): a pipe written and closed before
// the call, or the key file itself opened with the user's own rights.

#include "block/secretbuffer.h"

#include <QDBusUnixFileDescriptor>

#include <memory>
#include <string>

namespace Coffer::Client {

// The most a passphrase may be: it must fit in a pipe's buffer, which is written before the call.
inline constexpr size_t maxPipedSecretBytes = 60 * 1024;

// What opens (or becomes) a key slot: a passphrase, or a key file. Cheap to copy: copies share
// one locked buffer, wiped when the last copy goes.
class Secret
{
public:
    Secret() = default;
    static Secret passphrase(SecretBuffer passphrase);
    static Secret keyFile(std::string path);

    bool isKeyFile() const { return !m_keyFile.empty(); }
    bool isEmpty() const { return !m_passphrase && m_keyFile.empty(); }

    // A descriptor the helper reads the secret from. Throws Coffer::Error (InvalidArgument for a
    // passphrase too long for a pipe or a key file that is not a regular file).
    QDBusUnixFileDescriptor fd() const;
    // The secret's bytes, for work done in this process on the user's own file (a locked
    // vault's header). Reads a key file each time.
    std::shared_ptr<const SecretBuffer> contents() const;

private:
    std::shared_ptr<const SecretBuffer> m_passphrase;
    std::string m_keyFile;
};

// A pipe carrying `secret`, written and closed: its read end, for a D-Bus call.
QDBusUnixFileDescriptor secretPipe(const SecretBuffer &secret);

// A key file opened read-only as the user (the fd itself goes to the helper). Throws NotFound,
// NotAuthorized, ... with the path, or InvalidArgument when it is not a regular file.
QDBusUnixFileDescriptor keyFileFd(const std::string &path);

} // namespace Coffer::Client
