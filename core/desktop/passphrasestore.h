#pragma once

// "Remember the passphrase": a vault's passphrase in the user's keyring (the Secret Service of
// GNOME Keyring, KeePassXC, ..., or KWallet, through qtkeychain), keyed by the vault's LUKS
// UUID. Asynchronous, since the keyring may first ask the user to unlock it. The secret is in a
// SecretBuffer as soon as it leaves qtkeychain, and qtkeychain's own copy is wiped.

#include "block/secretbuffer.h"
#include "error.h"

#include <qt6keychain/keychain.h>

#include <QObject>
#include <QString>

#include <functional>
#include <string_view>

namespace Coffer {

class PassphraseStore : public QObject
{
    Q_OBJECT
public:
    // `service` groups Coffer's entries in the keyring (tests use their own).
    explicit PassphraseStore(QObject *parent = nullptr, const QString &service = QStringLiteral("Coffer"));

    // Each callback comes once, later (never from inside the call), with error null on success.
    // NotFound: nothing remembered for this vault; NotSupported: no keyring is running;
    // Cancelled: the user refused to unlock the keyring; InvalidArgument: not a LUKS UUID.
    // Not called if the store is destroyed first.
    using LoadCallback = std::function<void(SecretBuffer secret, const Error *error)>;
    using DoneCallback = std::function<void(const Error *error)>;

    void load(const QString &luksUuid, LoadCallback done);
    void store(const QString &luksUuid, const SecretBuffer &secret, DoneCallback done);
    // Forgetting what was never remembered is no error.
    void forget(const QString &luksUuid, DoneCallback done);

    // Whether a keyring answers on the session bus now, or would be started by it: a Secret
    // Service or KWallet. "Remember the passphrase" is offered only then. (A short blocking call
    // to the bus daemon itself, never to the keyring.)
    static bool keyringRunning();

    // The Coffer::Error for a failed qtkeychain job: "<what>: <a sentence for `code`>".
    static Error errorFor(QKeychain::Error code, const QString &detail, std::string_view what);

private:
    // The entry's key, or empty (and `fail` called later) if luksUuid is not a LUKS UUID.
    QString keyFor(const QString &luksUuid, const std::function<void(const Error &)> &fail);

    QString m_service;
};

} // namespace Coffer
