"""Text cleaners, chosen by name through the `text_cleaners` hparam and looked up in `CLEANERS`.

Adapted from https://github.com/keithito/tacotron (MIT licence).
"""

import re
from collections.abc import Callable

from unidecode import unidecode

from text.abbreviations import REFERENCE as _ABBREVIATIONS
from text.normalize import expand_written_forms
from text.numbers import normalize_numbers
from text.symbols import symbols

_whitespace_re = re.compile(r"\s+")
_spaces_re = re.compile(r" {2,}")
# Characters outside the symbol set ("\"", "[", "*"); "_" is the padding symbol, never text.
_unspeakable_re = re.compile(
    "[^" + re.escape("".join(symbol for symbol in symbols if len(symbol) == 1 and symbol != "_")) + "]"
)

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


def _collapse_spaces(text: str) -> str:
    return _spaces_re.sub(" ", text)


def basic_cleaners(text: str) -> str:
    """Lowercase and collapse whitespace; no transliteration, for any language."""
    return _collapse_whitespace(text.lower())


def transliteration_cleaners(text: str) -> str:
    """Transliterate to ASCII, lowercase and collapse whitespace; for non-English text."""
    return _collapse_whitespace(unidecode(text).lower())


def english_cleaners_reference(text: str) -> str:
    """The reference's English cleaners, exactly: transliterate, lowercase, spell out numbers, expand
    its 18 abbreviations, collapse whitespace. Symbols it cannot read ("%", "&", "°") are left for
    `text_to_sequence` to drop; kept by name to reproduce text that earlier models were trained on."""
    # Numbers are also read before transliteration, since unidecode turns "£20" into "PS20";
    # the second pass reads digits that unidecode itself writes ("²" -> "2").
    text = unidecode(normalize_numbers(text)).lower()
    return _collapse_whitespace(expand_abbreviations(normalize_numbers(text)))


def english_cleaners(text: str) -> str:
    """English text as it is said: the reference cleaners after `text.normalize`, which writes out
    what they drop or garble ("86%", "3:30 pm", "Chapter IV", "a@b.com", "FBI"), so that text the
    reference reads right keeps its reference symbols. The output holds only symbols of the set."""
    spoken = english_cleaners_reference(expand_written_forms(text))
    spoken = _collapse_spaces(_unspeakable_re.sub("", spoken))
    # Words written in at the edges bring no whitespace of their own: "&" -> "and", not " and ".
    if not text[:1].isspace():
        spoken = spoken.lstrip()
    if not text[-1:].isspace():
        spoken = spoken.rstrip()
    return spoken


CLEANERS: dict[str, Callable[[str], str]] = {
    "basic_cleaners": basic_cleaners,
    "english_cleaners": english_cleaners,
    "english_cleaners_reference": english_cleaners_reference,
    "transliteration_cleaners": transliteration_cleaners,
}


def clean_text(text: str, cleaner_names: list[str]) -> str:
    """Run the named cleaners in order; an unknown name raises ValueError listing the known ones."""
    for name in [cleaner_names] if isinstance(cleaner_names, str) else cleaner_names:
        if name not in CLEANERS:
            raise ValueError(f"unknown cleaner '{name}'; available: {', '.join(sorted(CLEANERS))}")
        text = CLEANERS[name](text)
    return text
