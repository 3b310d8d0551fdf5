// PassphraseStore against a real Secret Service: gnome-keyring-daemon on a private session bus,
// its login keyring created and unlocked for the test. Store, load back byte for byte, forget,
// and the errors: nothing remembered, not a LUKS UUID, no keyring running.

#include "desktop/passphrasestore.h"
#include "desktoptest.h"

#include <QStandardPaths>
#include <QTest>

#include <optional>

using namespace Coffer;
using namespace Coffer::Test;

namespace {

const QString Uuid = QStringLiteral("3F2504E0-4F89-11D3-9A0C-0305E82C3301");

struct Outcome {
    bool done = false;
    std::optional<ErrorCode> error;
    std::string message;
    std::string secret;
};

} // namespace

class TestDesktopKeychain : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_home;
    std::unique_ptr<TestBus> m_bus;
    QProcess m_keyring;
    std::unique_ptr<PassphraseStore> m_store;

    Outcome load(const QString &uuid)
    {
        Outcome outcome;
        m_store->load(uuid, [&](SecretBuffer secret, const Error *error) {
            outcome.done = true;
            if (error) {
                outcome.error = error->code();
                outcome.message = error->message();
            }
            outcome.secret.assign(secret.data() ? secret.data() : "", secret.size());
        });
        waitFor([&] { return outcome.done; }, 30000);
        return outcome;
    }
    template<typename Call>
    Outcome finish(Call call)
    {
        Outcome outcome;
        call([&](const Error *error) {
            outcome.done = true;
            if (error) {
                outcome.error = error->code();
                outcome.message = error->message();
            }
        });
        waitFor([&] { return outcome.done; }, 30000);
        return outcome;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("gnome-keyring-daemon")).isEmpty())
            QSKIP("needs gnome-keyring (packages.txt)");
        m_bus = std::make_unique<TestBus>(QStringLiteral("session"));
        QVERIFY(m_bus->isConnected());
        // qtkeychain's libsecret finds the bus and the keyring through the environment.
        qputenv("DBUS_SESSION_BUS_ADDRESS", m_bus->address().toLocal8Bit());
        qputenv("HOME", m_home.path().toLocal8Bit());
        qputenv("XDG_DATA_HOME", (m_home.path() + QStringLiteral("/data")).toLocal8Bit());
        qputenv("XDG_RUNTIME_DIR", m_home.path().toLocal8Bit());
        qunsetenv("XDG_CURRENT_DESKTOP");
        dieWithParent(m_keyring);
        m_keyring.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_keyring.start(QStringLiteral("gnome-keyring-daemon"),
                        {QStringLiteral("--foreground"), QStringLiteral("--unlock"),
                         QStringLiteral("--components=secrets")});
        QVERIFY(m_keyring.waitForStarted());
        // --unlock reads the login keyring's password from stdin (and creates the keyring).
        m_keyring.write("coffer-test");
        m_keyring.closeWriteChannel();
        QVERIFY(waitFor([&] { return m_bus->hasOwner(QStringLiteral("org.freedesktop.secrets")); }));
        m_store = std::make_unique<PassphraseStore>(nullptr, QStringLiteral("Coffer test"));
        QVERIFY(PassphraseStore::keyringRunning());
    }
    void cleanupTestCase()
    {
        m_store.reset();
        m_keyring.kill();
        m_keyring.waitForFinished();
        m_bus.reset();
    }

    void storeLoadForget()
    {
        // Any bytes: a newline, a NUL, non-UTF-8.
        const std::string secret("correct horse\n\0battery \xff staple", 31);
        const auto buffer = SecretBuffer::fromString(secret);
        Outcome stored = finish([&](auto done) { m_store->store(Uuid, buffer, done); });
        QVERIFY2(!stored.error, stored.message.c_str());

        // The UUID in either case is the same vault.
        Outcome loaded = load(Uuid.toLower());
        QVERIFY2(!loaded.error, loaded.message.c_str());
        QVERIFY(loaded.secret == secret);

        Outcome forgotten = finish([&](auto done) { m_store->forget(Uuid, done); });
        QVERIFY2(!forgotten.error, forgotten.message.c_str());
        Outcome gone = load(Uuid);
        QCOMPARE(gone.error, std::optional(ErrorCode::NotFound));
        QVERIFY2(gone.message.find("no passphrase is remembered") != std::string::npos, gone.message.c_str());
        // Forgetting twice is no error.
        Outcome again = finish([&](auto done) { m_store->forget(Uuid, done); });
        QVERIFY2(!again.error, again.message.c_str());
    }

    void notALuksUuid()
    {
        Outcome outcome = load(QStringLiteral("../../etc/passwd"));
        QCOMPARE(outcome.error, std::optional(ErrorCode::InvalidArgument));
        Outcome stored = finish([&](auto done) {
            m_store->store(QStringLiteral("3F2504E0"), SecretBuffer::fromString("x"), done);
        });
        QCOMPARE(stored.error, std::optional(ErrorCode::InvalidArgument));
    }

    void refusalIsCancelled()
    {
        const Error e = PassphraseStore::errorFor(QKeychain::AccessDeniedByUser, QString(), "Cannot read it");
        QCOMPARE(e.code(), ErrorCode::Cancelled);
        QCOMPARE(e.message(), std::string("Cannot read it: the keyring was not unlocked"));
    }

    void aKeyringThatWentAwayIsNoKeyring()
    {
        const Error e = PassphraseStore::errorFor(
            QKeychain::OtherError,
            QStringLiteral("GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name :1.5 was not provided by any .service files"),
            "Cannot read it");
        QCOMPARE(e.code(), ErrorCode::NotSupported);
    }

    void noKeyringRunning()
    {
        m_keyring.kill();
        m_keyring.waitForFinished();
        QVERIFY(waitFor([&] { return !m_bus->hasOwner(QStringLiteral("org.freedesktop.secrets")); }));
        // Not offered any more (the private bus has no .service file that would start one).
        QVERIFY(!PassphraseStore::keyringRunning());
        Outcome outcome = load(Uuid);
        QVERIFY(outcome.done);
        QVERIFY(outcome.error);
        QVERIFY2(outcome.error == std::optional(ErrorCode::NotSupported), outcome.message.c_str());
        QVERIFY2(outcome.message.find("no keyring is running") != std::string::npos, outcome.message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestDesktopKeychain)
#include "test_desktop_keychain.moc"
