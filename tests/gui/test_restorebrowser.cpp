// The restore browser (ui/restorebrowser.h) under Xvfb, on real directories: a vault's tree as the
// sync engine leaves it (made by the real engine into a folder standing in for the vault's
// mount), the live folders beside it, and restores compared byte for byte, mode and mtime. The
// vault handle comes from the fake helper (L0): the browser itself needs no helper call.

#include "config/registry.h"
#include "fakehelper.h"
#include "guitest.h"
#include "xvfbmain.h"
#include "restorebrowser.h"
#include "testfiles.h"
#include "sync/syncengine.h"
#include "uihelpers.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTreeWidget>

#include <fcntl.h>
#include <sys/stat.h>

using namespace Coffer;
using namespace Coffer::Test;
using Ui::RestoreBrowser;
using Ui::StatusLine;
using Ui::localPath;

namespace {

QTreeWidgetItem *findItem(QTreeWidget *tree, const QString &path)
{
    QTreeWidgetItemIterator it(tree);
    for (; *it; ++it) {
        if ((*it)->data(0, Qt::UserRole).toByteArray() == path.toUtf8())
            return *it;
    }
    return nullptr;
}

} // namespace

class TestRestoreBrowser : public QObject
{
    Q_OBJECT

    PrivateBus m_bus;
    QTemporaryDir m_dir;
    QString m_vaultRoot, m_ssh, m_docs, m_snapshot;
    std::unique_ptr<FakeHelper> m_fake;
    std::unique_ptr<Client::HelperClient> m_client;
    std::unique_ptr<Config::Registry> m_registry;
    Client::VaultHandle *m_vault = nullptr;
    QPointer<RestoreBrowser> m_browser;

    // A backup of the live folders as the engine makes it.
    void backUp(Sync::Mode mode)
    {
        Sync::Options o;
        o.sources = {{localPath(m_ssh), ".ssh"}, {localPath(m_docs), "docs"}};
        o.destination = localPath(m_vaultRoot);
        o.mode = mode;
        o.excludes = {"*.tmp"};
        const Sync::Result r = Sync::run(o);
        QCOMPARE(r.outcome, Sync::Outcome::Complete);
        if (mode == Sync::Mode::Snapshot)
            m_snapshot = QString::fromStdString(r.snapshot);
    }

    RestoreBrowser *open()
    {
        auto *browser = new RestoreBrowser(m_vault, m_registry.get());
        browser->show();
        browser->activateWindow();
        if (!QTest::qWaitForWindowActive(browser))
            return nullptr;
        return browser;
    }

    template<typename T>
    T *child(const char *name) { return m_browser->findChild<T *>(QLatin1String(name)); }

    // The first backup's tree is read and shown.
    void waitForTree()
    {
        QTRY_VERIFY_WITH_TIMEOUT(!m_browser->isBusy() && child<QTreeWidget>("tree")->topLevelItemCount() > 0, waitMs);
    }

    void choose(QTreeWidgetItem *item)
    {
        auto *tree = child<QTreeWidget>("tree");
        tree->setFocus();
        tree->setCurrentItem(item);
        tree->clearSelection();
        item->setSelected(true);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!m_bus.start())
            QSKIP("dbus-daemon is not installed");
        qputenv("HOME", QFile::encodeName(m_dir.filePath(QStringLiteral("home"))));
        QDir().mkpath(m_dir.filePath(QStringLiteral("home")));
        m_vaultRoot = m_dir.filePath(QStringLiteral("vault"));
        m_ssh = m_dir.filePath(QStringLiteral("home/.ssh"));
        m_docs = m_dir.filePath(QStringLiteral("home/docs"));
        QDir().mkpath(m_vaultRoot);
        // The folders as they were at the backups...
        writeFile(m_ssh + QStringLiteral("/id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----", 0600);
        writeFile(m_ssh + QStringLiteral("/known_hosts"), "host a", 0644);
        writeFile(m_ssh + QStringLiteral("/config"), "Host *\n  IdentitiesOnly yes", 0644);
        QVERIFY(QFile::link(QStringLiteral("id_ed25519"), m_ssh + QStringLiteral("/default-key")));
        writeFile(m_docs + QStringLiteral("/letters/2024.txt"), QByteArray(70000, 'l'), 0640);
        for (int i = 0; i < 1500; ++i)
            writeFile(m_docs + QStringLiteral("/many/%1.txt").arg(i), QByteArray(2000, char('a' + i % 26)));
        QCOMPARE(::chmod(localPath(m_ssh).c_str(), 0700), 0);
        backUp(Sync::Mode::Mirror);
        backUp(Sync::Mode::Snapshot);
        // ... and now: one changed, one deleted, one added, one left out by the pattern.
        writeFile(m_ssh + QStringLiteral("/known_hosts"), "host a\nhost b", 0644, 1800000000);
        QFile::remove(m_ssh + QStringLiteral("/config"));
        writeFile(m_ssh + QStringLiteral("/authorized_keys"), "ssh-ed25519 AAAA", 0600);
        writeFile(m_ssh + QStringLiteral("/agent.tmp"), "x", 0600);
    }

