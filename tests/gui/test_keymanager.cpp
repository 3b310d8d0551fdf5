// The key management dialog (ui/keymanagerdialog.h) under Xvfb against the fake helper (L0): what
// each change sends the helper (the current key and the new one, byte for byte), a wrong current
// passphrase said inline with the dialog staying, a weak new passphrase refused, a key file made
// and added (and gone again when the helper refuses), a key file removed only after asking, the
// header backup refused on the vault's own filesystem and written elsewhere (never over a file),
// the automatic header backup refreshed after a change, and the recovery passphrase generated,
// added, shown once and saved as a PDF. A locked vault's header is changed for real (a LUKS2
// file, libcryptsetup): a wrong passphrase, a key file removed, the header saved. The real
// helper does the open vault's changes in the VM.

#include "fakehelper.h"
#include "guitest.h"
#include "xvfbmain.h"

#include "block/uniquefd.h"
#include "block/vault.h"
#include "block/vaultinternal.h"
#include "client/vaulthandle.h"
#include "keyfilechooser.h"
#include "keymanagerdialog.h"
#include "keys/headerbackups.h"
#include "keys/recovery.h"
#include "passphrasefields.h"
#include "uihelpers.h"

#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::KeyManagerDialog;
using Ui::StatusLine;
using Ui::localPath;

namespace {

const QString OldPassphrase = QStringLiteral("the current passphrase 1");
const QString NewPassphrase = QStringLiteral("Vivid otter juggles 7 lanterns");

// Presses `button` (by name) on the next message box that shows, from within its own event loop.
void answerNextBox(const QString &buttonText)
{
    auto *timer = new QTimer;
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, [timer, buttonText] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box)
            return;
        timer->stop();
        timer->deleteLater();
        for (QAbstractButton *b : box->buttons()) {
            if (Ui::withoutMnemonic(b->text()) == buttonText) {
                b->click();
                return;
            }
        }
        box->reject();
    });
    timer->start();
}

QByteArray contents(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

unsigned modeOf(const QString &path)
{
    struct stat st {};
    return ::stat(localPath(path).c_str(), &st) == 0 ? st.st_mode & 07777 : ~0u;
}

} // namespace

