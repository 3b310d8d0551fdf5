// The create wizard (ui/createwizard.h) driven from the keyboard under Xvfb, against the fake
// helper on a private bus (L0; the real helper makes vaults in the VM). The medium checks run on
// this host's real filesystem, and through the facts of FAT32 and exFAT (which this kernel cannot
// mount); the preview is the real sync engine over real folders; the header backup is
// libcryptsetup's, of a real LUKS2 header the fake "helper" writes.

#include "block/uniquefd.h"
#include "block/vault.h"
#include "block/mediuminternal.h"
#include "block/vaultinternal.h"
#include "config/registry.h"
#include "createwizard.h"
#include "fakehelper.h"
#include "guitest.h"
#include "xvfbmain.h"
#include "keyfilechooser.h"
#include "media/mediamonitor.h"
#include "passphrasefields.h"
#include "planview.h"
#include "texts.h"
#include "uihelpers.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QToolButton>
#include <QTreeWidget>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::CreateWizard;
using Ui::localPath;
using Ui::StatusLine;

namespace {

constexpr uint64_t MiB = 1ull << 20;

void writeFile(const QString &path, qsizetype bytes)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(bytes, 's'));
}

template<typename T>
T *child(QWidget *root, const char *name)
{
    T *w = root->findChild<T *>(QLatin1String(name));
    if (!w)
        qWarning("no %s named %s", T::staticMetaObject.className(), name);
    return w;
}

// Presses Alt+<letter> where the keyboard is now.
void mnemonic(char letter)
{
    QWidget *focus = QApplication::focusWidget();
    QVERIFY(focus);
    QTest::keyClick(focus, Qt::Key(Qt::Key_A + (letter - 'a')), Qt::AltModifier);
}

void typeInto(QLineEdit *edit, const QString &text)
{
    edit->setFocus();
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
}

Create::MediumProbe fakeMedium(unsigned long magic, uint64_t freeBytes)
{
    return [=](int) { return Vault::mediumInfoFor(magic, freeBytes); };
}

} // namespace

