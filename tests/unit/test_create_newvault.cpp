// core/create: the checks of the folder a new vault's file would go in (the helper's own
// sentences, through the medium facts of FAT32 and exFAT, which this host's kernel cannot mount:
// the VM's wizard scenario uses real ones), the names sources get, and the in-process dry run
// of real folders against nothing.

#include "block/mediuminternal.h"
#include "bytes.h"
#include "create/newvault.h"

#include "testerror.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace Coffer;

namespace {

constexpr uint64_t GiB = 1ull << 30;

Create::MediumProbe fakeMedium(unsigned long magic, uint64_t freeBytes)
{
    return [=](int) { return Vault::mediumInfoFor(magic, freeBytes); };
}

void writeFile(const QString &path, qsizetype bytes)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(bytes, 'x'));
}

} // namespace

class TestCreateNewVault : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    std::string dir() const { return QFile::encodeName(m_dir.path()).toStdString(); }

private slots:
    void fat32RefusesFourGiB()
    {
        const Create::FolderCheck c = Create::checkFolder(dir(), 5 * GiB, fakeMedium(0x4d44, 20 * GiB));
        QCOMPARE(c.medium.fsType, std::string("vfat"));
        QVERIFY(c.refusal);
        QCOMPARE(c.refusal->code(), ErrorCode::NoSpace);
        QCOMPARE(c.refusal->message(),
                 std::string("A vault of 5.0 GiB does not fit on a vfat drive: files there must be smaller than 4 GiB. "
                             "Choose a smaller size or a drive formatted exFAT or ext4"));
        QCOMPARE(c.largestVault, 4 * GiB - (1 << 20)); // whole MiB below the limit
        QVERIFY(!Create::checkFolder(dir(), 3 * GiB, fakeMedium(0x4d44, 20 * GiB)).refusal);
        QCOMPARE(c.medium.warnings.size(), size_t(1)); // and it cannot be sparse
    }

    void exfatWarns()
    {
        const Create::FolderCheck c = Create::checkFolder(dir(), 5 * GiB, fakeMedium(0x2011BAB0, 20 * GiB));
        QVERIFY(!c.refusal);
        QCOMPARE(c.medium.warnings.size(), size_t(1));
        QVERIFY(c.medium.warnings[0].find("cannot hold sparse files") != std::string::npos);
        QVERIFY(!c.medium.canSparse);
        QCOMPARE(c.largestVault, 20 * GiB);
    }

    void tooLittleSpace()
    {
        const Create::FolderCheck c = Create::checkFolder(dir(), 2 * GiB, fakeMedium(0xEF53, GiB));
        QVERIFY(c.refusal);
        QCOMPARE(c.refusal->code(), ErrorCode::NoSpace);
        QCOMPARE(c.refusal->message(), std::string("The drive has 1.0 GiB free, but the vault needs 2.0 GiB more. "
                                                   "Choose a smaller size or free some space"));
        QCOMPARE(c.largestVault, GiB);
    }

    void realFolder()
    {
        // This host's own filesystem, looked at for real.
        const Create::FolderCheck c = Create::checkFolder(dir(), 64 << 20);
        QVERIFY(!c.medium.fsType.empty());
        QVERIFY(c.medium.freeBytes > 0);
        QCOMPARE(Create::checkFolder(dir(), Vault::maximumSize).refusal.has_value(),
                 c.medium.freeBytes < Vault::maximumSize);
        QCOMPARE(Test::codeOf([] { Create::checkFolder(std::string("/nonexistent/folder"), 1 << 30); }),
                 ErrorCode::NotFound);
    }

    void sourcesAreNamedLikeTheHelperNamesThem()
    {
        const auto sources = Create::sourcesFor({"/home/a/.ssh", "/home/a/.gnupg/", "docs"});
        QCOMPARE(sources.size(), size_t(3));
        QCOMPARE(sources[0].name, std::string(".ssh"));
        QCOMPARE(sources[1].name, std::string(".gnupg"));
        QCOMPARE(sources[2].name, std::string("docs"));
        QCOMPARE(Test::messageOf([] { Create::sourcesFor({"/home/a/notes", "/mnt/b/notes"}); }),
                 std::string("/home/a/notes and /mnt/b/notes have the same name, \"notes\": the vault keeps each "
                             "folder under its name, so only one of them can go in."));
        QCOMPARE(Test::codeOf([] { Create::sourcesFor({"/"}); }), ErrorCode::InvalidArgument);
    }

    void spaceNeededCountsBlocks()
    {
        Sync::Plan plan;
        plan.items = {{Sync::PlanAction::Add, 'd', "s", 0},
                      {Sync::PlanAction::Add, 'f', "s/a", 1},
                      {Sync::PlanAction::Add, 'f', "s/b", 4097},
                      {Sync::PlanAction::Add, 'f', "s/empty", 0},
                      {Sync::PlanAction::Add, 'l', "s/short", 10},
                      {Sync::PlanAction::Add, 'l', "s/long", 200},
                      {Sync::PlanAction::Delete, 'f', "s/old", 1 << 20}};
        // 4 KiB for the folder, 4 + 8 KiB of data, 4 KiB for the long link, and the manifest's lines.
        QCOMPARE(Create::spaceNeeded(plan), uint64_t(5 * 4096 + 4096));
    }

    void sizeForIsTheSmallestThatHolds()
    {
        for (const uint64_t bytes : {uint64_t(0), uint64_t(1), uint64_t(10) << 20, uint64_t(900) << 20, uint64_t(3) * GiB}) {
            const uint64_t size = Create::sizeFor(bytes);
            QVERIFY(size >= Vault::minimumSize);
            QCOMPARE(size % (1 << 20), uint64_t(0));
            QVERIFY(Create::usableBytes(size) >= bytes);
            if (size > Vault::minimumSize)
                QVERIFY(Create::usableBytes(size - (1 << 20)) < bytes || bytes == 0);
        }
        QCOMPARE(Create::usableBytes(Create::luksHeaderBytes), uint64_t(0));
        QCOMPARE(Create::sizeFor(Vault::maximumSize), Vault::maximumSize); // nothing holds it: the largest
    }

    void previewOfRealFolders()
    {
        const QString ssh = m_dir.filePath(QStringLiteral("home/.ssh"));
        const QString docs = m_dir.filePath(QStringLiteral("home/docs"));
        writeFile(ssh + QStringLiteral("/id_ed25519"), 400);
        writeFile(ssh + QStringLiteral("/known_hosts"), 3000);
        writeFile(docs + QStringLiteral("/big.pdf"), 3 << 20);
        writeFile(docs + QStringLiteral("/cache/skip.tmp"), 1 << 20);
        const std::vector<std::string> sources{QFile::encodeName(ssh).toStdString(), QFile::encodeName(docs).toStdString()};

        const Create::Preview p = Create::preview(sources, Sync::Mode::Mirror, {"*.tmp"}, 64 << 20);
        QVERIFY(p.dryRun.dryRun);
        QCOMPARE(p.dryRun.plan.bytesToWrite, uint64_t(400 + 3000 + (3 << 20)));
        QCOMPARE(p.dryRun.plan.unchanged, uint64_t(0)); // against nothing, everything is new
        QVERIFY(p.fits);
        QVERIFY(p.needed >= p.dryRun.plan.bytesToWrite);
        QCOMPARE(p.usable, Create::usableBytes(64 << 20));
        std::vector<std::string> paths;
        for (const Sync::PlanItem &item : p.dryRun.plan.items)
            paths.push_back(item.path);
        QVERIFY(std::find(paths.begin(), paths.end(), ".ssh/id_ed25519") != paths.end());
        QVERIFY(std::find(paths.begin(), paths.end(), "docs/cache/skip.tmp") == paths.end());

        // Too small a vault for it: says so, and how large a vault would do.
        writeFile(docs + QStringLiteral("/video.mkv"), 12 << 20);
        const Create::Preview tight = Create::preview(sources, Sync::Mode::Snapshot, {"*.tmp"}, 32 << 20);
        QVERIFY(!tight.fits);
        QVERIFY(tight.sizeToFit > uint64_t(32 << 20));
        QVERIFY(Create::usableBytes(tight.sizeToFit) >= tight.needed);

        // Nothing was written anywhere: the temporary destination is gone, the sources untouched.
        QCOMPARE(QDir(QDir::tempPath()).entryList({QStringLiteral("coffer-preview-*")}, QDir::AllEntries | QDir::Hidden),
                 QStringList());
        QCOMPARE(QDir(docs).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size(), 3);

        QCOMPARE(Test::codeOf([&] { Create::preview({"/nonexistent/folder"}, Sync::Mode::Mirror, {}, 64 << 20); }),
                 ErrorCode::NotFound);
        std::atomic<bool> cancel{true};
        QCOMPARE(Test::codeOf([&] { Create::preview(sources, Sync::Mode::Mirror, {}, 64 << 20, &cancel); }),
                 ErrorCode::Cancelled);
    }
};

QTEST_GUILESS_MAIN(TestCreateNewVault)
#include "test_create_newvault.moc"
