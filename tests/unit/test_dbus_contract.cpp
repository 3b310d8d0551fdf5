// The D-Bus contract: one mapping of error kinds to names (both ways), and the helper's exported
// objects offer exactly the methods the interface XML (and so the client proxies) promise.
#include "dbus/errornames.h"
#include "dbus/helper1interface.h"
#include "dbus/options.h"
#include "job.h"
#include "manager.h"
#include "vaultobject.h"

#include <QDBusMessage>
#include <QFile>
#include <QMetaMethod>
#include <QTest>
#include <QXmlStreamReader>

using namespace Coffer;

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

    void helperObjectsMatchTheXml_data()
    {
        QTest::addColumn<QString>("interface");
        QTest::addColumn<const QMetaObject *>("helper");
        QTest::newRow("Manager") << "org.coffer.Helper1.Manager" << &Helper::Manager::staticMetaObject;
        QTest::newRow("Vault") << "org.coffer.Helper1.Vault" << &Helper::VaultObject::staticMetaObject;
        QTest::newRow("Job") << "org.coffer.Helper1.Job" << &Helper::Job::staticMetaObject;
    }

    void helperObjectsMatchTheXml()
    {
        QFETCH(QString, interface);
        QFETCH(const QMetaObject *, helper);
        QFile file(QStringLiteral(COFFER_SOURCE_DIR "/core/dbus/org.coffer.Helper1.xml"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&file);
        QString current;
        QStringList methods, signals_, properties;
        while (!xml.atEnd()) {
            xml.readNext();
            if (!xml.isStartElement())
                continue;
            const QString name = xml.attributes().value(QLatin1String("name")).toString();
            if (xml.name() == QLatin1String("interface"))
                current = name;
            else if (current == interface && xml.name() == QLatin1String("method"))
                methods << name;
            else if (current == interface && xml.name() == QLatin1String("signal"))
                signals_ << name;
            else if (current == interface && xml.name() == QLatin1String("property"))
                properties << name;
        }
        QVERIFY(!xml.hasError());
        QVERIFY(!methods.isEmpty() || !signals_.isEmpty());
        QCOMPARE(QString::fromLatin1(helper->classInfo(helper->indexOfClassInfo("D-Bus Interface")).value()),
                 interface);
        auto has = [helper](const QString &name, QMetaMethod::MethodType type) {
            for (int i = helper->methodOffset(); i < helper->methodCount(); ++i) {
                const QMetaMethod m = helper->method(i);
                if (m.methodType() == type && QString::fromLatin1(m.name()) == name
                    && (type != QMetaMethod::Slot || m.access() == QMetaMethod::Public))
                    return true;
            }
            return false;
        };
        for (const QString &m : methods)
            QVERIFY2(has(m, QMetaMethod::Slot), qPrintable(interface + "." + m + " is not a public slot"));
        for (const QString &s : signals_)
            QVERIFY2(has(s, QMetaMethod::Signal), qPrintable(interface + "." + s + " is not a signal"));
        for (const QString &p : properties)
            QVERIFY2(helper->indexOfProperty(p.toLatin1().constData()) >= 0,
                     qPrintable(interface + "." + p + " is not a property"));
        // And nothing exported that the XML does not promise.
        for (int i = helper->methodOffset(); i < helper->methodCount(); ++i) {
            const QMetaMethod m = helper->method(i);
            if (m.methodType() == QMetaMethod::Slot && m.access() == QMetaMethod::Public)
                QVERIFY2(methods.contains(QString::fromLatin1(m.name())), m.name().constData());
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

    void proxiesAreGenerated()
    {
        QCOMPARE(QString::fromLatin1(OrgCofferHelper1ManagerInterface::staticInterfaceName()),
                 QStringLiteral("org.coffer.Helper1.Manager"));
        QCOMPARE(QString::fromLatin1(OrgCofferHelper1VaultInterface::staticInterfaceName()),
                 QStringLiteral("org.coffer.Helper1.Vault"));
        QCOMPARE(QString::fromLatin1(OrgCofferHelper1JobInterface::staticInterfaceName()),
                 QStringLiteral("org.coffer.Helper1.Job"));
    }

    void packagingFilesAgree()
    {
        // The bus policy and the polkit actions name what the code uses.
        QFile conf(QStringLiteral(COFFER_SOURCE_DIR "/packaging/dbus/org.coffer.Helper1.conf"));
        QVERIFY(conf.open(QIODevice::ReadOnly));
        const QByteArray policy = conf.readAll();
        QVERIFY(policy.contains("<policy user=\"root\">\n    <allow own=\"org.coffer.Helper1\"/>"));
        QVERIFY(policy.contains("<deny own=\"org.coffer.Helper1\"/>"));
        QFile actions(QStringLiteral(COFFER_SOURCE_DIR "/packaging/polkit/org.coffer.helper.policy"));
        QVERIFY(actions.open(QIODevice::ReadOnly));
        const QByteArray text = actions.readAll();
        for (const char *id : {"create", "unlock", "lock", "sync", "manage-keys", "resize", "manage-other-users"})
            QVERIFY2(text.contains(QByteArray("<action id=\"org.coffer.helper.") + id + "\">"), id);
    }
};

QTEST_GUILESS_MAIN(TestDBusContract)
#include "test_dbus_contract.moc"
