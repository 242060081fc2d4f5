"""Text cleaners, chosen by name through the `text_cleaners` hparam and looked up in `CLEANERS`.

Adapted from https://github.com/keithito/tacotron (MIT licence).
"""

import re
from collections.abc import Callable

from unidecode import unidecode

from text.numbers import normalize_numbers

_whitespace_re = re.compile(r"\s+")

_ABBREVIATIONS = {
    "mrs": "misess", "mr": "mister", "dr": "doctor", "st": "saint", "co": "company", "jr": "junior",
    "maj": "major", "gen": "general", "drs": "doctors", "rev": "reverend", "lt": "lieutenant",
    "hon": "honorable", "sgt": "sergeant", "capt": "captain", "esq": "esquire", "ltd": "limited",
    "col": "colonel", "ft": "fort",
}  # fmt: skip
# A whole word followed by its period: "Dr." but not "drive." nor "Dr" alone.
_abbreviation_re = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\.", re.IGNORECASE)


def _expand_abbreviation(match: re.Match[str]) -> str:
    written = match.group(1)
    expansion = _ABBREVIATIONS[written.lower()]
    if written.isupper():
        return expansion.upper()
    return expansion.capitalize() if written[0].isupper() else expansion


def expand_abbreviations(text: str) -> str:
    """Expand "Mr." -> "Mister", "dr." -> "doctor", following the abbreviation's case; the rest is kept."""
    return _abbreviation_re.sub(_expand_abbreviation, text)


def _collapse_whitespace(text: str) -> str:
    return _whitespace_re.sub(" ", text)


def basic_cleaners(text: str) -> str:
    """Lowercase and collapse whitespace; no transliteration, for any language."""
    return _collapse_whitespace(text.lower())


def transliteration_cleaners(text: str) -> str:
    """Transliterate to ASCII, lowercase and collapse whitespace; for non-English text."""
    return _collapse_whitespace(unidecode(text).lower())


def english_cleaners(text: str) -> str:
    """Transliterate, lowercase, spell out numbers, expand abbreviations, collapse whitespace."""
    # Numbers are also read before transliteration, since unidecode turns "£20" into "PS20";
    # the second pass reads digits that unidecode itself writes ("²" -> "2").
    text = unidecode(normalize_numbers(text)).lower()
    return _collapse_whitespace(expand_abbreviations(normalize_numbers(text)))


CLEANERS: dict[str, Callable[[str], str]] = {
    "basic_cleaners": basic_cleaners,
    "english_cleaners": english_cleaners,
    "transliteration_cleaners": transliteration_cleaners,
}


def clean_text(text: str, cleaner_names: list[str]) -> str:
    """Run the named cleaners in order; an unknown name raises ValueError listing the known ones."""
    for name in [cleaner_names] if isinstance(cleaner_names, str) else cleaner_names:
        if name not in CLEANERS:
            raise ValueError(f"unknown cleaner '{name}'; available: {', '.join(sorted(CLEANERS))}")
        text = CLEANERS[name](text)
    return text