class TestKeyManager : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    QTemporaryDir m_dir;
    QString m_vaultFile;
    std::unique_ptr<FakeHelper> m_fake;
    std::unique_ptr<Client::HelperClient> m_client;
    FakeVault *m_fakeVault = nullptr;
    Client::VaultHandle *m_vault = nullptr;
    QPointer<KeyManagerDialog> m_dialog;

    template<typename T>
    T *child(const char *name) { return m_dialog->findChild<T *>(QLatin1String(name)); }

    StatusLine *status() { return m_dialog->status(); }

    KeyManagerDialog *open()
    {
        auto *dialog = new KeyManagerDialog(m_vault, m_fakeVault->id, QStringLiteral("keys"));
        dialog->show();
        dialog->activateWindow();
        if (!QTest::qWaitForWindowActive(dialog))
            return nullptr;
        return dialog;
    }

    void typeCurrent(const QString &text)
    {
        QLineEdit *edit = child<Ui::SecretField>("current")->passphrase()->lineEdit();
        edit->setFocus();
        QTest::keyClicks(edit, text);
    }

    void typeNew(const QString &text, const QString &again)
    {
        auto *fields = child<Ui::NewPassphraseFields>("newPassphrase");
        QTest::keyClicks(fields->passphrase()->lineEdit(), text);
        QTest::keyClicks(fields->confirmation()->lineEdit(), again);
    }

    void waitDone(QSignalSpy &spy, int count = 1)
    {
        QTRY_COMPARE_WITH_TIMEOUT(spy.size(), count, waitMs);
    }

    // Presses Save Header Backup from the keyboard (its mnemonic, Alt+H, did not reach it under
    // Xvfb from the tab's line edit; Tab to it and Space does).
    void saveHeader()
    {
        auto *button = child<QPushButton>("saveHeader");
        button->setFocus();
        QTest::keyClick(button, Qt::Key_Space);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        qputenv("HOME", QFile::encodeName(m_dir.filePath(QStringLiteral("home"))));
        qputenv("XDG_DATA_HOME", QFile::encodeName(m_dir.filePath(QStringLiteral("data"))));
        QDir().mkpath(m_dir.filePath(QStringLiteral("home")));
        QDir().mkpath(m_dir.filePath(QStringLiteral("drive")));
        m_vaultFile = m_dir.filePath(QStringLiteral("drive/keys.coffer"));
        QFile(m_vaultFile).open(QIODevice::WriteOnly);
    }

    void init()
    {
        m_fake = std::make_unique<FakeHelper>(m_bus.address());
        m_client = std::make_unique<Client::HelperClient>(m_bus.connect());
        m_fakeVault = m_fake->addVault(Client::identify(localPath(m_vaultFile)), QStringLiteral("keys"));
        m_vault = lookUpVault(m_client.get(), localPath(m_vaultFile));
        QVERIFY(m_vault && m_vault->isUnlocked());
        m_dialog = open();
        QVERIFY(m_dialog);
    }

    void cleanup()
    {
        delete m_dialog;
        m_client.reset();
        m_fake.reset();
    }

    void changesThePassphrase()
    {
        // An automatic header backup from before: refreshed after the change.
        Keys::makeHeaderBackupDirectory();
        const QString automatic = QString::fromStdString(Keys::automaticHeaderBackupPath(m_fakeVault->id.toStdString()));
        QFile old(automatic);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("OLD HEADER");
        old.close();

        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        auto *change = child<QPushButton>("change");
        QVERIFY(!change->isEnabled());
        typeCurrent(OldPassphrase);
        typeNew(NewPassphrase, NewPassphrase);
        QVERIFY(change->isEnabled());
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_dialog);
        screenshot(m_dialog, QStringLiteral("keys-01-passphrase"));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_H, Qt::AltModifier);
        waitDone(done);
        QCOMPARE(done.at(0).at(0).toBool(), true);
        QCOMPARE(m_fakeVault->secrets.size(), 2);
        QCOMPARE(m_fakeVault->secrets[0].bytes, OldPassphrase.toUtf8());
        QCOMPARE(m_fakeVault->secrets[1].bytes, NewPassphrase.toUtf8());
        QCOMPARE(status()->kind(), StatusLine::Kind::Success);
        QCOMPARE(status()->text(), QStringLiteral("The passphrase of “keys” is changed. The old one no longer opens it."));
        QVERIFY(child<Ui::SecretField>("current")->isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(contents(automatic), QByteArray("HEADER"), waitMs);
        QVERIFY(!QFileInfo::exists(automatic + QStringLiteral(".new")));
    }

    void aWrongCurrentPassphraseIsSaidInline()
    {
        m_fake->errors[QStringLiteral("ChangePassphrase")] = DBusErrors::errorName(ErrorCode::BadPassphrase);
        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        typeCurrent(QStringLiteral("not it"));
        typeNew(NewPassphrase, NewPassphrase);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_H, Qt::AltModifier);
        waitDone(done);
        QCOMPARE(done.at(0).at(0).toBool(), false);
        QVERIFY(m_dialog->isVisible());
        QCOMPARE(status()->kind(), StatusLine::Kind::Error);
        QCOMPARE(status()->text(), QStringLiteral("The current passphrase (or key file) does not open “keys”. Nothing was changed."));
        QCOMPARE(QApplication::focusWidget(), child<Ui::SecretField>("current")->passphrase()->lineEdit());
        // What was typed as the new one stays, to try again.
        QVERIFY(child<Ui::NewPassphraseFields>("newPassphrase")->isAcceptable());
        screenshot(m_dialog, QStringLiteral("keys-02-wrong-passphrase"));
    }

    void aWeakOrMistypedNewPassphraseIsRefused()
    {
        typeCurrent(OldPassphrase);
        typeNew(QStringLiteral("password1"), QStringLiteral("password1"));
        QVERIFY(!child<QPushButton>("change")->isEnabled());
        child<Ui::NewPassphraseFields>("newPassphrase")->clear();
        typeNew(NewPassphrase, NewPassphrase + QStringLiteral("x"));
        QVERIFY(!child<QPushButton>("change")->isEnabled());
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_H, Qt::AltModifier);
        QTest::qWait(100);
        QVERIFY(!m_fake->calls.contains(QStringLiteral("ChangePassphrase")));
    }

    void addsANewKeyFile()
    {
        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::KeyFilesTab);
        auto *chooser = child<Ui::KeyFileChooser>("newKeyFile");
        chooser->newChoice()->setChecked(true);
        const QString key = m_dir.filePath(QStringLiteral("home/keys.key"));
        chooser->newPath()->setText(key);
        typeCurrent(OldPassphrase);
        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        QVERIFY(child<QPushButton>("addKeyFile")->isEnabled());
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_dialog);
        screenshot(m_dialog, QStringLiteral("keys-03-key-files"));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_D, Qt::AltModifier);
        waitDone(done);
        QCOMPARE(done.at(0).at(0).toBool(), true);
        QCOMPARE(contents(key).size(), qsizetype(Keys::keyFileBytes));
        QCOMPARE(modeOf(key), 0600u);
        QCOMPARE(m_fakeVault->secrets.size(), 2);
        QCOMPARE(m_fakeVault->secrets[0].bytes, OldPassphrase.toUtf8());
        QCOMPARE(m_fakeVault->secrets[1].bytes, contents(key));
        QCOMPARE(status()->kind(), StatusLine::Kind::Success);
    }

    void aRefusedKeyFileIsNotLeftBehind()
    {
        m_fake->errors[QStringLiteral("AddKey")] = DBusErrors::errorName(ErrorCode::BadPassphrase);
        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::KeyFilesTab);
        auto *chooser = child<Ui::KeyFileChooser>("newKeyFile");
        chooser->newChoice()->setChecked(true);
        const QString key = m_dir.filePath(QStringLiteral("home/refused.key"));
        chooser->newPath()->setText(key);
        typeCurrent(QStringLiteral("not it"));
        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_D, Qt::AltModifier);
        waitDone(done);
        QCOMPARE(done.at(0).at(0).toBool(), false);
        QVERIFY(!QFileInfo::exists(key));
        QCOMPARE(status()->kind(), StatusLine::Kind::Error);
    }

    void removesAKeyFileOnlyWhenAsked()
    {
        const QString key = m_dir.filePath(QStringLiteral("home/old.key"));
        QFile f(key);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("old key file");
        f.close();
        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::KeyFilesTab);
        child<QLineEdit>("removeKeyFile")->setText(key);
        auto *remove = child<QPushButton>("remove");
        QVERIFY(remove->isEnabled());

        answerNextBox(QStringLiteral("Cancel"));
        remove->click();
        QVERIFY(!m_fake->calls.contains(QStringLiteral("RemoveKey")));

        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        answerNextBox(QStringLiteral("Remove"));
        remove->click();
        waitDone(done);
        QCOMPARE(m_fakeVault->secrets.size(), 1);
        QCOMPARE(m_fakeVault->secrets[0].bytes, QByteArray("old key file"));
        QCOMPARE(status()->text(), QStringLiteral("%1 no longer opens “keys”.").arg(key));
        QVERIFY(QFileInfo::exists(key)); // the file itself stays
    }

    void theHeaderBackupStaysOffTheDrive()
    {
        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::HeaderTab);
        auto *target = child<QLineEdit>("headerTarget");
        target->setFocus();
        QVERIFY(target->text().startsWith(m_dir.filePath(QStringLiteral("home/"))));
        // Beside the vault file: refused, nothing written, the helper not asked.
        const QString onDrive = m_dir.filePath(QStringLiteral("drive/header.img"));
        target->setText(onDrive);
        saveHeader();
        QCOMPARE(status()->kind(), StatusLine::Kind::Error);
        QVERIFY(status()->text().contains(QStringLiteral("is on the vault's own drive")));
        QVERIFY(!QFileInfo::exists(onDrive));
        QVERIFY(!m_fake->calls.contains(QStringLiteral("BackupHeader")));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_dialog);
        screenshot(m_dialog, QStringLiteral("keys-04-header-refused"));

        // An existing file is never written over.
        const QString existing = m_dir.filePath(QStringLiteral("home/existing.img"));
        QFile e(existing);
        QVERIFY(e.open(QIODevice::WriteOnly));
        e.write("mine");
        e.close();
        target->setText(existing);
        saveHeader();
        QCOMPARE(status()->text(), QStringLiteral("%1 already exists: choose a new file name.").arg(existing));
        QCOMPARE(contents(existing), QByteArray("mine"));

        // Another filesystem (/dev/shm is tmpfs, not the vault's disk).
        struct stat shm {}, drive {};
        if (::stat("/dev/shm", &shm) != 0 || ::stat(localPath(m_vaultFile).c_str(), &drive) != 0 || shm.st_dev == drive.st_dev)
            QSKIP("no filesystem apart from the vault's to write to");
        QTemporaryDir elsewhere(QStringLiteral("/dev/shm/coffer-test-XXXXXX"));
        const QString off = elsewhere.filePath(QStringLiteral("keys header.img"));
        target->setText(off);
        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        saveHeader();
        waitDone(done);
        QCOMPARE(contents(off), QByteArray("HEADER"));
        QCOMPARE(status()->kind(), StatusLine::Kind::Success);
    }

    void theRecoveryPassphraseIsShownOnce()
    {
        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::RecoveryTab);
        QCOMPARE(m_dialog->shownRecoveryPassphrase(), QString());
        auto *generate = child<QPushButton>("generate");
        QVERIFY(!generate->isEnabled()); // needs the current key
        typeCurrent(OldPassphrase);
        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_G, Qt::AltModifier);
        waitDone(done);
        const QString shown = m_dialog->shownRecoveryPassphrase();
        QVERIFY2(QRegularExpression(QStringLiteral("^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$")).match(shown).hasMatch(),
                 qPrintable(shown));
        // The very passphrase shown is the key slot added.
        QCOMPARE(m_fakeVault->secrets.size(), 2);
        QCOMPARE(m_fakeVault->secrets[0].bytes, OldPassphrase.toUtf8());
        QCOMPARE(m_fakeVault->secrets[1].bytes, shown.toLatin1());
        QVERIFY(child<QPushButton>("print")->isVisible());
        QVERIFY(!generate->isVisible()); // one per visit
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_dialog);
        screenshot(m_dialog, QStringLiteral("keys-05-recovery"));

        const QString pdf = m_dir.filePath(QStringLiteral("home/recovery.pdf"));
        m_dialog->saveRecoverySheet(pdf);
        // The sheet as printed, kept with the screenshots to be looked at.
        const QString artifact = screenshotDir() + QStringLiteral("/keys-06-recovery-sheet.pdf");
        QFile::remove(artifact);
        QVERIFY(QFile::copy(pdf, artifact));
        QVERIFY(contents(pdf).startsWith("%PDF"));
        QCOMPARE(modeOf(pdf), 0600u);

        // Closed, it is gone: the dialog goes with it.
        QTest::keyClick(m_dialog, Qt::Key_Escape);
        QTRY_VERIFY(!m_dialog);
    }

    void aFailedRecoveryShowsNothing()
    {
        m_fake->errors[QStringLiteral("AddKey")] = DBusErrors::errorName(ErrorCode::BadPassphrase);
        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::RecoveryTab);
        typeCurrent(QStringLiteral("not it"));
        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_G, Qt::AltModifier);
        waitDone(done);
        QCOMPARE(m_dialog->shownRecoveryPassphrase(), QString());
        QCOMPARE(status()->kind(), StatusLine::Kind::Error);
        QVERIFY(child<QPushButton>("generate")->isVisible());
    }
    // A locked vault's keys are changed in the header of the person's own file: real LUKS2
    // (libcryptsetup on a file; no device-mapper needed). The checks that need no new key slot
    // (which would take cryptsetup's benchmarked key derivation): a wrong passphrase, a key file
    // removed, the header saved.
    void aLockedVaultForReal()
    {
        const QString file = m_dir.filePath(QStringLiteral("drive/locked.coffer"));
        const std::string path = localPath(file);
        QFile(file).open(QIODevice::WriteOnly);
        QCOMPARE(::truncate(path.c_str(), 32 << 20), 0);
        const SecretBuffer keyFile = SecretBuffer::fromString("a key file's contents");
        Vault::CreateOptions o;
        o.name = "locked";
        o.pbkdf = {8192, 0, 4, 1};
        o.keyFile = &keyFile;
        const std::string uuid = Vault::formatLuks2(path, Vault::randomKey(64), SecretBuffer::fromString(OldPassphrase.toStdString()), o);
        const auto keySlots = [&] {
            const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            return Vault::headerInfo(fd.get()).activeKeyslots.size();
        };
        QCOMPARE(keySlots(), size_t(2));
        Client::VaultHandle *locked = lookUpVault(m_client.get(), path);
        QVERIFY(locked && !locked->isUnlocked());
        delete m_dialog;
        m_dialog = new KeyManagerDialog(locked, QString::fromStdString(uuid), QStringLiteral("locked"));
        m_dialog->show();
        m_dialog->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_dialog));
        QSignalSpy done(m_dialog.data(), &KeyManagerDialog::operationFinished);

        typeCurrent(QStringLiteral("not it"));
        typeNew(NewPassphrase, NewPassphrase);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_H, Qt::AltModifier);
        waitDone(done);
        QCOMPARE(status()->text(), QStringLiteral("The current passphrase (or key file) does not open “locked”. Nothing was changed."));
        QCOMPARE(keySlots(), size_t(2));

        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::KeyFilesTab);
        const QString key = m_dir.filePath(QStringLiteral("home/locked.key"));
        QFile k(key);
        QVERIFY(k.open(QIODevice::WriteOnly));
        k.write(keyFile.data(), qint64(keyFile.size()));
        k.close();
        child<QLineEdit>("removeKeyFile")->setText(key);
        answerNextBox(QStringLiteral("Remove"));
        child<QPushButton>("remove")->click();
        waitDone(done, 2);
        QCOMPARE(status()->kind(), StatusLine::Kind::Success);
        QCOMPARE(keySlots(), size_t(1));

        struct stat shm {}, drive {};
        if (::stat("/dev/shm", &shm) != 0 || ::stat(path.c_str(), &drive) != 0 || shm.st_dev == drive.st_dev)
            QSKIP("no filesystem apart from the vault's to write to");
        QTemporaryDir elsewhere(QStringLiteral("/dev/shm/coffer-test-XXXXXX"));
        const QString out = elsewhere.filePath(QStringLiteral("locked header.img"));
        m_dialog->tabs()->setCurrentIndex(KeyManagerDialog::HeaderTab);
        child<QLineEdit>("headerTarget")->setText(out);
        saveHeader();
        waitDone(done, 3);
        QCOMPARE(status()->kind(), StatusLine::Kind::Success);
        const UniqueFd header(::open(localPath(out).c_str(), O_RDONLY | O_CLOEXEC));
        QCOMPARE(Vault::headerInfo(header.get()).luksUuid, uuid);
        QCOMPARE(modeOf(out), 0600u);
    }
};

COFFER_XVFB_MAIN(TestKeyManager)
#include "test_keymanager.moc"
