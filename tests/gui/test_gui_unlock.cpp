// The unlock dialog (ui/unlockdialog) and the controller's unlock: a wrong passphrase is said
// inline and the dialog stays for another try; Caps Lock is warned about; "Show" echoes; a key
// file instead; an empty passphrase is not sent; Esc cancels and sends nothing; a vault with a
// key file opens without a dialog, and asks when the key file does not open it. Against the
// fake helper (the real one in gui-plug.sh).

#include "guifixture.h"

#include "unlockdialog.h"

#include <QCheckBox>
#include <QLineEdit>
#include <QRadioButton>
#include <QSignalSpy>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::UnlockDialog;

class TestGuiUnlock : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    std::unique_ptr<GuiFixture> f;

    QLineEdit *passphraseOf(UnlockDialog *d) { return d->findChild<QLineEdit *>(QStringLiteral("passphrase")); }

    // The controller's dialog for the fake's first vault, once it is shown.
    UnlockDialog *dialogShown()
    {
        const QString id = fakeVaultId(1);
        if (!QTest::qWaitFor([&] { return f->controller->unlockDialog(id) && f->controller->unlockDialog(id)->isVisible(); },
                             waitMs))
            return nullptr;
        return f->controller->unlockDialog(id);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        Ui::installTranslations();
    }
    void init()
    {
        f = std::make_unique<GuiFixture>(m_bus.address());
        f->registerVault(1, "keys");
        f->model->setMedia({f->drive()});
    }
    void cleanup() { f.reset(); }

    void wrongPassphraseIsSaidAndTheDialogStays()
    {
        f->controller->unlock(fakeVaultId(1));
        UnlockDialog *d = dialogShown();
        QVERIFY(d);
        QCOMPARE(d->windowTitle(), QStringLiteral("Unlock “keys”"));
        QLineEdit *field = passphraseOf(d);
        QCOMPARE(field->echoMode(), QLineEdit::Password);
        QVERIFY(field->hasFocus() || QApplication::focusWidget() == field || d->focusWidget() == field);

        f->fake->errors.insert(QStringLiteral("Unlock"), GuiFixture::errorName(ErrorCode::BadPassphrase));
        QTest::keyClicks(field, QStringLiteral("wrong horse"));
        QTest::keyClick(field, Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(d->errorText(), QStringLiteral("Wrong passphrase. Try again."), waitMs);
        QVERIFY(d->isVisible());
        QVERIFY(field->text().isEmpty());
        QVERIFY(field->isEnabled());
        QVERIFY(!f->model->row(fakeVaultId(1))->isOpen());

        QTest::keyClicks(field, QStringLiteral("correct horse"));
        QTest::keyClick(field, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(f->model->row(fakeVaultId(1))->isOpen(), waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(!f->controller->unlockDialog(fakeVaultId(1)), waitMs); // closed and gone
        // What the helper received, and that the pipe was closed before the call.
        QCOMPARE(f->fake->manager->secrets.size(), 1); // the refused try is not recorded by the fake
        QCOMPARE(f->fake->manager->secrets.last().bytes, QByteArray("correct horse"));
        QVERIFY(f->fake->manager->secrets.last().closed);
    }

    void emptyPassphraseIsNotSent()
    {
        UnlockDialog d(QStringLiteral("keys"), QStringLiteral("MY STICK"));
        QSignalSpy requested(&d, &UnlockDialog::unlockRequested);
        d.show();
        QTest::keyClick(passphraseOf(&d), Qt::Key_Return);
        QCOMPARE(requested.count(), 0);
        QCOMPARE(d.errorText(), QStringLiteral("Type the vault's passphrase."));
    }

    void capsLockIsWarnedAbout()
    {
        UnlockDialog d(QStringLiteral("keys"), QString());
        d.show();
        QLineEdit *field = passphraseOf(&d);
        QVERIFY(!d.isCapsLockWarningShown());
        QTest::keyClick(field, 'A'); // an upper-case letter without Shift
        QVERIFY(d.isCapsLockWarningShown());
        QTest::keyClick(field, 'a', Qt::ShiftModifier); // lower case with Shift: still on
        QVERIFY(d.isCapsLockWarningShown());
        QTest::keyClick(field, Qt::Key_CapsLock); // turned off
        QVERIFY(!d.isCapsLockWarningShown());
        QTest::keyClick(field, 'b');
        QVERIFY(!d.isCapsLockWarningShown());
        QTest::keyClick(field, 'B', Qt::ShiftModifier);
        QVERIFY(!d.isCapsLockWarningShown());
        QTest::keyClick(field, '7'); // not a letter: says nothing either way
        QVERIFY(!d.isCapsLockWarningShown());
    }

    void showEchoesThePassphrase()
    {
        UnlockDialog d(QStringLiteral("keys"), QString());
        d.show();
        auto *show = d.findChild<QCheckBox *>(QStringLiteral("showPassphrase"));
        QVERIFY(show);
        show->click();
        QCOMPARE(passphraseOf(&d)->echoMode(), QLineEdit::Normal);
        show->click();
        QCOMPARE(passphraseOf(&d)->echoMode(), QLineEdit::Password);
    }

    void keyFileInstead()
    {
        const QString key = f->path(QStringLiteral("home/typed.key"));
        QFile file(key);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("typed key");
        file.close();
        f->controller->unlock(fakeVaultId(1));
        UnlockDialog *d = dialogShown();
        QVERIFY(d);
        d->setKeyFile(key);
        QVERIFY(d->usesKeyFile());
        QVERIFY(!passphraseOf(d)->isEnabled());
        f->fake->errors.insert(QStringLiteral("Unlock"), GuiFixture::errorName(ErrorCode::BadPassphrase));
        QTest::keyClick(d->findChild<QLineEdit *>(QStringLiteral("keyFile")), Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(d->errorText(), QStringLiteral("This key file does not open the vault."), waitMs);
        QTest::keyClick(d->findChild<QLineEdit *>(QStringLiteral("keyFile")), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(f->model->row(fakeVaultId(1))->isOpen(), waitMs);
        QCOMPARE(f->fake->manager->secrets.last().bytes, QByteArray("typed key"));
    }

    void escapeCancelsAndSendsNothing()
    {
        f->controller->backUp(fakeVaultId(1));
        UnlockDialog *d = dialogShown();
        QVERIFY(d);
        QTest::keyClicks(passphraseOf(d), QStringLiteral("never sent"));
        QTest::keyClick(d, Qt::Key_Escape);
        QTRY_VERIFY_WITH_TIMEOUT(!f->controller->unlockDialog(fakeVaultId(1)), waitMs);
        QTest::qWait(100);
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Unlock")));
        QVERIFY(!f->fake->calls.contains(QStringLiteral("Sync"))); // the backup waiting for it is dropped
        // Asking again asks again.
        f->controller->unlock(fakeVaultId(1));
        QVERIFY(dialogShown());
    }

    void noKeyringNoRemember()
    {
        f->controller->unlock(fakeVaultId(1));
        UnlockDialog *d = dialogShown();
        QVERIFY(d);
        QVERIFY(d->findChild<QCheckBox *>(QStringLiteral("remember"))->isHidden());
    }

    void keyFileOpensWithoutADialog()
    {
        const QByteArray key = f->useKeyFile(1);
        f->controller->unlock(fakeVaultId(1));
        QTRY_VERIFY_WITH_TIMEOUT(f->model->row(fakeVaultId(1))->isOpen(), waitMs);
        QVERIFY(!f->controller->unlockDialog(fakeVaultId(1)));
        QCOMPARE(f->fake->manager->secrets.last().bytes, key);
    }

    void keyFileThatFailsAsks()
    {
        f->useKeyFile(1);
        f->fake->errors.insert(QStringLiteral("Unlock"), GuiFixture::errorName(ErrorCode::BadPassphrase));
        f->controller->unlock(fakeVaultId(1));
        UnlockDialog *d = dialogShown();
        QVERIFY(d);
        QVERIFY(d->errorText().startsWith(QStringLiteral("The key file ")));
        QVERIFY(d->usesKeyFile()); // the remembered key file, to fix or replace
    }
};

QTEST_MAIN(TestGuiUnlock)
#include "test_gui_unlock.moc"