    void init()
    {
        m_fake = std::make_unique<FakeHelper>(m_bus.address());
        m_client = std::make_unique<Client::HelperClient>(m_bus.connect());
        m_registry = std::make_unique<Config::Registry>(localPath(m_dir.filePath(QStringLiteral("vaults.json"))));
        const QString file = m_dir.filePath(QStringLiteral("keys.coffer"));
        QFile(file).open(QIODevice::WriteOnly);
        FakeVault *fv = m_fake->addVault(Client::identify(localPath(file)), QStringLiteral("keys"));
        fv->mountPoint = m_vaultRoot; // read by the client's GetAll, after this
        Config::VaultEntry entry;
        entry.luksUuid = fv->id.toStdString();
        entry.name = "keys";
        entry.sources = {localPath(m_ssh), localPath(m_docs)};
        entry.excludes = {"*.tmp"};
        m_registry->putVault(entry);
        m_vault = lookUpVault(m_client.get(), localPath(file));
        QVERIFY(m_vault && m_vault->isUnlocked());
        QCOMPARE(m_vault->info().mountPoint, m_vaultRoot);
    }

    void cleanup()
    {
        delete m_browser;
        m_client.reset();
        m_fake.reset();
        m_registry.reset();
    }

    void cleanupTestCase() { QThreadPool::globalInstance()->waitForDone(); }

