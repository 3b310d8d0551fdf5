// The D-Bus contract: one mapping of error kinds to names (both ways); the helper serves exactly
// what the interface XML (and so the client proxies) promise; the packaging names what the
// code uses.
#include "actions.h"
#include "dbus/errornames.h"
#include "dbus/helper1.h"
#include "dbus/options.h"
#include "job.h"
#include "manager.h"
#include "vaultobject.h"

#include <QDBusMessage>
#include <QDBusMetaType>
#include <QFile>
#include <QMetaProperty>
#include <QRegularExpression>
#include <QTest>
#include <QXmlStreamReader>

using namespace Coffer;

namespace {

QStringList members(const std::vector<Helper::MemberSpec> &specs)
{
    QStringList out;
    for (const Helper::MemberSpec &s : specs)
        out << QString::fromLatin1(s.name) + QLatin1Char('(') + QString::fromLatin1(s.signature) + QLatin1Char(')');
    return out;
}

// "Name:signature" of each Q_PROPERTY the class adds.
QStringList propertiesOf(const QMetaObject &meta)
{
    QStringList out;
    for (int i = meta.propertyOffset(); i < meta.propertyCount(); ++i) {
        const QMetaProperty p = meta.property(i);
        out << QString::fromLatin1(p.name()) + QLatin1Char(':')
                   + QString::fromLatin1(QDBusMetaType::typeToSignature(p.metaType()));
    }
    return out;
}

QString readText(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

// action id -> {allow_any, allow_inactive, allow_active} of the polkit policy.
QMap<QString, QStringList> polkitDefaults()
{
    QFile file(QStringLiteral(COFFER_SOURCE_DIR "/packaging/polkit/org.coffer.helper.policy"));
    QMap<QString, QStringList> out;
    if (!file.open(QIODevice::ReadOnly))
        return out;
    QXmlStreamReader xml(&file);
    QString action;
    while (!xml.atEnd()) {
        xml.readNext();
        if (!xml.isStartElement())
            continue;
        if (xml.name() == QLatin1String("action")) {
            action = xml.attributes().value(QLatin1String("id")).toString();
            out[action] = QStringList{QString(), QString(), QString()};
        } else if (xml.name() == QLatin1String("allow_any")) {
            out[action][0] = xml.readElementText();
        } else if (xml.name() == QLatin1String("allow_inactive")) {
            out[action][1] = xml.readElementText();
        } else if (xml.name() == QLatin1String("allow_active")) {
            out[action][2] = xml.readElementText();
        }
    }
    return out;
}

} // namespace

class TestDBusContract : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void errorNamesRoundTrip()
    {
        QSet<QString> names;
        for (const ErrorKind &kind : errorKinds) {
            const QString name = DBusErrors::errorName(kind.code);
            QVERIFY(name.startsWith(QLatin1String("org.coffer.Helper1.Error.")));
            QCOMPARE(DBusErrors::errorCodeFromName(name), kind.code);
            names.insert(name);
        }
        QCOMPARE(names.size(), 10); // design.md 3 names ten kinds
        QCOMPARE(DBusErrors::errorName(ErrorCode::BadPassphrase),
                 QStringLiteral("org.coffer.Helper1.Error.BadPassphrase"));
    }

    void busErrorsMapToKinds()
    {
        QCOMPARE(DBusErrors::errorCodeFromName(QStringLiteral("org.freedesktop.DBus.Error.AccessDenied")),
                 ErrorCode::NotAuthorized);
        QCOMPARE(DBusErrors::errorCodeFromName(QStringLiteral("org.freedesktop.DBus.Error.ServiceUnknown")),
                 ErrorCode::NotFound);
        QCOMPARE(DBusErrors::errorCodeFromName(QStringLiteral("org.freedesktop.DBus.Error.NoReply")),
                 ErrorCode::Failed);
        QCOMPARE(DBusErrors::errorCodeFromName(QStringLiteral("org.coffer.Helper1.Error.Bogus")),
                 ErrorCode::Failed);
    }

    void errorReplyCarriesNameAndMessage()
    {
        QDBusMessage call = QDBusMessage::createMethodCall(QStringLiteral("org.coffer.Helper1"),
                                                           QStringLiteral("/org/coffer/Helper1"),
                                                           QStringLiteral("org.coffer.Helper1.Manager"),
                                                           QStringLiteral("Unlock"));
        const QDBusMessage reply =
            DBusErrors::errorReply(call, Error(ErrorCode::Busy, "The vault is busy with sync."));
        QCOMPARE(reply.type(), QDBusMessage::ErrorMessage);
        QCOMPARE(reply.errorName(), QStringLiteral("org.coffer.Helper1.Error.Busy"));
        QCOMPARE(reply.errorMessage(), QStringLiteral("The vault is busy with sync."));
        const Error back = DBusErrors::toError(reply.errorName(), reply.errorMessage());
        QCOMPARE(back.code(), ErrorCode::Busy);
        QCOMPARE(back.message(), std::string("The vault is busy with sync."));
    }

