"""Spell out numbers for English speech: "$3.50", "£20", "2.5", "22nd", "1984", "1,000", "123".

Adapted from https://github.com/keithito/tacotron (MIT licence).
"""

import functools
import re
from collections.abc import Callable

# symbol -> (unit, units, subunit, subunits); "$0.01" -> "one cent", "£0.50" -> "fifty pence".
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
}


@functools.cache
def _inflect():
    # Imported on the first number only: inflect 7 takes a second or more to import (typeguard
    # instruments it, jaraco/inflect#212), and `from text import symbols` should stay instant.
    import inflect

    return inflect.engine()


def _cardinal(number: int) -> str:
    if number >= 10**36:  # past inflect's decillions (it raises): read the digits one by one
        return " ".join(_inflect().number_to_words(int(digit)) for digit in str(number))
    # andword="": "one hundred twenty-three", as the reference normalised its training text.
    return _inflect().number_to_words(number, andword="")


def _remove_commas(match: re.Match[str]) -> str:
    return match.group(0).replace(",", "")


def spell_amount(amount: str, names: tuple[str, str, str, str]) -> str:
    """An amount in words but its digits: "3.50" in ("dollar", "dollars", "cent", "cents") is
    "3 dollars, 50 cents". The number pass reads the digits afterwards ("1500" -> "fifteen hundred").
    """
    unit, units, subunit, subunits = names
    whole, _, fraction = amount.partition(".")
    if "." in fraction or len(fraction) > 2:  # not a price ("$1.2.3", "$0.125"): read it as written
        return f"{amount} {units}"
    whole_count = int(whole or "0")
    fraction_count = int(fraction.ljust(2, "0")) if fraction else 0  # "$3.5" is fifty cents
    parts = []
    if whole_count:
        parts.append(f"{whole_count} {unit if whole_count == 1 else units}")
    if fraction_count:
        parts.append(f"{fraction_count} {subunit if fraction_count == 1 else subunits}")
    return ", ".join(parts) or f"zero {units}"


def _currency(match: re.Match[str]) -> str:
    return spell_amount(match.group(2), _CURRENCIES[match.group(1)])


def _decimal(match: re.Match[str]) -> str:
    # Digits after the point are read one by one: "3.14" -> "three point one four".
    return f"{match.group(1)} point {' '.join(match.group(2))}"


def _ordinal(match: re.Match[str]) -> str:
    number = int(match.group(1))
    if number >= 10**36:  # past inflect's range (the reference raised): digits, the last one ordinal
        *leading, last = (_cardinal(int(digit)) for digit in str(number))
        return " ".join([*leading, _inflect().ordinal(last)])
    # inflect's default andword here, as in the reference: "101st" -> "one hundred and first".
    return _inflect().ordinal(_inflect().number_to_words(number))


def _number(match: re.Match[str]) -> str:
    number = int(match.group(0))
    if not 1000 < number < 3000:
        return _cardinal(number)
    # Read as a year: "1984" -> "nineteen eighty-four", "2007" -> "two thousand seven".
    if number == 2000:
        return "two thousand"
    if 2000 < number < 2010:
        return f"two thousand {_cardinal(number % 100)}"
    if number % 100 == 0:
        return f"{_cardinal(number // 100)} hundred"
    # group=2 splits into pairs, "nineteen, oh five"; the comma would be read as a pause.
    return _inflect().number_to_words(number, andword="", zero="oh", group=2).replace(", ", " ")


# Applied in order: commas go first so that "$1,000.50" and "1,984" reach the later passes whole.
_PASSES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"[0-9][0-9,]+[0-9]"), _remove_commas),
    (re.compile(r"([$£])([0-9.]*[0-9])"), _currency),
    (re.compile(r"([0-9]+)\.([0-9]+)"), _decimal),
    (re.compile(r"([0-9]+)(?:st|nd|rd|th)\b", re.IGNORECASE), _ordinal),
    (re.compile(r"[0-9]+"), _number),
]


def normalize_numbers(text: str) -> str:
    """Spell out every number in `text`; other characters, case included, are left as they are."""
    for pattern, replace in _PASSES:
        text = pattern.sub(replace, text)
    return text
