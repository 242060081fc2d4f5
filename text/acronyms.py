"""Which words in capitals are said letter by letter ("FBI", "HTML") and which as words ("NASA", "STOP").

CMUdict knows both kinds: "FBI" is listed as EH1 F B IY1 AY1, the names of its letters, while "NASA"
and "STOP" are listed as words. A spelled acronym is written as lowercase letters apart, "f b i", which
the 148 symbols can express and which the models read as letter names, as they read "j" in "john j
smith".
"""

import functools

from text import cmudict

_VOWELS = set("AEIOUY")
# Listed in CMUdict only as the words "ai", "id", "un", but in capitals nearly always initials.
_INITIALS_NOT_IN_CMUDICT = {"AI", "ID", "UN"}


def _without_stress(phones: list[str]) -> tuple[str, ...]:
    return tuple(phone.rstrip("012") for phone in phones)


@functools.cache
def _letter_names() -> dict[str, set[tuple[str, ...]]]:
    # "a" is both AH0 (the article) and EY1 (the letter); any of a letter's pronunciations may match.
    return {
        letter: {_without_stress(phones) for phones in cmudict.pronunciations(letter)}
        for letter in "abcdefghijklmnopqrstuvwxyz"
    }


def _sounds_like_its_letters(word: str, phones: tuple[str, ...]) -> bool:
    """Whether `phones` is the names of the letters of `word`, one after the other."""
    names = _letter_names()
    # ends[i]: the phone positions at which the first i letters' names can end.
    ends = {0}
    for letter in word.lower():
        ends = {
            end + len(name) for end in ends for name in names[letter] if phones[end : end + len(name)] == name
        }
        if not ends:
            return False
    return len(phones) in ends


def said_as_letters(word: str) -> bool:
    """Whether a word written in capitals is said letter by letter: by its first CMUdict pronunciation,
    else (not in CMUdict) when it is short or has no vowel to say ("GPU", "HTTPS", but "COVID")."""
    if word.upper() in _INITIALS_NOT_IN_CMUDICT:
        return True
    known = cmudict.pronunciations(word)
    if known:
        phones = _without_stress(known[0])
        # Each letter's name has a vowel: as many vowels as letters also catches entries that name a
        # letter loosely ("GPS" listed as G IY P IY EH S).
        vowels = sum(phone[0] in "AEIOU" for phone in phones)
        return vowels >= len(word) or _sounds_like_its_letters(word, phones)
    # A long run of capitals with no vowel is more often a noise ("PPHHHLLLBBBBTTT") than initials.
    return len(word) <= 3 or (len(word) <= 6 and not _VOWELS.intersection(word.upper()))


def spell(word: str) -> str:
    """The letters of `word` apart, in lowercase: "FBI" -> "f b i"."""
    return " ".join(word.lower())
