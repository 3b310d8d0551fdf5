#include "keys/passphrasestrength.h"

#include <QString>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

namespace Coffer::Keys {

namespace {

// The passwords and words people pick first (the heads of the public leak lists), lower case.
// A match costs an attacker one guess from a list this size.
constexpr const char16_t *commonWords[] = {
    u"password", u"passwort", u"qwerty", u"azerty", u"qwertz", u"letmein", u"welcome", u"admin",
    u"iloveyou", u"monkey", u"dragon", u"master", u"login", u"abc123", u"football", u"baseball",
    u"sunshine", u"princess", u"shadow", u"trustno", u"secret", u"superman", u"batman", u"hello",
    u"freedom", u"whatever", u"charlie", u"michael", u"jordan", u"jennifer", u"hunter", u"killer",
    u"soccer", u"starwars", u"computer", u"internet", u"cheese", u"summer", u"winter", u"spring",
    u"autumn", u"flower", u"coffee", u"coffer", u"changeme", u"default", u"access", u"mustang",
    u"pokemon", u"google", u"linux", u"ubuntu", u"debian", u"backup", u"vault", u"love",
};
constexpr double commonListBits = 10; // about a thousand words and their variants

// Keyboard rows and the digit row, forwards; a run of them is a sequence.
constexpr const char16_t *keyboardRows[] = {u"qwertyuiop", u"asdfghjkl", u"zxcvbnm", u"1234567890",
                                           u"qwertzuiop", u"yxcvbnm", u"azertyuiop", u"wxcvbn"};

// Lower case with the usual substitutions undone ("p@ssw0rd" is "password").
QString normalised(QStringView s)
{
    QString out = s.toString().toLower();
    for (QChar &c : out) {
        switch (c.unicode()) {
        case '0': c = u'o'; break;
        case '1': c = u'l'; break;
        case '!': c = u'i'; break;
        case '3': c = u'e'; break;
        case '4': case '@': c = u'a'; break;
        case '5': case '$': c = u's'; break;
        case '7': c = u't'; break;
        default: break;
        }
    }
    return out;
}

enum class Kind { Lower, Upper, Digit, Symbol, Other };
// log2 of each kind's alphabet: 26 letters, 10 digits, 33 ASCII symbols, about 100 others.
const double alphabetBits[] = {4.70, 4.70, 3.32, 5.04, 6.64};

Kind kindOf(QChar c)
{
    if (c.unicode() >= 0x80)
        return Kind::Other;
    if (c.isLower())
        return Kind::Lower;
    if (c.isUpper())
        return Kind::Upper;
    return c.isDigit() ? Kind::Digit : Kind::Symbol;
}

bool adjacentOnKeyboard(QChar a, QChar b)
{
    for (const char16_t *row : keyboardRows) {
        const QStringView r(row);
        const qsizetype i = r.indexOf(a);
        if (i >= 0 && ((i + 1 < r.size() && r[i + 1] == b) || (i > 0 && r[i - 1] == b)))
            return true;
    }
    return false;
}

} // namespace

StrengthEstimate estimateStrength(QStringView passphrase)
{
    StrengthEstimate e;
    if (passphrase.isEmpty())
        return e;

    // The kinds of character it uses.
    unsigned kinds = 0;
    for (QChar c : passphrase)
        kinds |= 1u << int(kindOf(c));
    // What each character adds: the size of its own kind's alphabet (a capital in a word is a
    // letter more, not one of 95 characters), or little when it repeats or continues the one
    // before. (Lower case may be longer than the original for a few letters; only its indexes
    // are used.)
    const QString lowered = passphrase.toString().toLower();
    std::vector<double> bits;
    for (QChar c : lowered)
        bits.push_back(alphabetBits[int(kindOf(c))]);
    int repeats = 0, sequences = 0;
    for (qsizetype i = 1; i < lowered.size(); ++i) {
        const QChar a = lowered[i - 1], b = lowered[i];
        if (a == b) {
            bits[size_t(i)] = 1;
            ++repeats;
        } else if ((a.isLetterOrNumber() && std::abs(int(a.unicode()) - int(b.unicode())) == 1)
                   || adjacentOnKeyboard(a, b)) {
            bits[size_t(i)] = 1.5;
            ++sequences;
        }
    }
    // A common word anywhere counts as one pick from the list.
    bool common = false;
    const QString plain = normalised(passphrase);
    for (const char16_t *word : commonWords) {
        const QStringView w(word);
        for (qsizetype at = plain.indexOf(w); at >= 0; at = plain.indexOf(w, at + w.size())) {
            common = true;
            std::fill(bits.begin() + at, bits.begin() + at + w.size(), 0.0);
            bits[size_t(at)] = commonListBits;
        }
    }
    for (double b : bits)
        e.bits += b;

    e.strength = e.bits < minimumBits ? Strength::Weak
        : e.bits < 60                ? Strength::Fair
        : e.bits < 80                ? Strength::Good
                                     : Strength::Strong;
    const qsizetype length = passphrase.size();
    if (length < minimumLength) {
        e.weakness = Weakness::TooShort;
        e.strength = Strength::Weak; // however odd its characters
    } else if (common)
        e.weakness = Weakness::CommonPassword;
    else if (repeats * 3 >= length)
        e.weakness = Weakness::Repetition;
    else if (sequences * 3 >= length)
        e.weakness = Weakness::Sequence;
    else if (e.strength <= Strength::Fair && std::popcount(kinds) < 2)
        e.weakness = Weakness::FewKinds;
    return e;
}

} // namespace Coffer::Keys
