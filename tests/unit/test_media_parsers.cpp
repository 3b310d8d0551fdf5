// L0: core/media's pure parts with hostile input — udev's escaped properties, the kernel's
// escaped mount table, LUKS headers made by hand, what a text is fit to show, and the media
// table's answer to every udev event sequence (the monitor's logic without libudev).

#include "block/vault.h"
#include "media/mediatable.h"
#include "media/medium.h"
#include "media/mountinfo.h"
#include "media/vaultscan.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>
#include <sys/sysmacros.h>

using namespace Coffer;
using namespace Coffer::Media;

namespace {

const std::string uuid = "0b1e5a7c-3f2d-4c8e-9a61-2d4b8f0c7e13";

// What `udevadm info` shows for the first partition of a USB stick.
PropertyMap stickProperties()
{
    return {{"DEVNAME", "/dev/sdb1"},
            {"MAJOR", "8"},
            {"MINOR", "17"},
            {"DEVTYPE", "partition"},
            {"ID_BUS", "usb"},
            {"ID_SERIAL_SHORT", "4C530001230101117225"},
            {"ID_VENDOR", "SanDisk"},
            {"ID_VENDOR_ENC", "SanDisk\\x20"},
            {"ID_MODEL", "Cruzer_Blade"},
            {"ID_MODEL_ENC", "Cruzer\\x20Blade\\x20\\x20\\x20\\x20"},
            {"ID_FS_UUID", "1234-ABCD"},
            {"ID_FS_UUID_ENC", "1234-ABCD"},
            {"ID_FS_LABEL", "MY_STICK"},
            {"ID_FS_LABEL_ENC", "MY\\x20STICK"},
            {"ID_FS_TYPE", "vfat"},
            {"ID_FS_USAGE", "filesystem"}};
}

Medium stick()
{
    return *mediumFromUdev(stickProperties(), {{"size", "31266816"}, {"removable", "1"}});
}

// A LUKS header's first 4 KiB, as cryptsetup lays it out (big-endian numbers).
std::string luksHead(int version, const std::string &label, const std::string &subsystem,
                     const std::string &id = uuid, uint64_t hdrSize = 16384, uint64_t hdrOffset = 0)
{
    std::string h(luksProbeSize, '\0');
    h.replace(0, 6, "LUKS\xba\xbe", 6);
    h[6] = char(version >> 8);
    h[7] = char(version);
    auto put64 = [&](size_t at, uint64_t v) {
        for (int i = 0; i < 8; ++i)
            h[at + size_t(i)] = char(v >> (56 - 8 * i));
    };
    if (version == 2) {
        put64(8, hdrSize);
        h.replace(24, std::min<size_t>(label.size(), 48), label.substr(0, 48));
        h.replace(208, std::min<size_t>(subsystem.size(), 48), subsystem.substr(0, 48));
        put64(256, hdrOffset);
    }
    h.replace(168, std::min<size_t>(id.size(), 40), id.substr(0, 40));
    return h;
}

} // namespace