    void comparesABackupWithTheLiveFolders()
    {
        m_browser = open();
        QVERIFY(m_browser);
        QSignalSpy shown(m_browser.data(), &RestoreBrowser::treeShown);
        auto *backups = child<QComboBox>("backups");
        QCOMPARE(backups->count(), 2);
        QCOMPARE(backups->itemText(0), QStringLiteral("The mirror (the last backup)"));
        QVERIFY(backups->itemText(1).startsWith(QLatin1String("Snapshot of ")));
        QCOMPARE(m_browser->backups()[1].name, m_snapshot.toStdString());
        // The snapshot, from the keyboard.
        backups->setFocus();
        QTest::keyClick(backups, Qt::Key_Down);
        QCOMPARE(backups->currentIndex(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty(), waitMs);
        QCOMPARE(child<QLabel>("counts")->text(),
                 QStringLiteral("Compared with your folders now: 1 changed, 1 deleted and 1 added since this backup; "
                                "1507 unchanged."));
        auto *tree = child<QTreeWidget>("tree");
        QCOMPARE(findItem(tree, QStringLiteral(".ssh/known_hosts"))->text(3), QStringLiteral("Changed since"));
        QCOMPARE(findItem(tree, QStringLiteral(".ssh/config"))->text(3), QStringLiteral("Deleted since"));
        QTreeWidgetItem *added = findItem(tree, QStringLiteral(".ssh/authorized_keys"));
        QCOMPARE(added->text(3), QStringLiteral("Added since (not in this backup)"));
        QVERIFY(!(added->flags() & Qt::ItemIsSelectable)); // nothing of it to restore
        QCOMPARE(findItem(tree, QStringLiteral(".ssh/id_ed25519"))->text(3), QString());
        QVERIFY(!findItem(tree, QStringLiteral(".ssh/agent.tmp")));
        QCOMPARE(findItem(tree, QStringLiteral(".ssh/known_hosts"))->data(0, Qt::AccessibleTextRole).toString(),
                 QStringLiteral("known_hosts, Changed since"));
        QCOMPARE(findItem(tree, QStringLiteral(".ssh/id_ed25519"))->text(1), QStringLiteral("35 B"));
        QVERIFY(child<QLineEdit>("target")->text().endsWith(QStringLiteral("/Restored from keys, ") + m_snapshot));
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_browser);
        screenshot(m_browser, QStringLiteral("restore-01-compare"));

        // Only the differences: the unchanged go, their folders stay when something inside differs.
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_D, Qt::AltModifier);
        QTRY_VERIFY(child<QCheckBox>("onlyDifferences")->isChecked());
        QVERIFY(findItem(tree, QStringLiteral(".ssh/id_ed25519"))->isHidden());
        QVERIFY(!findItem(tree, QStringLiteral(".ssh/known_hosts"))->isHidden());
        QVERIFY(!findItem(tree, QStringLiteral(".ssh"))->isHidden());
        QVERIFY(findItem(tree, QStringLiteral("docs"))->isHidden());
        screenshot(m_browser, QStringLiteral("restore-02-only-differences"));
    }

    void restoresAFile()
    {
        m_browser = open();
        QVERIFY(m_browser);
        waitForTree(); // the mirror first
        QSignalSpy finished(m_browser.data(), &RestoreBrowser::restoreFinished);
        choose(findItem(child<QTreeWidget>("tree"), QStringLiteral(".ssh/config")));
        const QString target = child<QLineEdit>("target")->text();
        QVERIFY(!QFileInfo::exists(target)); // a new folder
        QVERIFY(child<QPushButton>("restore")->isEnabled());
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_R, Qt::AltModifier);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, waitMs);
        QCOMPARE(finished.at(0).at(0).toString(), target);
        compareFiles(m_vaultRoot + QStringLiteral("/current/.ssh/config"), target + QStringLiteral("/config"));
        QCOMPARE(statOf(target).st_mode & 0777, mode_t(0700));
        auto *status = child<StatusLine>("restoreStatus");
        QCOMPARE(status->kind(), StatusLine::Kind::Success);
        QCOMPARE(status->text(), QStringLiteral("Restored config to %1 (items: 1, 27 B).").arg(target));
        QVERIFY(child<QPushButton>("openTarget")->isVisible());
        COFFER_CHECK_KEYBOARD_AND_NAMES(m_browser);
        screenshot(m_browser, QStringLiteral("restore-03-file-restored"));
    }

    void restoresAFolder()
    {
        m_browser = open();
        QVERIFY(m_browser);
        waitForTree();
        QSignalSpy finished(m_browser.data(), &RestoreBrowser::restoreFinished);
        auto *tree = child<QTreeWidget>("tree");
        // The folder, and a file inside it: the folder brings the file once.
        choose(findItem(tree, QStringLiteral(".ssh")));
        findItem(tree, QStringLiteral(".ssh/config"))->setSelected(true);
        const QString target = m_dir.filePath(QStringLiteral("picked place"));
        auto *edit = child<QLineEdit>("target");
        edit->setFocus();
        edit->selectAll();
        QTest::keyClicks(edit, target);
        QTest::keyClick(edit, Qt::Key_Return); // Restore is the default button
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, waitMs);
        const QString out = target + QStringLiteral("/.ssh");
        const QString in = m_vaultRoot + QStringLiteral("/current/.ssh");
        for (const char *name : {"id_ed25519", "known_hosts", "config"})
            compareFiles(in + QLatin1Char('/') + QLatin1String(name), out + QLatin1Char('/') + QLatin1String(name));
        QVERIFY(S_ISLNK(statOf(out + QStringLiteral("/default-key")).st_mode));
        QCOMPARE(QFile::symLinkTarget(out + QStringLiteral("/default-key")), out + QStringLiteral("/id_ed25519"));
        const struct stat a = statOf(in), b = statOf(out);
        QCOMPARE(b.st_mode, a.st_mode);
        QCOMPARE(b.st_mtim.tv_sec, a.st_mtim.tv_sec);
        QCOMPARE(b.st_mtim.tv_nsec, a.st_mtim.tv_nsec);
        QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList{QStringLiteral(".ssh")});
    }

    void neverOverwritesWithoutAsking()
    {
        const QString target = m_dir.filePath(QStringLiteral("occupied"));
        writeFile(target + QStringLiteral("/known_hosts"), "mine, newer");
        m_browser = open();
        QVERIFY(m_browser);
        waitForTree();
        QSignalSpy finished(m_browser.data(), &RestoreBrowser::restoreFinished);
        child<QLineEdit>("target")->setText(target);
        choose(findItem(child<QTreeWidget>("tree"), QStringLiteral(".ssh/known_hosts")));
        const auto ask = [&]() -> QMessageBox * {
            if (QApplication::activeWindow() != m_browser) {
                m_browser->activateWindow();
                if (!QTest::qWaitForWindowActive(m_browser))
                    return nullptr;
            }
            QWidget *focus = QApplication::focusWidget();
            QTest::keyClick(focus ? focus : m_browser.data(), Qt::Key_R, Qt::AltModifier);
            QMessageBox *box = nullptr;
            const bool shown = QTest::qWaitFor(
                [&] { return (box = m_browser->findChild<QMessageBox *>(QStringLiteral("conflict"))) && box->isVisible(); }, waitMs);
            if (!shown)
                return nullptr;
            box->activateWindow();
            return QTest::qWaitForWindowActive(box) ? box : nullptr;
        };
        const auto mine = [&] {
            QFile f(target + QStringLiteral("/known_hosts"));
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        };

        // Cancel: nothing changes.
        QMessageBox *box = ask();
        QVERIFY(box);
        QVERIFY(box->text().contains(QStringLiteral("already holds “known_hosts”")));
        COFFER_CHECK_KEYBOARD_AND_NAMES(box);
        screenshot(box, QStringLiteral("restore-04-conflict"));
        QTest::keyClick(box, Qt::Key_Escape);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, waitMs);
        QCOMPARE(mine(), QByteArray("mine, newer"));
        QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size(), 1);

        // Keep both (the default: Enter): the copy comes beside it.
        box = ask();
        QVERIFY(box);
        QTest::keyClick(box, Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, waitMs);
        QCOMPARE(mine(), QByteArray("mine, newer"));
        compareFiles(m_vaultRoot + QStringLiteral("/current/.ssh/known_hosts"), target + QStringLiteral("/known_hosts (restored)"));

        // Replace, asked for.
        box = ask();
        QVERIFY(box);
        // (Its mnemonic, Alt+R, reaches it only when the window manager has made the box the
        // active window; Xvfb alone has none.)
        auto *replace = box->findChild<QPushButton *>(QStringLiteral("replace"));
        replace->setFocus();
        QTest::keyClick(replace, Qt::Key_Space);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, waitMs);
        compareFiles(m_vaultRoot + QStringLiteral("/current/.ssh/known_hosts"), target + QStringLiteral("/known_hosts"));
        QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size(), 2);
    }

    void stopLeavesNothingHalfMade()
    {
        m_browser = open();
        QVERIFY(m_browser);
        waitForTree();
        QSignalSpy finished(m_browser.data(), &RestoreBrowser::restoreFinished);
        const QString target = m_dir.filePath(QStringLiteral("stopped"));
        child<QLineEdit>("target")->setText(target);
        choose(findItem(child<QTreeWidget>("tree"), QStringLiteral("docs")));
        auto *stop = child<QPushButton>("cancelRestore");
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_R, Qt::AltModifier);
        QTRY_VERIFY_WITH_TIMEOUT(stop->isVisible() || !finished.isEmpty(), waitMs);
        if (stop->isVisible()) {
            screenshot(m_browser, QStringLiteral("restore-05-progress"));
            QTest::keyClick(stop, Qt::Key_Space);
        }
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, waitMs);
        // Whichever came first, the stop or the end, nothing is half there.
        const QStringList left = QDir(target).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
        if (finished.at(0).at(0).toString().isEmpty()) {
            QCOMPARE(left, QStringList());
            QCOMPARE(child<StatusLine>("restoreStatus")->text(),
                     QStringLiteral("The restore was cancelled; %1/docs was not made.").arg(target));
        } else {
            QCOMPARE(left, QStringList{QStringLiteral("docs")});
            QCOMPARE(QDir(target + QStringLiteral("/docs/many")).count(), 1502u);
        }
    }

    void aLockedVaultSaysSo()
    {
        m_browser = open();
        QVERIFY(m_browser);
        m_fake->removeVault(m_fake->vaults.first(), QStringLiteral("locked"));
        QTRY_VERIFY_WITH_TIMEOUT(!m_vault->isUnlocked(), waitMs);
        QCOMPARE(child<StatusLine>("restoreStatus")->text(), QStringLiteral("The vault “keys” is locked; unlock it to restore from it."));
        QVERIFY(!child<QPushButton>("restore")->isEnabled());
        QVERIFY(!child<QComboBox>("backups")->isEnabled());
        screenshot(m_browser, QStringLiteral("restore-06-locked"));
    }
};

COFFER_XVFB_MAIN(TestRestoreBrowser)
#include "test_restorebrowser.moc"
