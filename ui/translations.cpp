#include "translations.h"

#include <QCoreApplication>
#include <QLocale>
#include <QTranslator>

namespace Coffer::Ui {

void installTranslations()
{
    auto *english = new QTranslator(QCoreApplication::instance());
    if (english->load(QStringLiteral(":/translations/coffer_en.qm")))
        QCoreApplication::installTranslator(english);
    auto *local = new QTranslator(QCoreApplication::instance());
    if (QLocale().language() != QLocale::English
        && local->load(QLocale(), QStringLiteral("coffer"), QStringLiteral("_"), QStringLiteral(":/translations")))
        QCoreApplication::installTranslator(local);
}

} // namespace Coffer::Ui