class TestMediaParsers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void udevEscapes_data()
    {
        QTest::addColumn<QByteArray>("encoded");
        QTest::addColumn<QByteArray>("decoded");
        QTest::newRow("space") << QByteArray("MY\\x20STICK") << QByteArray("MY STICK");
        QTest::newRow("upper hex") << QByteArray("\\xC3\\xBC") << QByteArray("\xc3\xbc");
        QTest::newRow("not utf-8") << QByteArray("\\xff\\xfe") << QByteArray("\xff\xfe");
        QTest::newRow("nul and newline") << QByteArray("a\\x00b\\x0a") << QByteArray("a\0b\n", 4);
        // One pass: an escaped backslash followed by "x41" is a backslash and "x41", not "A".
        QTest::newRow("no double decoding") << QByteArray("\\x5cx41") << QByteArray("\\x41");
        QTest::newRow("short escape") << QByteArray("ab\\x4") << QByteArray("ab\\x4");
        QTest::newRow("bare backslash-x") << QByteArray("\\x") << QByteArray("\\x");
        QTest::newRow("not hex") << QByteArray("\\xZZ!") << QByteArray("\\xZZ!");
        QTest::newRow("trailing backslash") << QByteArray("end\\") << QByteArray("end\\");
        QTest::newRow("other escape") << QByteArray("\\n\\t") << QByteArray("\\n\\t");
    }

    void udevEscapes()
    {
        QFETCH(QByteArray, encoded);
        QFETCH(QByteArray, decoded);
        const std::string out = decodeUdevEscapes(std::string_view(encoded.constData(), size_t(encoded.size())));
        QCOMPARE(QByteArray(out.data(), qsizetype(out.size())), decoded);
    }

    void mediumFromStickProperties()
    {
        const Medium m = stick();
        QCOMPARE(m.devNode, std::string("/dev/sdb1"));
        QCOMPARE(m.devnum, makedev(8, 17));
        QCOMPARE(m.fsUuid, std::string("1234-ABCD"));
        QCOMPARE(m.label, std::string("MY STICK")); // from ID_FS_LABEL_ENC, not the mangled MY_STICK
        QCOMPARE(m.fsType, std::string("vfat"));
        QCOMPARE(m.serial, std::string("4C530001230101117225"));
        QCOMPARE(m.vendor, std::string("SanDisk"));      // padding trimmed
        QCOMPARE(m.model, std::string("Cruzer Blade"));
        QCOMPARE(m.size, 31266816ull * 512);
        QVERIFY(m.removable);
        QVERIFY(!m.mounted());
        QVERIFY(!m.freeBytes);
        QCOMPARE(displayName(m), QStringLiteral("MY STICK"));
    }

    void hostileLabels()
    {
        PropertyMap p = stickProperties();
        p["ID_FS_LABEL_ENC"] = "\\xe2\\x80\\xaegnp.exe\\x0a\\x00\\xff" + std::string(10000, 'A');
        const Medium m = *mediumFromUdev(p, {});
        QCOMPARE(m.label.size(), maxFactLength); // cut, not refused
        QCOMPARE(m.label.substr(0, 8), std::string("\xe2\x80\xaegnp.e", 8));
        const QString shown = displayName(m);
        QVERIFY(!shown.contains(QChar(0x202e)));   // no right-to-left override reaches a screen
        QVERIFY(!shown.contains(QLatin1Char('\n')));
        QVERIFY(!shown.contains(QChar(0)));
        QVERIFY(shown.startsWith(QChar(QChar::ReplacementCharacter) + QStringLiteral("gnp.exe")));

        p.erase("ID_FS_LABEL_ENC");
        p["ID_FS_LABEL"] = "PLAIN";
        QCOMPARE(mediumFromUdev(p, {})->label, std::string("PLAIN")); // the plain one when there is no _ENC
        p.erase("ID_FS_LABEL");
        QVERIFY(mediumFromUdev(p, {})->label.empty());
    }

    void whatIsNotAMedium()
    {
        PropertyMap p = stickProperties();
        p["ID_FS_USAGE"] = "crypto"; // a LUKS partition, not a filesystem we can look into
        QVERIFY(!mediumFromUdev(p, {}));
        p = stickProperties();
        p.erase("ID_FS_USAGE");
        QVERIFY(!mediumFromUdev(p, {}));
        for (const char *bad : {"", "8x", "-1", "99999999999999999999", " 8"}) {
            p = stickProperties();
            p["MAJOR"] = bad;
            QVERIFY2(!mediumFromUdev(p, {}), bad);
        }
        p = stickProperties();
        p.erase("MINOR");
        QVERIFY(!mediumFromUdev(p, {}));
        QVERIFY(!mediumFromUdev({}, {}));
    }

    void oddAttributes()
    {
        const PropertyMap p = stickProperties();
        for (const char *bad : {"", "abc", "12 ", "-5", "99999999999999999999", "36028797018963968"}) {
            // The last one is 2^55 sectors: its bytes do not fit in 64 bits.
            QCOMPARE(mediumFromUdev(p, {{"size", bad}})->size, 0ull);
        }
        QVERIFY(!mediumFromUdev(p, {{"removable", "yes"}})->removable);
        QVERIFY(!mediumFromUdev(p, {})->removable);
    }

    void displayNameFallbacks()
    {
        Medium m = stick();
        m.label.clear();
        QCOMPARE(displayName(m), QStringLiteral("SanDisk Cruzer Blade"));
        m.vendor.clear();
        QCOMPARE(displayName(m), QStringLiteral("Cruzer Blade"));
        m.model.clear();
        QCOMPARE(displayName(m), QStringLiteral("/dev/sdb1"));
    }

    void displayTextIsSafe()
    {
        QCOMPARE(displayText("plain"), QStringLiteral("plain"));
        QCOMPARE(displayText("Schl\xc3\xbcssel"), QString::fromUtf8("Schl\xc3\xbcssel"));
        QCOMPARE(displayText("\xff"), QString(QChar::ReplacementCharacter));
        QCOMPARE(displayText("a\tb\x7f" "c\xc2\x85"), QStringLiteral("a\uFFFDb\uFFFDc\uFFFD")); // C0, DEL, C1
        QCOMPARE(displayText("\xe2\x81\xa6x"), QStringLiteral("\uFFFDx"));                   // bidi isolate
        QCOMPARE(displayText(std::string(300, 'x'), 10), QString(9, QLatin1Char('x')) + QChar(0x2026));
        // A cut never leaves half of a surrogate pair.
        const QString cut = displayText("abcdefghi\xf0\x9f\x94\x91zz", 11);
        QCOMPARE(cut, QStringLiteral("abcdefghi") + QChar(0x2026));
    }

    void mountInfoFields()
    {
        const std::string text =
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
            "98 22 8:17 / /media/alice/MY\\040STICK rw,nosuid,nodev,relatime shared:52 master:3 - vfat /dev/sdb1 "
            "rw,fmask=0022,uid=1000\n"
            "99 22 0:45 /sub /srv/bind rw - btrfs /dev/sdc1 rw\n";
        const std::vector<MountEntry> m = parseMountInfo(text);
        QCOMPARE(m.size(), size_t(3));
        QCOMPARE(m[1].mountId, 98);
        QCOMPARE(m[1].parentId, 22);
        QCOMPARE(m[1].dev, makedev(8, 17));
        QCOMPARE(m[1].root, std::string("/"));
        QCOMPARE(m[1].mountPoint, std::string("/media/alice/MY STICK"));
        QCOMPARE(m[1].options, std::string("rw,nosuid,nodev,relatime"));
        QCOMPARE(m[1].fsType, std::string("vfat"));
        QCOMPARE(m[1].source, std::string("/dev/sdb1"));
        QCOMPARE(m[1].superOptions, std::string("rw,fmask=0022,uid=1000"));
        QCOMPARE(m[2].root, std::string("/sub"));
        QCOMPARE(m[2].dev, makedev(0, 45));
    }

    void mountInfoEscapes_data()
    {
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("decoded");
        QTest::newRow("space") << QByteArray("a\\040b") << QByteArray("a b");
        QTest::newRow("tab") << QByteArray("a\\011b") << QByteArray("a\tb");
        QTest::newRow("newline") << QByteArray("a\\012b") << QByteArray("a\nb");
        QTest::newRow("backslash") << QByteArray("a\\134b") << QByteArray("a\\b");
        QTest::newRow("highest") << QByteArray("\\377") << QByteArray("\xff");
        QTest::newRow("beyond a byte") << QByteArray("\\400") << QByteArray("\\400");
        QTest::newRow("short") << QByteArray("x\\12") << QByteArray("x\\12");
        QTest::newRow("not octal") << QByteArray("\\089") << QByteArray("\\089");
        QTest::newRow("trailing") << QByteArray("x\\") << QByteArray("x\\");
        QTest::newRow("one pass") << QByteArray("\\134040") << QByteArray("\\040");
    }

    void mountInfoEscapes()
    {
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, decoded);
        const std::string out = decodeMountField(std::string_view(field.constData(), size_t(field.size())));
        QCOMPARE(QByteArray(out.data(), qsizetype(out.size())), decoded);
    }

    void oddMountInfoLinesAreSkipped()
    {
        const std::string good = "30 22 8:17 / /media/s rw - vfat /dev/sdb1 rw\n";
        const std::string text = "\n"
                                 "garbage\n"
                                 "1 2 3\n"
                                 "31 22 8:18 / /no/separator rw shared:1 vfat /dev/sdb2 rw\n"
                                 "32 22 8-19 / /bad/device rw - vfat /dev/sdb3 rw\n"
                                 "33 22 8:20 / /missing/source rw -\n"
                                 "x 22 8:21 / /bad/id rw - vfat /dev/sdb5 rw\n"
                                 "34 22 8:22 / /no/super rw - fuse.sshfs host:/ \n"
                                 + good + std::string(100000, 'z') + "\n" + "35 22 8:23 / /last rw - vfat /dev/sdb7 rw";
        const std::vector<MountEntry> m = parseMountInfo(text);
        QCOMPARE(m.size(), size_t(3));
        QCOMPARE(m[0].mountPoint, std::string("/no/super"));
        QCOMPARE(m[0].fsType, std::string("fuse.sshfs"));
        QVERIFY(m[0].superOptions.empty());
        QCOMPARE(m[1].mountPoint, std::string("/media/s"));
        QCOMPARE(m[2].mountPoint, std::string("/last")); // no newline at the end
        QVERIFY(parseMountInfo("").empty());
    }

    void mountsOfTheMedium()
    {
        Medium m = stick();
        const std::vector<MountEntry> mounts = parseMountInfo(
            "98 22 8:17 / /media/alice/MY\\040STICK rw - vfat /dev/sdb1 rw\n"
            "99 22 8:17 /backups /home/alice/b rw - vfat /dev/sdb1 rw\n" // a bind mount of a folder on it
            "100 22 8:17 / /mnt/again rw - vfat /dev/sdb1 rw\n"
            "101 22 8:33 / /media/alice/OTHER rw - vfat /dev/sdc1 rw\n");
        refreshMounts(m, mounts);
        QCOMPARE(m.mountPoints, (std::vector<std::string>{"/media/alice/MY STICK", "/mnt/again"}));
        QVERIFY(!m.freeBytes); // those directories do not exist here
        refreshMounts(m, {});
        QVERIFY(!m.mounted());

        // btrfs and others show an anonymous device: the source names the medium.
        const std::vector<MountEntry> btrfs = parseMountInfo("98 22 0:51 / /media/b rw - btrfs /dev/sdb1 rw\n");
        QCOMPARE(rootMounts(m, btrfs).size(), size_t(1));
    }

    void freeSpaceOnlyFromTheRightFilesystem()
    {
        QTemporaryDir dir;
        struct stat st;
        QCOMPARE(::stat(QFile::encodeName(dir.path()).constData(), &st), 0);
        Medium m = stick();
        m.devnum = st.st_dev;
        MountEntry e;
        e.dev = st.st_dev;
        e.root = "/";
        e.mountPoint = QFile::encodeName(dir.path()).toStdString();
        refreshMounts(m, {e});
        QVERIFY(m.freeBytes.has_value());
        QVERIFY(openMountRoot(e).valid());
        // The path now leads somewhere else than the mount table says: no free space, no fd.
        e.dev = makedev(4000, 4000);
        m.devnum = e.dev;
        refreshMounts(m, {e});
        QCOMPARE(m.mountPoints.size(), size_t(1));
        QVERIFY(!m.freeBytes);
        QVERIFY(!openMountRoot(e).valid());
    }

    void luks2Headers()
    {
        std::optional<LuksHeader> h = parseLuksHeader(luksHead(2, "coffer:keys", "coffer"));
        QVERIFY(h);
        QCOMPARE(h->version, 2);
        QCOMPARE(h->uuid, uuid);
        QCOMPARE(h->label, std::string("coffer:keys"));
        QCOMPARE(h->subsystem, std::string("coffer"));
        QVERIFY(h->coffer);
        QCOMPARE(h->name, std::string("keys"));

        h = parseLuksHeader(luksHead(2, "", "coffer"));
        QVERIFY(h && h->coffer && h->name.empty());
        h = parseLuksHeader(luksHead(2, "coffer:x", ""));
        QVERIFY(h && h->coffer);
        h = parseLuksHeader(luksHead(2, "backup", "")); // someone else's LUKS2
        QVERIFY(h && !h->coffer);
        QCOMPARE(h->name, std::string("backup"));
        h = parseLuksHeader(luksHead(2, std::string(48, 'L'), std::string(48, 'S'))); // no NUL in the fields
        QVERIFY(h);
        QCOMPARE(h->label, std::string(48, 'L'));
        QCOMPARE(h->subsystem, std::string(48, 'S'));
        h = parseLuksHeader(luksHead(2, "coffer:\xff\n", "coffer"));
        QVERIFY(h);
        QCOMPARE(h->name, std::string("\xff\n"));
        // 4 MiB is the largest header cryptsetup makes; the upper-case UUID is still canonical.
        QVERIFY(parseLuksHeader(luksHead(2, "", "", "0B1E5A7C-3F2D-4C8E-9A61-2D4B8F0C7E13", 4u << 20)));
    }

    void luksHeadersRefused_data()
    {
        QTest::addColumn<QByteArray>("head");
        auto bytes = [](const std::string &s) { return QByteArray(s.data(), qsizetype(s.size())); };
        QTest::newRow("zeros") << QByteArray(4096, '\0');
        QTest::newRow("secondary header") << bytes(luksHead(2, "coffer:k", "coffer", uuid, 16384, 16384));
        std::string skul = luksHead(2, "coffer:k", "coffer");
        skul.replace(0, 4, "SKUL");
        QTest::newRow("secondary magic") << bytes(skul);
        QTest::newRow("hdr_size not a power of two") << bytes(luksHead(2, "", "", uuid, 20000));
        QTest::newRow("hdr_size too small") << bytes(luksHead(2, "", "", uuid, 4096));
        QTest::newRow("hdr_size too large") << bytes(luksHead(2, "", "", uuid, 8u << 20));
        QTest::newRow("version 3") << bytes(luksHead(3, "", ""));
        QTest::newRow("version 0") << bytes(luksHead(0, "", ""));
        QTest::newRow("uuid a path") << bytes(luksHead(2, "coffer:k", "coffer", "../../../../etc/passwd"));
        QTest::newRow("uuid empty") << bytes(luksHead(1, "", "", ""));
        QTest::newRow("uuid too long") << bytes(luksHead(2, "", "", uuid + "0"));
        QTest::newRow("truncated luks2") << bytes(luksHead(2, "coffer:k", "coffer").substr(0, 260));
        QTest::newRow("truncated luks1") << bytes(luksHead(1, "", "").substr(0, 200));
        QTest::newRow("magic only") << QByteArray("LUKS\xba\xbe", 6);
        QTest::newRow("empty") << QByteArray();
    }

    void luksHeadersRefused()
    {
        QFETCH(QByteArray, head);
        QVERIFY(!parseLuksHeader(std::string_view(head.constData(), size_t(head.size()))));
    }

    void luks1Header()
    {
        const std::optional<LuksHeader> h = parseLuksHeader(luksHead(1, "", ""));
        QVERIFY(h);
        QCOMPARE(h->version, 1);
        QCOMPARE(h->uuid, uuid);
        QVERIFY(!h->coffer);
        QVERIFY(h->label.empty() && h->name.empty());
    }

    // ---- the media table: what each udev event means -----------------------------------------

    void plugRelabelUnplug()
    {
        MediaTable table;
        const Medium m = stick();
        std::optional<MediaEvent> e = table.apply("add", m.devnum, m, {});
        QVERIFY(e && e->change == MediaChange::Added);
        QCOMPARE(e->medium, m);
        QVERIFY(!table.apply("add", m.devnum, m, {}));    // the same again (enumeration raced an event)
        QVERIFY(!table.apply("change", m.devnum, m, {})); // nothing new

        Medium relabelled = m;
        relabelled.label = "NEW";
        e = table.apply("change", m.devnum, relabelled, {});
        QVERIFY(e && e->change == MediaChange::Changed);
        QCOMPARE(e->medium.label, std::string("NEW"));
        QCOMPARE(table.media().size(), size_t(1));

        // The remove event of a gone device has little left to say: the last known facts go out.
        Medium husk;
        husk.devnum = m.devnum;
        e = table.apply("remove", m.devnum, husk, {});
        QVERIFY(e && e->change == MediaChange::Removed);
        QCOMPARE(e->medium.label, std::string("NEW"));
        QCOMPARE(e->medium.serial, m.serial);
        QVERIFY(table.media().empty());
        QVERIFY(!table.apply("remove", m.devnum, husk, {})); // twice: nothing to take back
    }

    void oddEventSequences()
    {
        MediaTable table;
        const Medium m = stick();
        QVERIFY(!table.apply("remove", m.devnum, m, {}));         // never seen
        std::optional<MediaEvent> e = table.apply("change", m.devnum, m, {}); // first heard of by a change
        QVERIFY(e && e->change == MediaChange::Added);
        e = table.apply("bind", m.devnum, m, {});                 // an action we do not name
        QVERIFY(!e);
        // Reformatted without a filesystem (wiped): it is no longer a medium.
        e = table.apply("change", m.devnum, std::nullopt, {});
        QVERIFY(e && e->change == MediaChange::Removed);
        QVERIFY(!table.find(m.devnum));
        // Two sticks; the table keeps them apart and lists them by device node.
        Medium other = stick();
        other.devNode = "/dev/sda1";
        other.devnum = makedev(8, 1);
        table.apply("add", m.devnum, m, {});
        table.apply("add", other.devnum, other, {});
        QCOMPARE(table.media().size(), size_t(2));
        QCOMPARE(table.media().front().devNode, std::string("/dev/sda1"));
        // Facts that claim another device than the event's are not believed.
        e = table.apply("change", m.devnum, other, {});
        QVERIFY(e && e->change == MediaChange::Removed);
        QCOMPARE(e->medium.devNode, std::string("/dev/sdb1"));
    }

    void automountIsAChange()
    {
        MediaTable table;
        const Medium m = stick();
        const std::vector<MountEntry> mounted =
            parseMountInfo("98 22 8:17 / /media/alice/MY\\040STICK rw - vfat /dev/sdb1 rw\n");
        std::optional<MediaEvent> e = table.apply("add", m.devnum, m, mounted); // already mounted at start
        QVERIFY(e && e->medium.mounted());
        std::vector<MediaEvent> events = table.remount({});
        QCOMPARE(events.size(), size_t(1));
        QCOMPARE(events[0].change, MediaChange::Changed);
        QVERIFY(!events[0].medium.mounted());
        QVERIFY(table.remount({}).empty()); // nothing new: nothing reported
        events = table.remount(mounted);
        QCOMPARE(events.size(), size_t(1));
        QCOMPARE(events[0].medium.mountPoints, std::vector<std::string>{"/media/alice/MY STICK"});
        QCOMPARE(table.find(m.devnum)->mountPoints, events[0].medium.mountPoints);
        // Another device's mount changes nothing here.
        std::vector<MountEntry> more = mounted;
        more.push_back(parseMountInfo("99 22 8:33 / /media/alice/X rw - vfat /dev/sdc1 rw\n").front());
        QVERIFY(table.remount(more).empty());
    }
};

QTEST_GUILESS_MAIN(TestMediaParsers)
#include "test_media_parsers.moc"
