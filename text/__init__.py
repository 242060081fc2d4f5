"""Text -> symbol ids for the encoder and back: cleaners, ARPAbet in {braces}, optional CMUdict;
`text_to_ids(text, hparams)` is the rule that training, inference, evaluation and the notebook share.

Adapted from https://github.com/keithito/tacotron (MIT licence).
"""

import re
import warnings
from collections.abc import Iterable

from text import cmudict
from text.cleaners import clean_text
from text.symbols import symbols

__all__ = ["sequence_to_text", "symbols", "text_to_ids", "text_to_sequence"]

_symbol_to_id = {symbol: index for index, symbol in enumerate(symbols)}
# Padding ("_") and end-of-sequence ("~") ids belong to the data pipeline, never to the text.
_not_from_text = {"_", "~"}
_braces_re = re.compile(r"\{([^{}]*)\}")
# A word for CMUdict: letters with inner apostrophes ("don't"), not the quotes around it.
_word_re = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
# What can be spoken: letters and ARPAbet phones (punctuation and spaces alone say nothing).
_speakable_ids = {i for i, symbol in enumerate(symbols) if symbol.isalpha() or symbol.startswith("@")}


def _letters_and_phones(text: str, use_cmudict: bool) -> list[str]:
    if not use_cmudict:
        return list(text)
    units: list[str] = []
    start = 0
    for match in _word_re.finditer(text):
        phones = cmudict.lookup(match.group(0))
        if phones is not None:
            units += list(text[start : match.start()]) + ["@" + phone for phone in phones.split()]
            start = match.end()
    return units + list(text[start:])


def text_to_sequence(text: str, cleaner_names: list[str], use_cmudict: bool = False) -> list[int]:
    """Symbol ids for `text`: "Turn left on {HH AW1 S S T AH0 N} Street." mixes letters and phones.

    The cleaners apply to the text outside braces. With `use_cmudict`, each word found in CMUdict is
    replaced by its phones. Characters not in the symbol set are dropped, with one warning per call.
    """
    units: list[str] = []
    # With one group, re.split alternates plain text (even indices) and brace contents (odd).
    for index, part in enumerate(_braces_re.split(text)):
        if index % 2:
            units += ["@" + phone for phone in part.upper().split()]
        else:
            units += _letters_and_phones(clean_text(part, cleaner_names), use_cmudict)
    sequence: list[int] = []
    dropped: list[str] = []
    for unit in units:
        if unit in _symbol_to_id and unit not in _not_from_text:
            sequence.append(_symbol_to_id[unit])
        elif unit not in dropped:
            dropped.append(unit)
    if dropped:
        names = ", ".join(repr(unit) for unit in dropped)
        warnings.warn(f"text_to_sequence dropped symbols not in the symbol set: {names}", stacklevel=2)
    return sequence


def text_to_ids(text: str, hparams):
    """Symbol ids, a LongTensor (T_in,), of `text` read with hparams.text_cleaners and hparams.use_cmudict;
    ValueError if no letter or phone is left to speak."""
    import torch  # here: the text package itself serves tools without torch (tests/nemo_agreement.py)

    ids = text_to_sequence(text, hparams.text_cleaners, use_cmudict=hparams.use_cmudict)
    if not _speakable_ids.intersection(ids):
        raise ValueError(f"text {text!r} has no symbols to speak (nothing speakable: no letter or phone of "
                         f"the symbol set is left after the cleaners {hparams.text_cleaners})")
    return torch.tensor(ids, dtype=torch.long)


def sequence_to_text(sequence: Iterable[int]) -> str:
    """Text for symbol ids, consecutive phones grouped as "{HH AW1}"; padding ids are skipped."""
    pieces: list[str] = []
    phones: list[str] = []
    for symbol_id in sequence:
        symbol = symbols[int(symbol_id)]
        if symbol == "_":
            continue
        if symbol.startswith("@"):
            phones.append(symbol[1:])
            continue
        if phones:
            pieces.append("{" + " ".join(phones) + "}")
            phones = []
        pieces.append(symbol)
    if phones:
        pieces.append("{" + " ".join(phones) + "}")
    return "".join(pieces)
