#pragma once

// How hard a new passphrase would be to guess: a conservative estimate in bits, in the spirit of
// zxcvbn but small. Each character counts for the alphabet it draws from, except where it merely
// repeats or continues the one before ("aaaa", "abcd", "4321", keyboard rows), and a common
// password or word inside counts as one guess from a short list. It judges the passphrase as
// typed; it cannot know that a phrase is a line from a song.

#include <QStringView>

namespace Coffer::Keys {

enum class Strength { Empty, Weak, Fair, Good, Strong };

// Why a passphrase scored lower than its length suggests (the first that applies).
enum class Weakness { None, TooShort, CommonPassword, Repetition, Sequence, FewKinds };

struct StrengthEstimate
{
    double bits = 0;
    Strength strength = Strength::Empty;
    Weakness weakness = Weakness::None;
};

// Below this a new passphrase is refused (Weak); Fair from here, Good from 60, Strong from 80.
inline constexpr double minimumBits = 40;
inline constexpr int minimumLength = 8;

StrengthEstimate estimateStrength(QStringView passphrase);

} // namespace Coffer::Keys
