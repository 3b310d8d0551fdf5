// What the plug of a registered vault's drive does (core/config/plugdecision.h), for every
// trigger, secret source, terminal or none, mounted or not, and registry paths that try to lead
// off the drive; and which registered vaults a drive holds (Registry::vaultsOn).
#include "config/plugdecision.h"
#include "config/registry.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Coffer;
using namespace Coffer::Config;

Q_DECLARE_METATYPE(Coffer::Config::Trigger)
Q_DECLARE_METATYPE(Coffer::Config::SecretSource)
Q_DECLARE_METATYPE(Coffer::Config::PlugAction)

namespace {

Media::Medium stick(bool mounted)
{
    Media::Medium m;
    m.devNode = "/dev/sdb1";
    m.fsUuid = "1234-ABCD";
    m.serial = "4C530001";
    m.label = "STICK";
    m.fsType = "vfat";
    if (mounted)
        m.mountPoints = {"/media/alice/STICK"};
    return m;
}

VaultEntry vault(Trigger trigger, SecretSource secret)
{
    VaultEntry v;
    v.luksUuid = "0b1e5c3a-8d7f-4e2b-9a61-5f0c2d3e4b5a";
    v.name = "keys";
    v.medium = mediumRefOf(stick(true));
    v.path = "backups/keys.coffer";
    v.sources = {"/home/alice/.ssh"};
    v.trigger = trigger;
    v.secretSource = secret;
    if (secret == SecretSource::KeyFile)
        v.keyFile = "/home/alice/keys.key";
    return v;
}

} // namespace

