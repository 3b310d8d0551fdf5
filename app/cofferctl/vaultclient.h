#pragma once

// cofferctl's side of org.coffer.Helper1: secrets from the terminal or a file into a pipe,
// backing files opened with the user's own rights, finding the open vault of a file, waiting
// for jobs with a progress bar. Used by the vault commands (vault*.cpp).

#include "block/secretbuffer.h"
#include "block/uniquefd.h"
#include "error.h"

#include <QDBusConnection>
#include <QObject>
#include <QDBusMessage>
#include <QDBusUnixFileDescriptor>
#include <QString>
#include <QVariantMap>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace Coffer::Ctl {

// Where a passphrase comes from: --passphrase-file F, --passphrase-fd N, or the terminal.
struct SecretSource
{
    std::string file;
    int fd = -1;
};

// Reads a passphrase (file/fd: one trailing newline dropped; terminal: no echo; `confirm`
// asks twice). Throws InvalidArgument when empty or when the two differ.
SecretBuffer readPassphrase(const SecretSource &source, const char *prompt, bool confirm = false);

// A pipe carrying `secret`, written and closed: the read end for a D-Bus call.
QDBusUnixFileDescriptor secretPipe(const SecretBuffer &secret);

// A file opened read-only for a key file: passed as the fd itself.
QDBusUnixFileDescriptor keyFileFd(const std::string &path);

// The system bus, or NotFound with a sentence.
QDBusConnection helperBus();

// Calls `method` on `path`/`interface` of the helper; throws the reply's error as Coffer::Error.
QDBusMessage callHelper(const QString &path, const QString &interface, const QString &method,
                        const QList<QVariant> &args, int timeoutMs = 10 * 60 * 1000);

struct VaultInfo
{
    QString path, id, name, backingFile, mountPoint, loopDevice, mapperDevice;
    uint ownerUid = 0;
    qulonglong size = 0, used = 0, backingDevice = 0, backingInode = 0;
};

std::vector<VaultInfo> listVaults();
// The open vault backed by `file` (compared by device and inode), if any.
std::optional<VaultInfo> findVault(const std::string &file);

// Waits for the job at `jobPath` to complete, drawing a progress bar on a terminal (or JSON
// lines with `json`). SIGINT asks the helper to cancel. Returns the exit code: Ok, Partial
// (ok with a note), or the job's error's code (the message is printed).
int waitForJob(const QString &jobPath, const char *what, bool json);

// Shell-style "64M", "1G", "1.5GiB", "100000000" -> bytes. Throws InvalidArgument.
uint64_t parseSize(const std::string &text);

std::string jsonString(const QString &text);

// Receives a job's signals for waitForJob.
class JobWatcher : public QObject
{
    Q_OBJECT
public:
    std::function<void(bool, const QString &, const QString &)> completed;
    std::function<void(const QVariantMap &)> changed;
public Q_SLOTS:
    void onCompleted(bool ok, const QString &name, const QString &message) { completed(ok, name, message); }
    void onPropertiesChanged(const QString &, const QVariantMap &props, const QStringList &) { changed(props); }
};

} // namespace Coffer::Ctl
