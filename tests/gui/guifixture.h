#pragma once

// What the GUI tests share: the fake helper on a private session bus (tests/fakehelper.h), the
// client on it, a registry in a temporary home, a "drive" (a temporary directory standing in for
// a mounted stick: a Medium whose device is that directory's filesystem, so an open vault's
// backing device matches it) and the model and controller over them. L0: the real helper, real
// drives and a real notification server run in the VM (tests/vm/scenarios/gui-plug.sh).

#include "fakehelper.h"

#include "client/jobhandle.h"
#include "config/registry.h"
#include "dbus/errornames.h"
#include "media/medium.h"
#include "translations.h"
#include "vaultcontroller.h"
#include "vaultmodel.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <optional>
#include <sys/stat.h>

namespace Coffer::Test {

// The LUKS UUID the fake helper gives the n-th vault file it opens (FakeHelper::addVault).
inline std::string fakeVaultUuid(int n)
{
    return QStringLiteral("0000000%1-aaaa-bbbb-cccc-dddddddddddd").arg(n).toStdString();
}

// A job's progress report as the helper's Job properties give it.
inline Client::JobProgress jobProgress(std::optional<Sync::Phase> phase, double fraction, quint64 filesDone,
                                       quint64 filesTotal, quint64 bytesDone, quint64 bytesTotal,
                                       const QString &item = {})
{
    Client::JobProgress p;
    p.phase = phase;
    p.fraction = fraction;
    p.filesDone = filesDone;
    p.filesTotal = filesTotal;
    p.bytesDone = bytesDone;
    p.bytesTotal = bytesTotal;
    p.currentItem = item;
    return p;
}

inline QString fakeVaultId(int n)
{
    return QString::fromStdString(fakeVaultUuid(n));
}

class GuiFixture
{
public:
    // address: a private bus of the test's (PrivateBus, or desktoptest.h's TestBus when the
    // test runs D-Bus mocks on it too).
    explicit GuiFixture(const QString &address)
        : m_address(address)
    {
        QDir(m_home.path()).mkpath(QStringLiteral("drive/backups"));
        QDir(m_home.path()).mkpath(QStringLiteral("home/.ssh"));
        fake = std::make_unique<FakeHelper>(address);
        client = std::make_unique<Client::HelperClient>(connect(QStringLiteral("client")));
        registry = std::make_unique<Config::Registry>(QFile::encodeName(m_home.filePath(QStringLiteral("config/vaults.json"))).toStdString());
        registry->load();
        model = std::make_unique<Ui::VaultModel>(registry.get(), client.get());
        controller = std::make_unique<Ui::VaultController>(model.get());
    }
    ~GuiFixture()
    {
        controller.reset();
        model.reset();
        client.reset();
        fake.reset();
    }

    QString path(const QString &relative) const { return m_home.filePath(relative); }

    // Another connection of the app's to the bus (the session bus' role).
    QDBusConnection connect(const QString &what)
    {
        static int count = 0;
        return QDBusConnection::connectToBus(m_address, QStringLiteral("gui-%1-%2").arg(what).arg(++count));
    }

    // The drive, plugged in and mounted (or not).
    Media::Medium drive(bool mounted = true) const
    {
        Media::Medium m;
        const QString root = path(QStringLiteral("drive"));
        struct stat st {};
        ::stat(QFile::encodeName(root).constData(), &st);
        m.devNode = "/dev/sdz1";
        m.devnum = st.st_dev;
        m.fsUuid = "1234-ABCD";
        m.label = "MY STICK";
        m.fsType = "vfat";
        m.size = 8ull << 30;
        m.removable = true;
        if (mounted) {
            m.mountPoints = {QFile::encodeName(root).toStdString()};
            m.freeBytes = 3ull << 30;
        }
        return m;
    }

    // Registers the fake's n-th vault as a file on the drive, backing up ~/.ssh of the test home.
    Config::VaultEntry registerVault(int n, const std::string &name, Config::Trigger trigger = Config::Trigger::Ask)
    {
        const std::string relative = "backups/" + name + ".coffer";
        QFile file(path(QStringLiteral("drive/")) + QString::fromStdString(relative));
        file.open(QIODevice::WriteOnly);
        file.write("stands in for a LUKS file");
        file.close();
        Config::VaultEntry e;
        e.luksUuid = fakeVaultUuid(n);
        e.name = name;
        e.medium = Config::mediumRefOf(drive());
        e.path = relative;
        e.sources = {QFile::encodeName(path(QStringLiteral("home/.ssh"))).toStdString()};
        e.trigger = trigger;
        registry->putVault(e);
        return e;
    }

    // The vault opens with a key file from now on (no dialog); returns its contents.
    QByteArray useKeyFile(int n)
    {
        const QString key = path(QStringLiteral("home/vault.key"));
        QFile file(key);
        file.open(QIODevice::WriteOnly);
        file.write("key file contents");
        file.close();
        Config::VaultEntry e = *registry->vault(fakeVaultUuid(n));
        e.secretSource = Config::SecretSource::KeyFile;
        e.keyFile = QFile::encodeName(key).toStdString();
        registry->putVault(e);
        return "key file contents";
    }

    std::string vaultFile(const std::string &name) const
    {
        return QFile::encodeName(path(QStringLiteral("drive/backups/"))).toStdString() + name + ".coffer";
    }

    // Opens the vault in `file` as if someone unlocked it (the helper's VaultAdded), and waits
    // until the model has it.
    FakeVault *openInHelper(const std::string &file, const QString &name = QStringLiteral("keys"))
    {
        FakeVault *vault = fake->addVault(Client::identify(file), name);
        const QString id = vault->id;
        if (!QTest::qWaitFor([&] { return model->row(id) && model->row(id)->isOpen(); }, waitMs))
            return nullptr;
        return vault;
    }

    static QString errorName(ErrorCode code) { return DBusErrors::errorName(code); }

    std::unique_ptr<FakeHelper> fake;
    std::unique_ptr<Client::HelperClient> client;
    std::unique_ptr<Config::Registry> registry;
    std::unique_ptr<Ui::VaultModel> model;
    std::unique_ptr<Ui::VaultController> controller;

private:
    QString m_address;
    QTemporaryDir m_home;
};

} // namespace Coffer::Test