class TestConfigPlug : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decision_data()
    {
        QTest::addColumn<Trigger>("trigger");
        QTest::addColumn<SecretSource>("secret");
        QTest::addColumn<bool>("interactive");
        QTest::addColumn<PlugAction>("expected");
        const auto row = [](const char *name, Trigger t, SecretSource s, bool tty, PlugAction a) {
            QTest::newRow(name) << t << s << tty << a;
        };
        row("backup, key file, no terminal", Trigger::Backup, SecretSource::KeyFile, false, PlugAction::BackUp);
        row("backup, keyring, no terminal", Trigger::Backup, SecretSource::Keyring, false, PlugAction::BackUp);
        row("backup, prompt, terminal", Trigger::Backup, SecretSource::Prompt, true, PlugAction::BackUp);
        row("backup, prompt, no terminal", Trigger::Backup, SecretSource::Prompt, false, PlugAction::CannotAsk);
        row("ask, terminal", Trigger::Ask, SecretSource::KeyFile, true, PlugAction::Ask);
        row("ask, no terminal", Trigger::Ask, SecretSource::KeyFile, false, PlugAction::CannotAsk);
        row("manual, key file", Trigger::Manual, SecretSource::KeyFile, true, PlugAction::Nothing);
        row("manual, no terminal", Trigger::Manual, SecretSource::Prompt, false, PlugAction::Nothing);
    }

    void decision()
    {
        QFETCH(Trigger, trigger);
        QFETCH(SecretSource, secret);
        QFETCH(bool, interactive);
        QFETCH(PlugAction, expected);
        const PlugDecision d = decidePlug(vault(trigger, secret), stick(true), interactive);
        QCOMPARE(d.action, expected);
        if (expected == PlugAction::BackUp || expected == PlugAction::Ask) {
            QCOMPARE(d.file, std::string("/media/alice/STICK/backups/keys.coffer"));
            QCOMPARE(d.secret, secret);
        } else {
            QVERIFY(!d.reason.empty());
        }
    }

    void anUnmountedDriveWaitsForAMount()
    {
        const PlugDecision d = decidePlug(vault(Trigger::Backup, SecretSource::KeyFile), stick(false), true);
        QCOMPARE(d.action, PlugAction::NeedsMount);
        QVERIFY(d.file.empty());
        // Manual stays manual, mounted or not: nothing is mounted for it.
        QCOMPARE(decidePlug(vault(Trigger::Manual, SecretSource::KeyFile), stick(false), true).action, PlugAction::Nothing);
    }

    void nothingToBackUpIsNothing()
    {
        VaultEntry v = vault(Trigger::Backup, SecretSource::KeyFile);
        v.sources.clear();
        const PlugDecision d = decidePlug(v, stick(true), true);
        QCOMPARE(d.action, PlugAction::Nothing);
        QVERIFY(QString::fromStdString(d.reason).contains(QLatin1String("--source")));
    }

    void aKeyFileWithoutAPathIsAskedFor()
    {
        VaultEntry v = vault(Trigger::Backup, SecretSource::KeyFile);
        v.keyFile.clear();
        QCOMPARE(decidePlug(v, stick(true), false).action, PlugAction::CannotAsk);
        const PlugDecision asked = decidePlug(v, stick(true), true);
        QCOMPARE(asked.action, PlugAction::BackUp);
        QCOMPARE(asked.secret, SecretSource::Prompt);
    }

    void pathsThatLeaveTheDriveAreRefused_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("absolute") << QByteArray("/etc/shadow");
        QTest::newRow("dot-dot") << QByteArray("../../home/alice/.ssh/id_ed25519");
        QTest::newRow("inner dot-dot") << QByteArray("backups/../../x");
        QTest::newRow("dot") << QByteArray("./keys.coffer");
        QTest::newRow("empty component") << QByteArray("backups//keys.coffer");
        QTest::newRow("trailing slash") << QByteArray("backups/");
        QTest::newRow("NUL") << QByteArray("keys\0/../x", 10);
    }

    void pathsThatLeaveTheDriveAreRefused()
    {
        QFETCH(QByteArray, path);
        const std::string p(path.constData(), size_t(path.size()));
        QVERIFY(!vaultFileOn(stick(true), p));
        VaultEntry v = vault(Trigger::Backup, SecretSource::KeyFile);
        v.path = p;
        const PlugDecision d = decidePlug(v, stick(true), true);
        QCOMPARE(d.action, PlugAction::Nothing);
        QVERIFY(d.file.empty());
    }

    void oddButPlainPathsAreKept()
    {
        // Bytes that are not UTF-8, spaces, a newline, dots inside a name: plain components.
        const std::string odd = "MY VAULTS/caf\xe9\n..coffer";
        QCOMPARE(vaultFileOn(stick(true), odd).value_or(""), "/media/alice/STICK/" + odd);
        Media::Medium rootMounted = stick(true);
        rootMounted.mountPoints = {"/mnt/"};
        QCOMPARE(vaultFileOn(rootMounted, "v.coffer").value_or(""), std::string("/mnt/v.coffer"));
        QVERIFY(!vaultFileOn(stick(false), "v.coffer"));
    }

    // Which registered vaults a drive holds: by filesystem UUID, else serial and label together.
    void registryFindsTheVaultsOfADrive()
    {
        QTemporaryDir dir;
        Registry registry(dir.filePath(QStringLiteral("vaults.json")).toStdString());
        registry.load();
        VaultEntry onStick = vault(Trigger::Backup, SecretSource::KeyFile);
        VaultEntry elsewhere = vault(Trigger::Ask, SecretSource::Prompt);
        elsewhere.luksUuid = "11111111-2222-4333-8444-555555555555";
        elsewhere.medium.fsUuid = "9999-0000";
        registry.putVault(onStick);
        registry.putVault(elsewhere);
        const std::vector<VaultEntry> found = registry.vaultsOn(stick(false));
        QCOMPARE(found.size(), size_t(1));
        QCOMPARE(found[0].luksUuid, onStick.luksUuid);

        // The same label on another drive (another UUID) is not the vault's drive.
        Media::Medium sameLabel = stick(true);
        sameLabel.fsUuid = "5555-6666";
        QVERIFY(registry.vaultsOn(sameLabel).empty());
    }
};

QTEST_GUILESS_MAIN(TestConfigPlug)
#include "test_config_plug.moc"