    // What the helper serves is what the XML (and so the client proxies) promise: every method
    // with its signature, every signal with its signature, every property with its type, and
    // nothing more.
    void helperObjectsMatchTheXml_data()
    {
        QTest::addColumn<QString>("interface");
        QTest::addColumn<QStringList>("methods");
        QTest::addColumn<QStringList>("signals_");
        QTest::addColumn<QStringList>("properties");
        QTest::newRow("Manager") << "org.coffer.Helper1.Manager" << members(Helper::specsOf(Helper::Manager::methods()))
                                 << members(Helper::Manager::signalSpecs()) << QStringList();
        QTest::newRow("Vault") << "org.coffer.Helper1.Vault" << members(Helper::specsOf(Helper::VaultObject::methods()))
                               << QStringList() << propertiesOf(Helper::VaultObject::staticMetaObject);
        QTest::newRow("Job") << "org.coffer.Helper1.Job" << members(Helper::specsOf(Helper::Job::methods()))
                             << members(Helper::Job::signalSpecs()) << propertiesOf(Helper::Job::staticMetaObject);
    }

    void helperObjectsMatchTheXml()
    {
        QFETCH(QString, interface);
        QFETCH(QStringList, methods);
        QFETCH(QStringList, signals_);
        QFETCH(QStringList, properties);
        QFile file(QStringLiteral(COFFER_SOURCE_DIR "/core/dbus/org.coffer.Helper1.xml"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&file);
        QString current, member, kind, signature;
        QStringList inXml[3]; // methods, signals, properties
        auto close = [&] {
            if (kind == QLatin1String("method"))
                inXml[0] << member + QLatin1Char('(') + signature + QLatin1Char(')');
            else if (kind == QLatin1String("signal"))
                inXml[1] << member + QLatin1Char('(') + signature + QLatin1Char(')');
            kind.clear();
        };
        while (!xml.atEnd()) {
            xml.readNext();
            if (xml.isEndElement() && (xml.name() == QLatin1String("method") || xml.name() == QLatin1String("signal")))
                close();
            if (!xml.isStartElement())
                continue;
            const QXmlStreamAttributes a = xml.attributes();
            if (xml.name() == QLatin1String("interface")) {
                current = a.value(QLatin1String("name")).toString();
            } else if (current != interface) {
                continue;
            } else if (xml.name() == QLatin1String("method") || xml.name() == QLatin1String("signal")) {
                kind = xml.name().toString();
                member = a.value(QLatin1String("name")).toString();
                signature.clear();
            } else if (xml.name() == QLatin1String("arg") && !kind.isEmpty()
                       && a.value(QLatin1String("direction")) != QLatin1String("out")) {
                signature += a.value(QLatin1String("type"));
            } else if (xml.name() == QLatin1String("property")) {
                inXml[2] << a.value(QLatin1String("name")).toString() + QLatin1Char(':') + a.value(QLatin1String("type")).toString();
            }
        }
        QVERIFY(!xml.hasError());
        QVERIFY(!inXml[0].isEmpty());
        const QStringList served[3] = {methods, signals_, properties};
        for (int i = 0; i < 3; ++i) {
            QStringList a = inXml[i], b = served[i];
            a.sort();
            b.sort();
            QCOMPARE(b, a);
        }
    }

    // Every a{sv} in the XML (of a method, a property or a signal) documents its keys
    // (org.coffer.Options), exactly those the codec (and so the helper) accepts, with the same
    // signatures.
    void xmlDocumentsTheOptions()
    {
        QFile file(QStringLiteral(COFFER_SOURCE_DIR "/core/dbus/org.coffer.Helper1.xml"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&file);
        QString member;
        QMap<QString, QStringList> documented;
        while (!xml.atEnd()) {
            xml.readNext();
            if (!xml.isStartElement())
                continue;
            const QString name = xml.attributes().value(QLatin1String("name")).toString();
            if (xml.name() == QLatin1String("method") || xml.name() == QLatin1String("property")
                || xml.name() == QLatin1String("signal"))
                member = name;
            else if (xml.name() == QLatin1String("annotation") && name == QLatin1String("org.coffer.Options"))
                documented[member] = xml.attributes().value(QLatin1String("value")).toString().split(QLatin1Char(' '));
        }
        QVERIFY(!xml.hasError());
        const QMap<QString, const char *> dictionaries{{QStringLiteral("CreateVault"), "CreateVault"},
                                                       {QStringLiteral("Unlock"), "Unlock"},
                                                       {QStringLiteral("Lock"), "Lock"},
                                                       {QStringLiteral("Sync"), "Sync"},
                                                       {QStringLiteral("Result"), "SyncResult"},
                                                       {QStringLiteral("MediaAdded"), "Medium"},
                                                       {QStringLiteral("MediaRemoved"), "Medium"}};
        QCOMPARE(documented.keys(), dictionaries.keys());
        for (auto it = dictionaries.cbegin(); it != dictionaries.cend(); ++it) {
            QStringList inCode;
            for (const Helper1::OptionSpec &spec : Helper1::optionSpecs(it.value()))
                inCode << QString::fromLatin1(spec.key.data(), qsizetype(spec.key.size())) + QLatin1Char(':')
                              + QString::fromLatin1(spec.signature.data(), qsizetype(spec.signature.size()));
            QStringList inXml = documented.value(it.key());
            inCode.sort();
            inXml.sort();
            QCOMPARE(inXml, inCode);
        }
    }

    // The packaging names what the code uses: the polkit actions are exactly the code's, each
    // with the defaults design.md 4.2 gives it; the bus policy lets root alone own the name and
    // anyone send it exactly the interfaces the helper serves; the service files start it.
    void packagingFilesAgree()
    {
        const QMap<QString, QStringList> defaults = polkitDefaults();
        QStringList ids = defaults.keys();
        QStringList inCode = Helper::Action::all();
        ids.sort();
        inCode.sort();
        QCOMPARE(ids, inCode);
        for (const QString &action : inCode) {
            // allow_any, allow_inactive, allow_active
            QStringList expected{QStringLiteral("auth_admin"), QStringLiteral("auth_admin"), QStringLiteral("yes")};
            if (action == Helper::Action::ManageOtherUsers)
                expected[2] = QStringLiteral("auth_admin");
            if (action == Helper::Action::Lock)
                expected[1] = QStringLiteral("yes"); // auto-lock after a user switch
            QCOMPARE(defaults.value(action), expected);
        }

        QFile conf(QStringLiteral(COFFER_SOURCE_DIR "/packaging/dbus/org.coffer.Helper1.conf"));
        QVERIFY(conf.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&conf);
        QString context;
        QStringList owners, deniedOwners, interfaces;
        while (!xml.atEnd()) {
            xml.readNext();
            if (!xml.isStartElement())
                continue;
            const QXmlStreamAttributes a = xml.attributes();
            if (xml.name() == QLatin1String("policy"))
                context = a.hasAttribute(QLatin1String("user"))
                              ? QStringLiteral("user=") + a.value(QLatin1String("user")).toString()
                              : a.value(QLatin1String("context")).toString();
            else if (xml.name() == QLatin1String("allow") && a.hasAttribute(QLatin1String("own")))
                owners << context + QLatin1Char(' ') + a.value(QLatin1String("own")).toString();
            else if (xml.name() == QLatin1String("deny") && a.hasAttribute(QLatin1String("own")))
                deniedOwners << context + QLatin1Char(' ') + a.value(QLatin1String("own")).toString();
            else if (xml.name() == QLatin1String("allow") && a.hasAttribute(QLatin1String("send_interface"))) {
                QCOMPARE(a.value(QLatin1String("send_destination")).toString(), QString::fromLatin1(Helper1::Service));
                interfaces << a.value(QLatin1String("send_interface")).toString();
            }
        }
        QVERIFY(!xml.hasError());
        const QString service = QString::fromLatin1(Helper1::Service);
        QCOMPARE(owners, QStringList{QStringLiteral("user=root ") + service});
        QCOMPARE(deniedOwners, QStringList{QStringLiteral("default ") + service});
        QStringList served{QString::fromLatin1(Helper1::ManagerInterface), QString::fromLatin1(Helper1::VaultInterface),
                           QString::fromLatin1(Helper1::JobInterface), QStringLiteral("org.freedesktop.DBus.Properties"),
                           QStringLiteral("org.freedesktop.DBus.Introspectable"), QStringLiteral("org.freedesktop.DBus.Peer")};
        interfaces.sort();
        served.sort();
        QCOMPARE(interfaces, served);

        const QString activation = readText(QStringLiteral(COFFER_SOURCE_DIR "/packaging/dbus/org.coffer.Helper1.service.in"));
        QVERIFY(activation.contains(QStringLiteral("\nName=") + service + QLatin1Char('\n')));
        QVERIFY(activation.contains(QStringLiteral("\nSystemdService=coffer-helper.service")));
        const QString unit = readText(QStringLiteral(COFFER_SOURCE_DIR "/packaging/systemd/coffer-helper.service.in"));
        QVERIFY(unit.contains(QStringLiteral("\nBusName=") + service + QLatin1Char('\n')));
    }

    // The unit bounds what the helper and its sync children may take (issue 10, exhaustion).
    void unitLimitsTheHelper()
    {
        const QString unit = readText(QStringLiteral(COFFER_SOURCE_DIR "/packaging/systemd/coffer-helper.service.in"));
        for (const char *limit : {"MemoryMax", "TasksMax", "LimitNOFILE"}) {
            const QRegularExpression line(QStringLiteral("\n%1=(\\d+[KMG]?)\n").arg(QLatin1String(limit)));
            QVERIFY2(line.match(unit).hasMatch(), limit);
        }
    }
};

QTEST_GUILESS_MAIN(TestDBusContract)
#include "test_dbus_contract.moc"
