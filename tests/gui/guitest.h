#pragma once

// What the dialogs' GUI tests share (run under xvfbmain.h's COFFER_XVFB_MAIN, so the widgets
// have the real xcb platform's focus and keyboard handling): screenshots of every page and
// dialog as artifacts (build/screenshots/*.png), and the checks every window passes: an
// accessible name on each control that takes focus, and no two mnemonics alike among the
// controls visible together.

#include <QAbstractButton>
#include <QAccessible>
#include <QApplication>
#include <QDir>
#include <QLabel>
#include <QMap>
#include <QWidget>
#include <QtTest>

namespace Coffer::Test {

inline QString screenshotDir()
{
    return QStringLiteral(COFFER_BINARY_DIR "/screenshots");
}

// Saves what `widget` (its window) shows as <build>/screenshots/<name>.png.
inline void screenshot(QWidget *widget, const QString &name)
{
    QWidget *window = widget->window();
    QVERIFY(window->isVisible());
    QCoreApplication::processEvents();
    QDir().mkpath(screenshotDir());
    QVERIFY(window->grab().save(screenshotDir() + QLatin1Char('/') + name + QStringLiteral(".png")));
}

// Controls under root, visible now, that take the keyboard's focus but have no accessible name.
inline QStringList unnamedControls(QWidget *root)
{
    QStringList out;
    QList<QWidget *> all = root->findChildren<QWidget *>();
    all.prepend(root);
    for (QWidget *w : all) {
        if (!w->isVisibleTo(root->window()) || !w->isEnabled() || !(w->focusPolicy() & Qt::TabFocus) || w->focusProxy())
            continue;
        QAccessibleInterface *a = QAccessible::queryAccessibleInterface(w);
        if (!a || a->text(QAccessible::Name).trimmed().isEmpty())
            out << QStringLiteral("%1 \"%2\"").arg(QString::fromLatin1(w->metaObject()->className()), w->objectName());
    }
    return out;
}

// Mnemonic letters used more than once among the labels and buttons visible in root's window.
inline QStringList mnemonicClashes(QWidget *root)
{
    QMap<QChar, QStringList> seen;
    for (QWidget *w : root->window()->findChildren<QWidget *>()) {
        if (!w->isVisibleTo(root->window()))
            continue;
        QString text;
        if (auto *b = qobject_cast<QAbstractButton *>(w))
            text = b->text();
        else if (auto *l = qobject_cast<QLabel *>(w); l && l->buddy())
            text = l->text();
        const qsizetype amp = text.indexOf(QRegularExpression(QStringLiteral("&[^&]")));
        if (amp >= 0)
            seen[text[amp + 1].toLower()] << text;
    }
    QStringList out;
    for (auto it = seen.begin(); it != seen.end(); ++it) {
        if (it->size() > 1)
            out << it->join(QStringLiteral(" / "));
    }
    return out;
}

// Both checks, for the window as it is shown now.
#define COFFER_CHECK_KEYBOARD_AND_NAMES(widget)                                                                        \
    do {                                                                                                               \
        QCOMPARE(Coffer::Test::unnamedControls(widget), QStringList());                                                \
        QCOMPARE(Coffer::Test::mnemonicClashes(widget), QStringList());                                                \
    } while (false)

} // namespace Coffer::Test