class TestCreateWizard : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    QTemporaryDir m_dir;
    QString m_home, m_stick, m_small, m_tiny;
    QStringList m_mounts;

    // A tmpfs of `size` at `path`: a filesystem of its own, as a USB stick is.
    void mountStick(const QString &path, const char *size)
    {
        QDir().mkpath(path);
        const std::string options = std::string("size=") + size + ",mode=0755";
        QCOMPARE(::mount("coffer-test-stick", localPath(path).c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()), 0);
        m_mounts << path;
    }
    std::unique_ptr<FakeHelper> m_fake;
    std::unique_ptr<Client::HelperClient> m_client;
    std::unique_ptr<Config::Registry> m_registry;
    std::unique_ptr<Media::MediaMonitor> m_media;
    QPointer<CreateWizard> m_wizard;

    StatusLine *status(const char *name) { return child<StatusLine>(m_wizard, name); }

    void next()
    {
        QVERIFY(m_wizard->button(QWizard::NextButton)->isEnabled());
        const int before = m_wizard->currentId();
        mnemonic(m_wizard->currentId() == CreateWizard::SummaryPage ? 'c' : 'n');
        QTRY_VERIFY(m_wizard->currentId() != before);
    }

    // Opens a wizard and fills the pages up to `page`, each with what a person would choose.
    void walkTo(int page, const QString &folder, uint64_t size = 64 * MiB)
    {
        m_wizard = new CreateWizard(m_client.get(), m_registry.get(), m_media.get());
        m_wizard->setKeyDerivation({8192, 0, 4, 1});
        m_wizard->show();
        m_wizard->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_wizard));
        typeInto(child<QLineEdit>(m_wizard, "folder"), folder);
        if (page == CreateWizard::MediumPage)
            return;
        next();
        auto *unit = child<QComboBox>(m_wizard, "sizeUnit");
        unit->setCurrentIndex(0);
        auto *spin = child<QDoubleSpinBox>(m_wizard, "size");
        spin->setFocus();
        spin->selectAll();
        QTest::keyClicks(spin, QString::number(size / MiB));
        QTest::keyClick(spin, Qt::Key_Tab);
        if (page == CreateWizard::NameSizePage)
            return;
        next();
        auto *fields = child<Ui::NewPassphraseFields>(m_wizard, "newPassphraseFields");
        QTest::keyClicks(fields->passphrase()->lineEdit(), QStringLiteral("correct horse battery staple"));
        QTest::keyClicks(fields->confirmation()->lineEdit(), QStringLiteral("correct horse battery staple"));
        if (page == CreateWizard::PassphrasePage)
            return;
        next();
        if (page == CreateWizard::KeyFilePage)
            return;
        next();
        if (page == CreateWizard::FoldersPage)
            return;
        next();
        if (page == CreateWizard::ModePage)
            return;
        next();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        m_home = m_dir.filePath(QStringLiteral("home"));
        m_stick = m_dir.filePath(QStringLiteral("stick"));
        writeFile(m_home + QStringLiteral("/.ssh/id_ed25519"), 411);
        writeFile(m_home + QStringLiteral("/.ssh/known_hosts"), 2200);
        writeFile(m_home + QStringLiteral("/.gnupg/pubring.kbx"), 9000);
        writeFile(m_home + QStringLiteral("/.gnupg/S.gpg-agent.tmp"), 10);
        writeFile(m_home + QStringLiteral("/Documents/taxes.pdf"), 40 * MiB);
        if (::geteuid() != 0)
            QSKIP("needs root: tmpfs mounts stand in for USB sticks");
        mountStick(m_stick, "1g");
        m_small = m_dir.filePath(QStringLiteral("small-stick"));
        mountStick(m_small, "200m");
        m_tiny = m_dir.filePath(QStringLiteral("tiny-stick"));
        mountStick(m_tiny, "20m");
        qputenv("HOME", QFile::encodeName(m_home));
        qputenv("XDG_DATA_HOME", QFile::encodeName(m_dir.filePath(QStringLiteral("data"))));
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(QStringLiteral("config"))));
    }

    void init()
    {
        m_fake = std::make_unique<FakeHelper>(m_bus.address());
        m_client = std::make_unique<Client::HelperClient>(m_bus.connect());
        m_registry = std::make_unique<Config::Registry>(localPath(m_dir.filePath(QStringLiteral("config/coffer/vaults.json"))));
        m_media = std::make_unique<Media::MediaMonitor>();
    }

    void cleanup()
    {
        delete m_wizard;
        m_client.reset();
        m_fake.reset();
        m_registry.reset();
        m_media.reset();
    }

    void cleanupTestCase()
    {
        QThreadPool::globalInstance()->waitForDone();
        for (const QString &path : m_mounts)
            ::umount2(localPath(path).c_str(), MNT_DETACH);
    }

    // ---- the whole way, from the keyboard --------------------------------------------------------

    void createsAVaultFromTheKeyboard()
    {
        // A USB stick the desktop mounted (the media monitor's news).
        Media::Medium stick;
        stick.devNode = "/dev/sdb1";
        stick.devnum = makedev(8, 17);
        stick.fsUuid = "1234-ABCD";
        stick.label = "STICK";
        stick.fsType = "ext4";
        stick.serial = "4C530001";
        stick.mountPoints = {localPath(m_stick)};
        stick.freeBytes = 8ull << 30;

        m_wizard = new CreateWizard(m_client.get(), m_registry.get(), m_media.get());
        m_wizard->setKeyDerivation({8192, 0, 4, 1});
        QSignalSpy created(m_wizard.data(), &CreateWizard::vaultCreated);
        QSignalSpy backup(m_wizard.data(), &CreateWizard::firstBackupRequested);
        m_wizard->show();
        m_wizard->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_wizard));
        emit m_media->mediumAdded(stick);

        // Where: the stick, picked from the list by keyboard.
        auto *media = child<QListWidget>(m_wizard, "media");
        QCOMPARE(media->count(), 2);
        QVERIFY(media->item(0)->text().contains(QLatin1String("STICK")));
        QCOMPARE(media->item(1)->text(), QStringLiteral("Another folder…"));
        media->setFocus();
        QTest::keyClick(media, Qt::Key_Home);
        QCOMPARE(child<QLineEdit>(m_wizard, "folder")->text(), m_stick);
        QVERIFY(status("mediumStatus")->text().contains(QLatin1String("free")));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-01-where"));
        next();

        // Name and size.
        QCOMPARE(m_wizard->currentId(), int(CreateWizard::NameSizePage));
        typeInto(child<QLineEdit>(m_wizard, "name"), QStringLiteral("keys"));
        auto *unit = child<QComboBox>(m_wizard, "sizeUnit");
        unit->setFocus();
        QTest::keyClick(unit, Qt::Key_Up); // GiB -> MiB
        QCOMPARE(unit->currentIndex(), 0);
        auto *size = child<QDoubleSpinBox>(m_wizard, "size");
        size->setFocus();
        size->selectAll();
        QTest::keyClicks(size, QStringLiteral("96"));
        QTest::keyClick(size, Qt::Key_Tab);
        QCOMPARE(child<QLabel>(m_wizard, "fileName")->text(), m_stick + QStringLiteral("/keys.coffer"));
        QVERIFY(status("sizeStatus")->text().startsWith(QLatin1String("The vault holds about")));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-02-name-size"));
        next();

        // Passphrase.
        auto *fields = child<Ui::NewPassphraseFields>(m_wizard, "newPassphraseFields");
        QVERIFY(fields->passphrase()->lineEdit()->hasFocus());
        QTest::keyClicks(fields->passphrase()->lineEdit(), QStringLiteral("Maple orbit quill 42 lantern"));
        QTest::keyClick(fields->passphrase()->lineEdit(), Qt::Key_Tab);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab); // past Show
        QCOMPARE(QApplication::focusWidget(), fields->confirmation()->lineEdit());
        QTest::keyClicks(fields->confirmation()->lineEdit(), QStringLiteral("Maple orbit quill 42 lantern"));
        QVERIFY(fields->isAcceptable());
        QVERIFY(fields->strengthBar()->format().startsWith(QLatin1String("Strong")));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-03-passphrase"));
        next();

        // A new random key file, in the suggested place (the home folder, off the stick).
        auto *useKey = child<QCheckBox>(m_wizard, "useKeyFile");
        useKey->setFocus();
        QTest::keyClick(useKey, Qt::Key_Space);
        auto *chooser = child<Ui::KeyFileChooser>(m_wizard, "keyFileChooser");
        const QString keyPath = m_home + QStringLiteral("/keys.coffer-key");
        QCOMPARE(chooser->newPath()->text(), keyPath);
        QVERIFY(chooser->isValid());
        QCOMPARE(chooser->status()->kind(), StatusLine::Kind::Info);
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-04-key-file"));
        next();

        // Folders: ~/.ssh and ~/.gnupg suggested (no ~/.password-store here); a pattern.
        auto *folders = child<QListWidget>(m_wizard, "folders");
        QCOMPARE(folders->count(), 2);
        QCOMPARE(folders->item(0)->text(), m_home + QStringLiteral("/.ssh"));
        QCOMPARE(folders->item(1)->text(), m_home + QStringLiteral("/.gnupg"));
        auto *excludes = child<QPlainTextEdit>(m_wizard, "excludes");
        excludes->setFocus();
        QTest::keyClicks(excludes, QStringLiteral("*.tmp"));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-05-folders"));
        next();

        // Snapshots, with the retention offered.
        auto *snapshots = child<QRadioButton>(m_wizard, "snapshots");
        QVERIFY(!child<QSpinBox>(m_wizard, "keepLast")->isEnabled());
        mnemonic('s');
        QTRY_VERIFY(snapshots->isChecked());
        QVERIFY(child<QSpinBox>(m_wizard, "keepLast")->isEnabled());
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-06-mode"));
        next();

        // The preview: the engine's dry run over the real folders.
        auto *plan = child<Ui::PlanView>(m_wizard, "planView");
        QTRY_VERIFY_WITH_TIMEOUT(m_wizard->button(QWizard::NextButton)->isEnabled(), waitMs);
        QCOMPARE(plan->verdict()->kind(), StatusLine::Kind::Success);
        QVERIFY(plan->summary()->text().contains(QStringLiteral("11.3 KiB")));
        QStringList items;
        for (int i = 0; i < plan->items()->topLevelItemCount(); ++i)
            items << plan->items()->topLevelItem(i)->text(1);
        QVERIFY(items.contains(QStringLiteral(".ssh/id_ed25519")));
        QVERIFY(items.contains(QStringLiteral(".gnupg/pubring.kbx")));
        QVERIFY(!items.contains(QStringLiteral(".gnupg/S.gpg-agent.tmp")));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-07-preview"));
        next();

        // When: back up at once.
        mnemonic('o');
        QTRY_VERIFY(child<QRadioButton>(m_wizard, "triggerBackup")->isChecked());
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-08-trigger"));
        next();

        // Summary, then Create (Alt+C).
        const QString summary = child<QLabel>(m_wizard, "summary")->text();
        QVERIFY(summary.contains(QStringLiteral("“keys”, 96.0 MiB")));
        QVERIFY(summary.contains(QStringLiteral("a new key file saved as ") + keyPath));
        QVERIFY(summary.contains(QStringLiteral("Leaves out: *.tmp")));
        QCOMPARE(m_wizard->button(QWizard::NextButton)->text(), QStringLiteral("&Create"));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-09-summary"));

        // The fake helper makes what the real one would: the file sized, a LUKS2 header in it.
        const std::string vaultFile = localPath(m_stick + QStringLiteral("/keys.coffer"));
        Test::FakeJob *job = nullptr;
        m_fake->manager->onCreate = [&](Test::FakeJob *j) {
            job = j;
            QCOMPARE(::truncate(vaultFile.c_str(), off_t(m_fake->manager->createdSize)), 0);
            Vault::CreateOptions o;
            o.name = "keys";
            o.pbkdf = {8192, 0, 4, 1};
            Vault::formatLuks2(vaultFile, Vault::randomKey(64), SecretBuffer::fromString("Maple orbit quill 42 lantern"), o);
        };
        next();
        QTRY_VERIFY_WITH_TIMEOUT(job, waitMs);
        job->setProgress(0.5, 0, 0, {});
        QTRY_COMPARE_WITH_TIMEOUT(child<QProgressBar>(m_wizard, "createProgress")->value(), 500, waitMs);
        screenshot(m_wizard, QStringLiteral("create-10-creating"));
        job->finish(JobOutcome::Ok);
        QTRY_VERIFY_WITH_TIMEOUT(m_wizard->button(QWizard::FinishButton)->isEnabled(), waitMs);

        // What the helper was asked.
        QCOMPARE(m_fake->manager->createdSize, qulonglong(96 * MiB));
        QCOMPARE(m_fake->manager->secrets.last().bytes, QByteArray("Maple orbit quill 42 lantern"));
        QCOMPARE(m_fake->manager->lastOptions.value(QStringLiteral("label")).toString(), QStringLiteral("keys"));
        QCOMPARE(m_fake->manager->lastOptions.value(QStringLiteral("pbkdf-iterations")).toUInt(), 4u);
        QVERIFY(m_fake->manager->lastOptions.contains(QStringLiteral("keyfile")));
        // The key file: 64 random bytes, the owner's only.
        struct stat key {};
        QCOMPARE(::stat(localPath(keyPath).c_str(), &key), 0);
        QCOMPARE(key.st_mode & 0777, mode_t(0600));
        QCOMPARE(key.st_size, off_t(64));

        // Registered, with the choices made.
        QCOMPARE(created.size(), 1);
        const QString uuid = created.at(0).at(0).toString();
        QCOMPARE(m_wizard->createdVaultId(), uuid);
        Config::Registry reread(m_registry->path());
        reread.load();
        const std::optional<Config::VaultEntry> entry = reread.vault(uuid.toStdString());
        QVERIFY(entry);
        QCOMPARE(entry->name, std::string("keys"));
        QCOMPARE(entry->medium, (Config::MediumRef{"1234-ABCD", "4C530001", "STICK"}));
        QCOMPARE(entry->path, std::string("keys.coffer"));
        QCOMPARE(entry->sources, (std::vector<std::string>{localPath(m_home + QStringLiteral("/.ssh")),
                                                             localPath(m_home + QStringLiteral("/.gnupg"))}));
        QCOMPARE(entry->excludes, std::vector<std::string>{"*.tmp"});
        QCOMPARE(entry->mode, Sync::Mode::Snapshot);
        QCOMPARE(entry->retention, (Sync::Retention{10, 7, 4}));
        QCOMPARE(entry->trigger, Config::Trigger::Backup);
        QCOMPARE(entry->secretSource, Config::SecretSource::KeyFile);
        QCOMPARE(entry->keyFile, localPath(keyPath));

        // The automatic header backup, off the drive, the owner's only, and a real header.
        const QString header = m_dir.filePath(QStringLiteral("data/coffer/headers/")) + uuid + QStringLiteral(".img");
        struct stat hs {};
        QCOMPARE(::stat(localPath(header).c_str(), &hs), 0);
        QCOMPARE(hs.st_mode & 0777, mode_t(0600));
        const UniqueFd hfd(::open(localPath(header).c_str(), O_RDONLY | O_CLOEXEC));
        QCOMPARE(QString::fromStdString(Vault::headerInfo(hfd.get()).luksUuid), uuid);
        QVERIFY(status("headerStatus")->text().contains(header));

        // Finish, with the first backup asked for.
        auto *backUpNow = child<QCheckBox>(m_wizard, "backUpNow");
        QVERIFY(backUpNow->isVisible() && backUpNow->isChecked());
        QVERIFY(!m_wizard->button(QWizard::BackButton)->isVisible());
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-11-done"));
        mnemonic('f');
        QTRY_VERIFY(!m_wizard); // it deletes itself
        QCOMPARE(backup.size(), 1);
        QCOMPARE(backup.at(0).at(0).toString(), uuid);
    }

    // ---- the medium checks, before anything is written ---------------------------------------------

    void fat32RefusesFiveGiBWithTheHelpersSentence()
    {
        const QStringList before = QDir(m_stick).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
        walkTo(CreateWizard::MediumPage, m_stick);
        m_wizard->setMediumProbe(fakeMedium(0x4d44, 20ull << 30));
        const QString facts = status("mediumStatus")->text();
        QVERIFY(facts.contains(QStringLiteral("vfat filesystem with 20.0 GiB free")));
        QVERIFY(facts.contains(QStringLiteral("smaller than 4.0 GiB, so the vault can be at most 4.0 GiB")));
        QVERIFY(facts.contains(QStringLiteral("cannot hold sparse files")));
        QCOMPARE(status("mediumStatus")->kind(), StatusLine::Kind::Warning);
        screenshot(m_wizard, QStringLiteral("create-check-fat32-medium"));
        next();
        auto *size = child<QDoubleSpinBox>(m_wizard, "size");
        size->setFocus();
        size->selectAll();
        QTest::keyClicks(size, QStringLiteral("5.00"));
        QTest::keyClick(size, Qt::Key_Tab);
        QCOMPARE(status("sizeStatus")->kind(), StatusLine::Kind::Error);
        QCOMPARE(status("sizeStatus")->text(),
                 QStringLiteral("A vault of 5.0 GiB does not fit on a vfat drive: files there must be smaller than 4 GiB. "
                                "Choose a smaller size or a drive formatted exFAT or ext4."));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        QVERIFY(child<QLabel>(m_wizard, "sizeLimit")->text().contains(QStringLiteral("smaller than 4 GiB")));
        screenshot(m_wizard, QStringLiteral("create-check-fat32-5gib"));
        size->selectAll();
        QTest::keyClicks(size, QStringLiteral("3.50"));
        QTest::keyClick(size, Qt::Key_Tab);
        QVERIFY(m_wizard->button(QWizard::NextButton)->isEnabled());
        QCOMPARE(status("sizeStatus")->kind(), StatusLine::Kind::Warning); // written in full at once
        QCOMPARE(QDir(m_stick).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), before); // nothing written
    }

    void exfatWarnsBeforeWriting()
    {
        walkTo(CreateWizard::MediumPage, m_stick);
        m_wizard->setMediumProbe(fakeMedium(0x2011BAB0, 20ull << 30));
        QCOMPARE(status("mediumStatus")->kind(), StatusLine::Kind::Warning);
        QVERIFY(status("mediumStatus")->text().contains(
            QStringLiteral("The drive is formatted exfat, which cannot hold sparse files: the vault's full size is written "
                           "to the drive at once, which takes a while.")));
        QVERIFY(m_wizard->button(QWizard::NextButton)->isEnabled());
        screenshot(m_wizard, QStringLiteral("create-check-exfat"));
        next();
        QVERIFY(status("sizeStatus")->text().contains(QStringLiteral("are written to the drive when it is made")));
    }

    void tooLittleSpace()
    {
        walkTo(CreateWizard::MediumPage, m_small);
        QVERIFY(status("mediumStatus")->text().contains(QStringLiteral("tmpfs filesystem with 200.0 MiB free")));
        next();
        // The suggestion stays within the space there is.
        QVERIFY(child<QLabel>(m_wizard, "sizeLimit")->text().contains(QStringLiteral("At most 200.0 MiB here")));
        auto *size = child<QDoubleSpinBox>(m_wizard, "size");
        QCOMPARE(size->value(), 200.0);
        child<QComboBox>(m_wizard, "sizeUnit")->setCurrentIndex(0);
        size->setFocus();
        size->selectAll();
        QTest::keyClicks(size, QStringLiteral("300"));
        QTest::keyClick(size, Qt::Key_Tab);
        QCOMPARE(status("sizeStatus")->text(),
                 QStringLiteral("The drive has 200.0 MiB free, but the vault needs 300.0 MiB more. Choose a smaller size or "
                                "free some space."));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        screenshot(m_wizard, QStringLiteral("create-check-no-space"));

        // Less than the smallest vault: not even the medium page lets it through.
        m_wizard->back();
        typeInto(child<QLineEdit>(m_wizard, "folder"), m_tiny);
        QCOMPARE(status("mediumStatus")->kind(), StatusLine::Kind::Error);
        QVERIFY(status("mediumStatus")->text().contains(QStringLiteral("There is not room for the smallest vault (32.0 MiB).")));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
    }

    void badFoldersAndNames()
    {
        walkTo(CreateWizard::MediumPage, m_dir.filePath(QStringLiteral("missing")));
        QCOMPARE(status("mediumStatus")->kind(), StatusLine::Kind::Error);
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        typeInto(child<QLineEdit>(m_wizard, "folder"), m_stick);
        next();
        auto *name = child<QLineEdit>(m_wizard, "name");
        typeInto(name, QStringLiteral("a/b"));
        QCOMPARE(status("sizeStatus")->text(), QStringLiteral("The vault's name may not contain '/', '\\', control characters or invisible characters."));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        // A file of that name is there already.
        writeFile(m_stick + QStringLiteral("/taken.coffer"), 1);
        typeInto(name, QStringLiteral("taken"));
        QCOMPARE(status("sizeStatus")->text(), QStringLiteral("There is a file of that name there already; choose another name."));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        QFile::remove(m_stick + QStringLiteral("/taken.coffer"));
    }

    // ---- passphrase ----------------------------------------------------------------------------------

    void passphraseWeakOrMismatched()
    {
        walkTo(CreateWizard::NameSizePage, m_stick);
        next();
        auto *fields = child<Ui::NewPassphraseFields>(m_wizard, "newPassphraseFields");
        QTest::keyClicks(fields->passphrase()->lineEdit(), QStringLiteral("password1"));
        QTest::keyClicks(fields->confirmation()->lineEdit(), QStringLiteral("password1"));
        QCOMPARE(fields->status()->kind(), StatusLine::Kind::Error);
        QCOMPARE(fields->status()->text(), QStringLiteral("This passphrase is too easy to guess. It contains a password or "
                                                          "word that attackers try first. A few unrelated words make a strong one."));
        QVERIFY(fields->strengthBar()->format().startsWith(QLatin1String("Weak")));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        screenshot(m_wizard, QStringLiteral("create-passphrase-weak"));

        typeInto(fields->passphrase()->lineEdit(), QStringLiteral("Maple orbit quill 42 lantern"));
        typeInto(fields->confirmation()->lineEdit(), QStringLiteral("Maple orbit quill 42 lanter"));
        QCOMPARE(fields->status()->text(), QStringLiteral("The two passphrases differ."));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        // Show shows both, and says so to a screen reader.
        fields->passphrase()->showButton()->setFocus();
        QTest::keyClick(fields->passphrase()->showButton(), Qt::Key_Space);
        QCOMPARE(fields->confirmation()->lineEdit()->echoMode(), QLineEdit::Normal);
        QCOMPARE(fields->passphrase()->showButton()->accessibleName(), QStringLiteral("Hide passphrase"));
        screenshot(m_wizard, QStringLiteral("create-passphrase-mismatch"));
        QTest::keyClick(fields->confirmation()->lineEdit(), Qt::Key_N);
        QVERIFY(m_wizard->button(QWizard::NextButton)->isEnabled());
    }

    void keyFileBesideTheVaultIsWarnedAbout()
    {
        walkTo(CreateWizard::PassphrasePage, m_stick);
        next();
        child<QCheckBox>(m_wizard, "useKeyFile")->setChecked(true);
        auto *chooser = child<Ui::KeyFileChooser>(m_wizard, "keyFileChooser");
        typeInto(chooser->newPath(), m_stick + QStringLiteral("/secrets.key"));
        QCOMPARE(chooser->status()->kind(), StatusLine::Kind::Warning);
        QVERIFY(chooser->status()->text().startsWith(QStringLiteral("The key file would be on the vault's own drive")));
        QVERIFY(m_wizard->button(QWizard::NextButton)->isEnabled()); // warned, not refused
        screenshot(m_wizard, QStringLiteral("create-key-file-on-drive"));
        // An existing file is never overwritten by a new key.
        writeFile(m_home + QStringLiteral("/old.key"), 64);
        typeInto(chooser->newPath(), m_home + QStringLiteral("/old.key"));
        QCOMPARE(chooser->status()->kind(), StatusLine::Kind::Error);
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        chooser->existingChoice()->setChecked(true);
        typeInto(chooser->existingPath(), m_home + QStringLiteral("/old.key"));
        QVERIFY(chooser->isValid());
        QVERIFY(m_wizard->button(QWizard::NextButton)->isEnabled());
    }

    // ---- the preview -----------------------------------------------------------------------------------

    void previewThatDoesNotFitOffersASize()
    {
        walkTo(CreateWizard::FoldersPage, m_stick, 32 * MiB);
        m_wizard->addFolder(m_home + QStringLiteral("/Documents"));
        next();
        next();
        auto *plan = child<Ui::PlanView>(m_wizard, "planView");
        QTRY_VERIFY_WITH_TIMEOUT(!plan->verdict()->text().isEmpty(), waitMs);
        QCOMPARE(plan->verdict()->kind(), StatusLine::Kind::Error);
        QVERIFY(plan->verdict()->text().startsWith(QStringLiteral("It does not fit")));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        auto *grow = child<QPushButton>(m_wizard, "growToFit");
        QVERIFY(grow->isVisible());
        const uint64_t fit = Create::sizeFor(Create::spaceNeeded(Create::preview(
            {localPath(m_home + QStringLiteral("/.ssh")), localPath(m_home + QStringLiteral("/.gnupg")),
             localPath(m_home + QStringLiteral("/Documents"))}, Sync::Mode::Mirror, {}, 32 * MiB).dryRun.plan));
        QCOMPARE(grow->text(), QStringLiteral("&Make it %1").arg(Ui::Texts::bytes(fit)));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_wizard);
        screenshot(m_wizard, QStringLiteral("create-preview-does-not-fit"));
        mnemonic('m');
        QTRY_VERIFY_WITH_TIMEOUT(m_wizard->button(QWizard::NextButton)->isEnabled(), waitMs);
        QCOMPARE(plan->verdict()->kind(), StatusLine::Kind::Success);
        while (m_wizard->currentId() != CreateWizard::NameSizePage)
            m_wizard->back();
        QVERIFY(child<QDoubleSpinBox>(m_wizard, "size")->value() >= double(fit / MiB));
    }

    void duplicateFolderNamesAreRefused()
    {
        walkTo(CreateWizard::FoldersPage, m_stick);
        QDir().mkpath(m_dir.filePath(QStringLiteral("elsewhere/.ssh")));
        m_wizard->addFolder(m_dir.filePath(QStringLiteral("elsewhere/.ssh")));
        QCOMPARE(status("foldersStatus")->kind(), StatusLine::Kind::Error);
        QVERIFY(status("foldersStatus")->text().contains(QStringLiteral("have the same name, \".ssh\"")));
        QVERIFY(!m_wizard->button(QWizard::NextButton)->isEnabled());
        auto *folders = child<QListWidget>(m_wizard, "folders");
        folders->setFocus();
        QTest::keyClick(folders, Qt::Key_End);
        mnemonic('r');
        QTRY_VERIFY(m_wizard->button(QWizard::NextButton)->isEnabled());
        QCOMPARE(folders->count(), 2);
    }

    // ---- when the helper says no -------------------------------------------------------------------------

    void failedCreationLeavesNothing()
    {
        walkTo(CreateWizard::KeyFilePage, m_stick);
        child<QCheckBox>(m_wizard, "useKeyFile")->setChecked(true);
        const QString keyPath = child<Ui::KeyFileChooser>(m_wizard, "keyFileChooser")->newPath()->text();
        next();
        next();
        next();
        QTRY_VERIFY_WITH_TIMEOUT(m_wizard->button(QWizard::NextButton)->isEnabled(), waitMs);
        next();
        next();
        m_fake->errors[QStringLiteral("CreateVault")] = DBusErrors::errorName(ErrorCode::NotAuthorized);
        next();
        auto *createStatus = status("createStatus");
        QTRY_COMPARE_WITH_TIMEOUT(createStatus->kind(), StatusLine::Kind::Error, waitMs);
        QCOMPARE(createStatus->text(), QStringLiteral("The vault was not made: The fake helper refuses CreateVault."));
        QVERIFY(!QFile::exists(m_stick + QStringLiteral("/secrets.coffer")));
        QVERIFY(!QFile::exists(keyPath)); // the new key opens nothing: gone too
        QVERIFY(!m_wizard->button(QWizard::FinishButton)->isEnabled());
        auto *goBack = child<QPushButton>(m_wizard, "goBack");
        QVERIFY(goBack->isVisible());
        screenshot(m_wizard, QStringLiteral("create-failed"));
        mnemonic('g'); // a button's mnemonic clicks it a moment later (animateClick)
        QTRY_COMPARE(m_wizard->currentId(), int(CreateWizard::SummaryPage));
        QVERIFY(m_registry->vaults().empty());
    }

    void closingWhileCreatingStopsTheJob()
    {
        walkTo(CreateWizard::ModePage, m_stick);
        next();
        QTRY_VERIFY_WITH_TIMEOUT(m_wizard->button(QWizard::NextButton)->isEnabled(), waitMs);
        next();
        next();
        Test::FakeJob *job = nullptr;
        m_fake->manager->onCreate = [&](Test::FakeJob *j) { job = j; };
        next();
        QTRY_VERIFY_WITH_TIMEOUT(job, waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(m_wizard->button(QWizard::CancelButton)->isEnabled(), waitMs);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Escape);
        QTRY_COMPARE_WITH_TIMEOUT(job->cancelCalls, 1, waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(!m_wizard, waitMs); // closed once the helper stopped
        QVERIFY(!QFile::exists(m_stick + QStringLiteral("/secrets.coffer")));
    }
};

COFFER_XVFB_MAIN(TestCreateWizard)
#include "test_createwizard.moc"
