"""English normalization: what the reference cleaners drop or garble, written out as words.

"86%" -> "86 percent", "3:30 pm" -> "3 30 p m", "Henry VIII" -> "Henry the 8th", "a@b.com" -> "a at b
dot com". Each pass rewrites only such spans and leaves digits where the reference's number pass reads
them right, so text that the reference already speaks keeps its reference symbols exactly;
`text.cleaners.english_cleaners` runs these passes, then the reference cleaners.
"""

import re
from collections.abc import Callable

from unidecode import unidecode

from text import abbreviations, acronyms, units
from text.numbers import normalize_numbers, spell_amount
from text.roman import KEYWORDS, NOT_NAMES, REGNAL_NAMES, roman_to_int

# Edge of the words a pass writes in: a space between two words, nothing next to whitespace,
# punctuation or a hyphen, so that "50 %." becomes "50 percent." and not "50 percent .", and "-5 km"
# stays "-5 kilometers" for the minus pass. A private-use character, which unidecode deletes, so
# transliterated input never contains it.
_SOFT = "\ue000"
_soft_at_edges_re = re.compile(f'(?<![^\\s("-]){_SOFT}+|{_SOFT}+(?![^\\s,.;:!?)"\'-])')
_soft_re = re.compile(f"{_SOFT}+")

# Read by the passes below, so kept through transliteration (unidecode writes "°" as "deg", "€" as
# "EUR", "£" as "PS", "²" as "2"); the symbol pass says or transliterates any left over.
_KEPT = "£€¥¢₹°º§©®™×÷±²³‰µ"
_kept_re = re.compile(f"([{_KEPT}])")
_BEFORE_TRANSLITERATION = {"℃": "°C", "℉": "°F", "μ": "µ"}  # Greek mu as the micro sign of "µm"

_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"  # "5", "1,200", "3.50"


def _words(text: str) -> str:
    return f"{_SOFT}{text}{_SOFT}"


def _ordinal_digits(number: int) -> str:
    """5 -> "5th", which the reference's number pass reads "fifth"."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def _ends_sentence(match: re.Match[str]) -> bool:
    """Whether what follows `match` is the end or a capital after a space: a period there ends a sentence."""
    return re.match(r"\s*$|\s+[\"'(]?[A-Z]", match.string[match.end() :]) is not None


def _ends_text(match: re.Match[str]) -> bool:
    return re.fullmatch(r"[\s\"')\]]*", match.string[match.end() :]) is not None


def _alternation(words) -> str:
    # Longest first, so that "Sept" is tried before "Sep" and "km" before "m".
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


def transliterate(text: str) -> str:
    """unidecode, except for the characters the passes read themselves ("€5", "20°C")."""
    for written, replacement in _BEFORE_TRANSLITERATION.items():
        text = text.replace(written, replacement)
    # With one group, re.split alternates other text (even indices) and kept characters (odd).
    return "".join(part if index % 2 else unidecode(part) for index, part in enumerate(_kept_re.split(text)))


# --- Addresses: emails, web addresses, phone numbers -------------------------------------------------

_TOP_LEVEL_DOMAINS = r"(?:com|org|net|edu|gov|mil|io|info|biz|dev|app|co\.uk|org\.uk|ac\.uk)"
_URL_END = r"[^\s<>\".,;:!?)\]']"  # a web address does not end on the sentence's punctuation
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z\d-]+(?:\.[A-Za-z\d-]+)*\.[A-Za-z]{2,}(?![\w-])")
_URL = re.compile(
    rf"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"]*{_URL_END}"
    rf"|\b[A-Za-z\d-]+(?:\.[A-Za-z\d-]+)*\.{_TOP_LEVEL_DOMAINS}\b(?:/[^\s<>\"]*{_URL_END})?"
)
_ADDRESS_SYMBOLS = {
    ".": "dot", "@": "at", "/": "slash", ":": "colon", "-": "dash", "_": "underscore",
    "?": "question mark", "=": "equals", "&": "and", "#": "hash", "%": "percent", "~": "tilde",
    "+": "plus",
}  # fmt: skip
_SPELLED_IN_ADDRESSES = {"www", "http", "https", "ftp"}


def _read_address(match: re.Match[str]) -> str:
    # "john.smith2@example.com" -> "john dot smith 2 at example dot com": digits one by one.
    pieces = []
    for piece in re.findall(r"[A-Za-z]+|.", match.group(0)):
        if piece.isdigit():
            pieces.append(piece)
        elif piece.isalpha():
            piece = piece.lower()
            pieces.append(acronyms.spell(piece) if piece in _SPELLED_IN_ADDRESSES else piece)
        elif piece in _ADDRESS_SYMBOLS:
            pieces.append(_ADDRESS_SYMBOLS[piece])
    return _words(" ".join(pieces))


_PHONE = re.compile(
    r"(?<![\w+-])(?:"
    r"(?:\+?\d{1,3}[ .-])?(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}"  # 555-123-4567, (555) 123-4567, 1-800-...
    r"|\+\d{1,3}(?:[ .-]\d{2,4}){2,4}"  # +44 20 7946 0958
    r"|\d{3}-\d{4}|\d{3}-\d{2}-\d{4}|\d{5}-\d{4}"  # 555-1234, 123-45-6789, 02134-1234
    r")(?![\w-])"
)


def _read_phone(match: re.Match[str]) -> str:
    # Digit by digit, a pause between groups; "800" stays "eight hundred", as in "1-800-...".
    groups = re.findall(r"\d+", match.group(0))
    said = [
        group if len(group) == 3 and group.endswith("00") and group[0] != "0" else " ".join(group)
        for group in groups
    ]
    plus = "plus " if match.group(0).startswith("+") else ""
    return _words(plus + ", ".join(said))


# --- Dates and times ---------------------------------------------------------------------------------

_MONTH_NAMES = "|".join(abbreviations.MONTHS)
_MONTH_ABBREVIATIONS = _alternation(abbreviations.MONTH_ABBREVIATIONS)
_ISO_DATE = re.compile(r"(?<![\w.-])(\d{4})-(\d{2})-(\d{2})(?![\w-])")
_SLASHED_DATE = re.compile(r"(?<![\w/.-])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\w/-])")
_MONTH_YEAR = re.compile(r"(?<![\w/.-])(\d{1,2})/(\d{4})(?![\w/-])")  # "9/1990"
_DOTTED_DATE = re.compile(r"(?<![\w.-])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\w-]|\.\d)")
# "5 January", "5th Jan. 2021": the day before the month is said "the fifth of January".
_DAY_MONTH = re.compile(
    rf"(?<![\w.,-])(?:([Tt]he)\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+"
    rf"({_MONTH_NAMES}|(?:{_MONTH_ABBREVIATIONS})\b\.?)(?!\w)"
)
# "Jan. 5", "Sept 11", "Dec. 2021". A full month name with a day ("January 5") is left to the
# reference, which says "january five".
_MONTH_ABBREVIATION_DATE = re.compile(
    rf"\b({_MONTH_ABBREVIATIONS})\.?\s+(\d{{4}}|\d{{1,2}})(?:st|nd|rd|th)?(?![\w:]|[.,]\d)"
)


def _month_day(month: int, day: int, year: str) -> str:
    return f"{abbreviations.MONTHS[month - 1]} {_ordinal_digits(day)}, {year}"


def _day_of_month(day: int, month: int, year: str) -> str:
    return f"the {_ordinal_digits(day)} of {abbreviations.MONTHS[month - 1]} {year}"


def _read_iso_date(match: re.Match[str]) -> str:
    year, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    return _words(_month_day(month, day, year))


def _read_slashed_date(match: re.Match[str]) -> str:
    first, second, year = int(match.group(1)), int(match.group(2)), match.group(3)
    # Month first, as in American writing, unless that cannot be: "25/12/2021" is day first.
    if 1 <= first <= 12 and 1 <= second <= 31:
        return _words(_month_day(first, second, year))
    if 1 <= second <= 12 and 1 <= first <= 31:
        return _words(_day_of_month(first, second, year))
    return match.group(0)


def _read_month_year(match: re.Match[str]) -> str:
    month = int(match.group(1))
    return (
        _words(f"{abbreviations.MONTHS[month - 1]} {match.group(2)}") if 1 <= month <= 12 else match.group(0)
    )


def _read_dotted_date(match: re.Match[str]) -> str:
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    return _words(_day_of_month(day, month, year))


def _read_day_month(match: re.Match[str]) -> str:
    the, day, month = match.group(1) or "the", int(match.group(2)), match.group(3).rstrip(".")
    if not 1 <= day <= 31:
        return match.group(0)
    month = abbreviations.MONTH_ABBREVIATIONS.get(month, month)
    return _words(f"{the} {_ordinal_digits(day)} of {month}")


def _read_month_abbreviation_date(match: re.Match[str]) -> str:
    month, number = abbreviations.MONTH_ABBREVIATIONS[match.group(1)], match.group(2)
    if len(number) == 4:
        return _words(f"{month} {number}")
    if not 1 <= int(number) <= 31:
        return match.group(0)
    # The day as NeMo says it after an abbreviated month: "Jan. 5" -> "january fifth".
    return _words(f"{month} {_ordinal_digits(int(number))}")


_WEEKDAYS = _alternation(abbreviations.WEEKDAY_ABBREVIATIONS)
_WEEKDAY_RANGE = re.compile(rf"\b({_WEEKDAYS})\.?\s?-\s?({_WEEKDAYS})\b\.?")  # "Mon-Fri"


def _read_weekday_range(match: re.Match[str]) -> str:
    first, last = (abbreviations.WEEKDAY_ABBREVIATIONS[day] for day in match.group(1, 2))
    return _words(f"{first} to {last}") + (
        "." if match.group(0).endswith(".") and _ends_sentence(match) else ""
    )


_MERIDIEM = r"(?P<meridiem>[AaPp]\.?\s?[Mm]\b\.?)"
_TIME = re.compile(rf"(?<![\w:.,])(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?(?![\d:])(?:\s?{_MERIDIEM})?")
_HOUR = re.compile(rf"(?<![\w:.,])(\d{{1,2}})\s?{_MERIDIEM}")
# Digits either side of a colon that are no time: a ratio or a score, "16:9" -> "16 to 9".
_RATIO = re.compile(r"(?<![\w:.,])(\d+):(\d+)(?![\d:])")


def _meridiem(match: re.Match[str]) -> str:
    """The meridiem as letters, " p m" for "pm", "p.m.", "PM"; a period that also ends a sentence is kept."""
    written = match.group("meridiem")
    if not written:
        return ""
    full_stop = "." if written.endswith(".") and _ends_sentence(match) else ""
    return f" {written[0].lower()} m{full_stop}"


def _read_time(match: re.Match[str]) -> str:
    hour, minute, second = int(match.group(1)), int(match.group(2)), match.group(3)
    if hour > 24 or minute > 59 or (second and int(second) > 59):
        return match.group(0)
    meridiem = _meridiem(match)
    if second is not None:  # "10:30:15" as NeMo reads it: a duration
        hours = "hour" if hour == 1 else "hours"
        minutes = "minute" if minute == 1 else "minutes"
        said = f"{hour} {hours} {minute} {minutes} and {int(second)} seconds"
    elif minute == 0:
        said = str(hour) if meridiem else f"{hour} o'clock" if hour <= 12 else f"{hour} hundred"
    elif minute < 10:
        said = f"{hour} oh {minute}"  # "oh", as the reference says "1905" "nineteen oh five"
    else:
        said = f"{hour} {minute}"
    return _words(said + meridiem)


def _read_hour(match: re.Match[str]) -> str:
    hour = int(match.group(1))
    if not 1 <= hour <= 12:
        return match.group(0)
    return _words(f"{hour}{_meridiem(match)}")


# --- Ranges, money, percentages, degrees, units --------------------------------------------------------

_CURRENCY_RANGE = re.compile(rf"([$£€¥₹])({_NUMBER})-({_NUMBER})(?![\d-])")
# "1990-1995", "10-20", "3-2": hyphens between numbers are "to".
_NUMBER_RANGE = re.compile(rf"(?<![\w.,-])({_NUMBER})-({_NUMBER})(?![\d-]|[.,]\d)")

_CURRENCY_NAMES = {
    "$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "sen", "sen"),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}  # fmt: skip
_SCALES = {
    "thousand": "thousand", "k": "thousand", "K": "thousand", "million": "million", "m": "million",
    "M": "million", "mn": "million", "billion": "billion", "b": "billion", "B": "billion",
    "bn": "billion", "trillion": "trillion", "tn": "trillion",
}  # fmt: skip
# "$3.99/gal" -> "$3.99 per gallon", before the slash can be read as a fraction.
_PRICE_PER = re.compile(rf"([$£€¥₹]{_NUMBER})/({_alternation(units.PRICE_PER)})\b")
_SPACED_CURRENCY = re.compile(r"(?<=[$£])\s+(?=\d)")  # "$ 5": the reference reads "$5" only
# "$5 million" is "five million dollars", not the reference's "five dollars million".
_SCALED_AMOUNT = re.compile(rf"([$£€¥₹])\s?({_NUMBER})\s?({_alternation(_SCALES)})\b")
# "$" and "£" amounts are the reference's own; these are the other currencies.
_AMOUNT = re.compile(rf"([€¥₹])\s?({_NUMBER})(?![\d.])|(?<![\w.])({_NUMBER})\s?([€¥₹¢])")


def _read_scaled_amount(match: re.Match[str]) -> str:
    units = _CURRENCY_NAMES[match.group(1)][1]
    return _words(f"{match.group(2)} {_SCALES[match.group(3)]} {units}")


# A number written with a thousands separator is a count, never a year; but the reference's number
# pass drops the comma and reads 1001 to 2999 as years: "1,234" -> "twelve thirty-four". These are
# written "1 thousand 234", which it reads "one thousand two hundred thirty-four". Whole hundreds keep
# the reference's reading ("1,200" -> "twelve hundred"): the corpora were recorded with it.
_YEARLIKE_THOUSANDS = re.compile(r"[12],(?!\d00)\d{3}")  # "1,001" to "2,999", not "1,200"
# After the ranges, amounts and units, which keep the separator ("$1,250 million" -> "1,250 million
# dollars", "1,250 km" -> "1,250 kilometers"); "$" and "£" amounts are the reference's and come here
# whole. An ordinal ("1,234th") stays the reference's.
_GROUPED_NUMBER = re.compile(
    rf"(?<![\w.,$£€¥₹])([$£])?({_YEARLIKE_THOUSANDS.pattern}(?:\.\d+)?)(?!\w|[.,]\d)"
)


def _cardinal_thousands(number: str) -> str:
    """ "1,234" -> "1 thousand 234", "1,234.5" -> "1 thousand 234.5"; any other number without commas."""
    whole, point, fraction = number.partition(".")
    if _YEARLIKE_THOUSANDS.fullmatch(whole):
        whole = f"{whole[0]} thousand {int(whole[2:])}"
    return whole.replace(",", "") + point + fraction


def _spell_amount(amount: str, names: tuple[str, str, str, str]) -> str:
    """spell_amount of an amount as written: "1,250.50" dollars -> "1 thousand 250 dollars, 50 cents"."""
    said = spell_amount(amount.replace(",", ""), names)
    whole = amount.partition(".")[0]
    if _YEARLIKE_THOUSANDS.fullmatch(whole):  # then spell_amount's words start with its digits
        said = _cardinal_thousands(whole) + said.removeprefix(whole.replace(",", ""))
    return said


def _read_amount(match: re.Match[str]) -> str:
    symbol = match.group(1) or match.group(4)
    amount = match.group(2) or match.group(3)
    if symbol == "¢":
        return _words(f"{_cardinal_thousands(amount)} {'cent' if amount == '1' else 'cents'}")
    return _words(_spell_amount(amount, _CURRENCY_NAMES[symbol]))


def _read_grouped_number(match: re.Match[str]) -> str:
    symbol, number = match.group(1, 2)
    if symbol:
        return _words(_spell_amount(number, _CURRENCY_NAMES[symbol]))
    return _words(_cardinal_thousands(number))


_PERCENT = re.compile(rf"({_NUMBER})\s?%")
_DEGREES = re.compile(rf"(-?{_NUMBER})\s?[°º]\s?([CFK](?![A-Za-z]))?")
_SCALE_NAMES = {"C": "Celsius", "F": "Fahrenheit", "K": "kelvin"}
_FEET_AND_INCHES = re.compile(r"(?<![\w.])(\d+)'\s?(\d+)(?:''|\")")


def _read_degrees(match: re.Match[str]) -> str:
    number, scale = match.group(1), match.group(2)
    said = f"{number} {'degree' if number in ('1', '-1') else 'degrees'}"
    return _words(f"{said} {_SCALE_NAMES[scale]}" if scale else said)


def _read_feet_and_inches(match: re.Match[str]) -> str:
    feet, inches = match.group(1), match.group(2)
    return _words(
        f"{feet} {'foot' if feet == '1' else 'feet'} {inches} {'inch' if inches == '1' else 'inches'}"
    )


_PER = _alternation({**units.UNITS, **units.ATTACHED_ONLY, **units.PER_ONLY})
_UNIT = re.compile(
    rf"(?<![\w.])({_NUMBER})"
    rf"(?:\s?(sq\.?\s?)?({_alternation(units.UNITS)})|({_alternation(units.ATTACHED_ONLY)}))"
    rf"(?:/({_PER}))?([23²³])?(\.?)(?![\w/])"
)


def _read_unit(match: re.Match[str]) -> str:
    number, square, per, power, period = match.group(1, 2, 5, 6, 7)
    symbol = match.group(3) or match.group(4)
    words = units.unit_words(symbol, per, "2" if square else power, singular=number == "1")
    # "6 ft. tall": the period belongs to the unit, unless it also ends the sentence.
    if period and (symbol not in units.WRITTEN_WITH_PERIOD or _ends_sentence(match)):
        return _words(f"{number} {words}") + "."
    return _words(f"{number} {words}")


# --- Fractions, Roman numerals, number forms ---------------------------------------------------------

# Said as two numbers, not as fractions ("twenty-four sevenths").
_FRACTION_IDIOMS = {"24/7": "24 7", "50/50": "50 50", "9/11": "9 11"}
_FRACTION_IDIOM = re.compile(rf"(?<![\w/.])({_alternation(_FRACTION_IDIOMS)})(?![\w/]|\.\d)")
_MIXED_FRACTION = re.compile(r"(?<![\w/.,])(\d+)\s+(\d+)/(\d+)(?![\w/]|\.\d)")
_FRACTION = re.compile(r"(?<![\w/.,])(\d+)/(\d+)(?![\w/]|\.\d)")


def _fraction(numerator: int, denominator: int, article: bool = False) -> str:
    """3, 4 -> "3 quarters", 1, 2 -> "1 half" (or "a half" after a whole number), 5, 8 -> "5 eighths"."""
    if denominator < 2:
        return f"{numerator} over {denominator}"
    if denominator in (2, 4):
        name = {2: ("half", "halves"), 4: ("quarter", "quarters")}[denominator][numerator != 1]
    else:
        name = normalize_numbers(f"{denominator}th") + ("" if numerator == 1 else "s")
    return f"{'a' if article and numerator == 1 else numerator} {name}"


def _read_mixed_fraction(match: re.Match[str]) -> str:
    whole, numerator, denominator = (int(group) for group in match.group(1, 2, 3))
    if not 0 < numerator < denominator:
        return match.group(0)
    return _words(f"{whole} and {_fraction(numerator, denominator, article=True)}")


def _read_fraction(match: re.Match[str]) -> str:
    return _words(_fraction(int(match.group(1)), int(match.group(2))))


# A numeral: several letters, or one that is rarely a letter of the alphabet in running text.
_ROMAN = r"(?:[IVXLCDM]{2,}|[IVX])"
_NOT_A_WORD_PART = r"\b(?!['-]\w)"
_ROMAN_AFTER_KEYWORD = re.compile(
    rf"\b((?i:{'|'.join(KEYWORDS)}))(\.?)\s+({_ROMAN}|[ivx]{{2,}}){_NOT_A_WORD_PART}"
)
_ROMAN_AFTER_REGNAL_NAME = re.compile(rf"\b({'|'.join(REGNAL_NAMES)})\s+({_ROMAN}){_NOT_A_WORD_PART}")
# After any other name, numerals of I, V and X only ("Apollo XI", "Rocky II") are cardinals; "DC",
# "MD", "CD" after a name are more often initials.
_ROMAN_AFTER_NAME = re.compile(rf"\b([A-Z][a-z]+)\s+([IVX]{{2,}}){_NOT_A_WORD_PART}")


def _read_roman_after_keyword(match: re.Match[str]) -> str:
    keyword, period, numeral = match.group(1, 2, 3)
    value = roman_to_int(numeral)
    # "the part I remember" keeps its pronoun: a lone "I" counts only after a capitalised keyword.
    if value is None or (numeral == "I" and keyword.islower()):
        return match.group(0)
    return f"{keyword}{period} {value}"


def _read_regnal_numeral(match: re.Match[str]) -> str:
    name, numeral = match.group(1, 2)
    value = roman_to_int(numeral)
    # "Henry I." or "Henry I of England", but not "when John I went".
    rest = match.string[match.end() :]
    if value is None or (numeral == "I" and not re.match(r"\s*(?:$|[,.;:!?)]|of\b)", rest)):
        return match.group(0)
    return f"{name} the {_ordinal_digits(value)}"


def _read_roman_after_name(match: re.Match[str]) -> str:
    value = roman_to_int(match.group(2))
    if value is None or match.group(1) in NOT_NAMES:
        return match.group(0)
    return f"{match.group(1)} {value}"


_SHORT_YEAR = re.compile(r"(?<![\w'])'(\d{2})\b(?!')")  # "in '93" -> "in 93"
_LEADING_ZEROS = re.compile(r"(?<![\w.,:$£€¥-])0\d+(?!\w|[.,:]\d)")  # "007", "02134": digit by digit
_DECADE = re.compile(r"(?<![\w.,])'?(\d{0,2}[1-9]0|[1-9]\d{2}0|\d00)s\b")
_IP_ADDRESS = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)")
# "3.10.2", and a release series "2.2.x"
_VERSION = re.compile(r"(?<![\w.])\d+(?:(?:\.\d+){2,}|(?:\.\d+)+\.x)(?!\w|\.\d)")
_DIMENSIONS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:x|×)(?=\d)")  # "4x4", "1920x1080": "by"
_TIMES = re.compile(r"(?<=\d)\s(?:x|×)\s(?=\d)")
_NEGATIVE = re.compile(r"(?<![\w.,)\]-])-(?=[$£€¥]?\.?\d)")
_BARE_DECIMAL = re.compile(r"(?<![\w.,$£€¥])\.(?=\d)")  # ".5" -> "point 5"
# Letters and digits in one word: "H2O", "MP3", "3D". Ordinals ("21st") and plurals ("1990s") are
# the reference's.
_LETTERS_AND_DIGITS = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d]+\b")
_ORDINAL_OR_PLURAL = re.compile(r"\d+(?:st|nd|rd|th|s)", re.IGNORECASE)


def _read_decade(match: re.Match[str]) -> str:
    # "1990s" -> "nineteen nineties", "'80s" -> "eighties" (the reference says "nineteen ninetys").
    *words, last = normalize_numbers(match.group(1)).split()
    plural = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return _words(" ".join([*words, plural]))


def _read_ip_address(match: re.Match[str]) -> str:
    return _words(" dot ".join(" ".join(group) for group in match.group(0).split(".")))


def _read_letters_and_digits(match: re.Match[str]) -> str:
    word = match.group(0)
    if _ORDINAL_OR_PLURAL.fullmatch(word):
        return word
    # Up to three capitals are letters ("CO2", "MP3"); longer runs go to the acronym pass.
    pieces = re.findall(r"[A-Za-z]+|\d+", word)
    return _words(
        " ".join(acronyms.spell(piece) if piece.isupper() and len(piece) <= 3 else piece for piece in pieces)
    )


# --- Symbols ---------------------------------------------------------------------------------------------

_SYMBOL_WORDS = {
    "&": "and", "+": "plus", "=": "equals", "@": "at", "%": "percent", "/": "slash", "#": "hash",
    "±": "plus or minus", "×": "times", "÷": "divided by", "§": "section", "©": "copyright",
    "°": "degrees", "‰": "per mille", "$": "dollars", "£": "pounds", "€": "euros", "¥": "yen",
    "¢": "cents", "₹": "rupees",
}  # fmt: skip
_UNSAID = "®™"  # trademark signs are not read aloud
# "$5" and "£5" are left to the reference's currency pass; a "$" with no amount is said here.
_said_here = "".join(symbol for symbol in "".join(_SYMBOL_WORDS) + _UNSAID + _KEPT if symbol not in "$£")
_symbol_re = re.compile(f"[{re.escape(_said_here)}]|[$£](?!\\.?\\d)")


def _read_symbol(match: re.Match[str]) -> str:
    symbol = match.group(0)
    if symbol in _SYMBOL_WORDS:
        return _words(_SYMBOL_WORDS[symbol])
    return "" if symbol in _UNSAID else unidecode(symbol)


# --- Abbreviations and acronyms ------------------------------------------------------------------------


def _forms(table: dict[str, str]) -> dict[str, str]:
    return {form: words for key, words in table.items() for form in abbreviations.written_forms(key)}


_BEFORE_A_WORD = _forms(abbreviations.BEFORE_A_WORD)
_MAY_END_A_SENTENCE = {
    **_forms(abbreviations.MAY_END_A_SENTENCE),
    **_forms(abbreviations.MONTH_ABBREVIATIONS),
    **_forms(
        {
            day: name
            for day, name in abbreviations.WEEKDAY_ABBREVIATIONS.items()
            if day not in abbreviations.AMBIGUOUS_WEEKDAYS
        }
    ),
}
_KNOWN_ABBREVIATIONS = {
    *abbreviations.REFERENCE, *abbreviations.BEFORE_A_NUMBER,
    *(form.lower() for form in _BEFORE_A_WORD), *(form.lower() for form in _MAY_END_A_SENTENCE),
}  # fmt: skip
_DATE_ABBREVIATIONS = {**abbreviations.MONTH_ABBREVIATIONS, **abbreviations.WEEKDAY_ABBREVIATIONS}
_ABBREVIATION = re.compile(rf"(?<![\w.])({_alternation({**_BEFORE_A_WORD, **_MAY_END_A_SENTENCE})})\.(?!\w)")
# "Smith vs Jones", and "Roe v. Wade" between two capitalised names ("vs." is in the tables).
_VERSUS = re.compile(r"\b[Vv][Ss]\b(?!\.)")
_VERSUS_INITIAL = re.compile(r"\b([A-Z][A-Za-z]*) v\. (?=[A-Z])")
_BEFORE_A_NUMBER = re.compile(rf"\b((?i:{_alternation(abbreviations.BEFORE_A_NUMBER)}))\.\s?(?=\d)")
_AMBIGUOUS_WEEKDAY = re.compile(
    rf"\b({'|'.join(abbreviations.AMBIGUOUS_WEEKDAYS)})\."
    rf"(?=,?\s+(?:the\s+)?(?:{_MONTH_NAMES}|{_MONTH_ABBREVIATIONS}|\d))"
)
# "Main St." is a street, "St. Paul" a saint (the reference's reading, left to it).
_STREET = re.compile(r"\b([A-Z][a-z]+|\d+(?:st|nd|rd|th))\s+St\.(?!\s+[A-Z\d])")
# Words joined by dots, as in file and group names: "comp.os.linux", "time.c".
_DOTTED_WORDS = re.compile(r"\b([A-Za-z][A-Za-z\d]*)((?:\.[a-z][A-Za-z\d]*)+)\b")
_INITIALS = re.compile(r"(?<![\w.])(?:[A-Za-z]\.){2,}(?!\w)")  # "U.S.", "F.B.I."
_CAPITALS = re.compile(r"(?<![\w'])([A-Z]{2,})('?s)?(?![\w']|\.\w)")  # "FBI", "CDs", "CD's"


def _read_abbreviation(match: re.Match[str]) -> str:
    written = match.group(1)
    if written in _BEFORE_A_WORD:
        return _words(_BEFORE_A_WORD[written])
    # A month or a weekday is followed by a capital that seldom starts a sentence: "Tues. Feb. 3".
    ends = _ends_text(match) if written.capitalize() in _DATE_ABBREVIATIONS else _ends_sentence(match)
    return _words(_MAY_END_A_SENTENCE[written]) + ("." if ends else "")


def _read_street(match: re.Match[str]) -> str:
    return f"{match.group(1)} {_words('Street')}" + ("." if _ends_text(match) else "")


def _read_dotted_words(match: re.Match[str]) -> str:
    if match.group(1).lower() in _KNOWN_ABBREVIATIONS:  # "Mr.smith" is the reference's "mister smith"
        return match.group(0)
    return _words(" dot ".join(match.group(0).split(".")))


def _read_initials(match: re.Match[str]) -> str:
    # The last period is kept only where nothing follows, since "U.S. Army" is one phrase.
    letters = acronyms.spell(match.group(0).replace(".", ""))
    return _words(letters) + ("." if _ends_text(match) else "")


def _read_capitals(match: re.Match[str]) -> str:
    word, plural = match.group(1), match.group(2)
    text = match.string
    if text.startswith(".", match.end()) and word.lower() in abbreviations.REFERENCE:
        return match.group(0)  # "DR." is the reference's "doctor"
    in_capitals_only = acronyms.said_as_letters(word)
    # "us" is a word, but "the US" the country.
    if not in_capitals_only and not (
        word == "US" and re.search(r"\bthe\s+$", text[: match.start()], re.IGNORECASE)
    ):
        return match.group(0)
    return _words(acronyms.spell(word) + ("'s" if plural else ""))


Replacement = str | Callable[[re.Match[str]], str]

# In order: addresses first, since they hold dots, digits and symbols that later passes would read
# one by one; dates and times before ranges and ratios; units before letters-and-digits ("5km").
_PASSES: list[tuple[re.Pattern[str], Replacement]] = [
    (_EMAIL, _read_address),
    (_URL, _read_address),
    (_PHONE, _read_phone),
    (_ISO_DATE, _read_iso_date),
    (_SLASHED_DATE, _read_slashed_date),
    (_MONTH_YEAR, _read_month_year),
    (_DOTTED_DATE, _read_dotted_date),
    (_DAY_MONTH, _read_day_month),
    (_MONTH_ABBREVIATION_DATE, _read_month_abbreviation_date),
    (_WEEKDAY_RANGE, _read_weekday_range),
    (_TIME, _read_time),
    (_HOUR, _read_hour),
    (re.compile(r"(?<=\b[ap] m)\s?-\s?(?=\d)"), _words("to")),  # "8am-5pm"
    (_RATIO, r"\1" + _words("to") + r"\2"),
    (_PRICE_PER, lambda match: f"{match.group(1)}{_words('per ' + units.PRICE_PER[match.group(2)])}"),
    (_SPACED_CURRENCY, ""),
    (_CURRENCY_RANGE, r"\1\2 to \1\3"),
    (_NUMBER_RANGE, r"\1 to \2"),
    (_SCALED_AMOUNT, _read_scaled_amount),
    (_AMOUNT, _read_amount),
    (_PERCENT, r"\1" + _words("percent")),
    (_DEGREES, _read_degrees),
    (_FEET_AND_INCHES, _read_feet_and_inches),
    (_UNIT, _read_unit),
    (_GROUPED_NUMBER, _read_grouped_number),
    (_FRACTION_IDIOM, lambda match: _FRACTION_IDIOMS[match.group(1)]),
    (_MIXED_FRACTION, _read_mixed_fraction),
    (_FRACTION, _read_fraction),
    (re.compile(r"\bWW(II|I)\b"), r"World War \1"),
    (_ROMAN_AFTER_KEYWORD, _read_roman_after_keyword),
    (_ROMAN_AFTER_REGNAL_NAME, _read_regnal_numeral),
    (_ROMAN_AFTER_NAME, _read_roman_after_name),
    (_BEFORE_A_NUMBER, lambda match: _words(abbreviations.BEFORE_A_NUMBER[match.group(1).lower()])),
    (_SHORT_YEAR, r"\1"),
    (_LEADING_ZEROS, lambda match: _words(" ".join(match.group(0)))),
    (_DECADE, _read_decade),
    (_IP_ADDRESS, _read_ip_address),
    (_VERSION, lambda match: _words(" point ".join(match.group(0).split(".")))),
    (_DIMENSIONS, r"\1" + _words("by")),
    (_TIMES, _words("times")),
    (_NEGATIVE, _words("minus")),
    (_BARE_DECIMAL, _words("point")),
    (re.compile("²"), _words("squared")),
    (re.compile("³"), _words("cubed")),
    (_LETTERS_AND_DIGITS, _read_letters_and_digits),
    (re.compile(r"#(?=\d)|#(?=\s+of\b)"), _words("number")),  # "#1", "# of items"
    (re.compile(r"#(?=[A-Za-z])"), _words("hashtag")),
    (re.compile(r"(?<=\b[A-Ga-g])#"), _words("sharp")),  # "C#", "F#"
    (
        re.compile(r"\b([A-Z]{1,3})&([A-Z]{1,3})\b"),
        lambda m: _words(f"{acronyms.spell(m[1])} and {acronyms.spell(m[2])}"),
    ),
    (re.compile(r"<="), _words("less than or equal to")),
    (re.compile(r">="), _words("greater than or equal to")),
    (re.compile(r"(?<=[\d\s])<(?=\s?\d)"), _words("less than")),
    (re.compile(r"(?<=[\d\s])>(?=\s?\d)"), _words("greater than")),
    (re.compile(r"~(?=\s?\d)"), _words("approximately")),
    (re.compile(r"(?<=\d)\s?\*\s?(?=\d)"), _words("times")),
    (re.compile(r"(?<=\d)\s?\^\s?(?=\d)"), _words("to the power of")),
    (re.compile(r"\band/or\b"), "and or"),
    (re.compile(r"\b[Ww]/[Oo]\b"), "without"),
    (re.compile(r"\b[Cc]/[Oo]\b"), "care of"),
    (re.compile(r"\b[Ww]/(?=\s)"), "with"),
    (re.compile(r"(?<=[A-Za-z\d])_(?=[A-Za-z\d])"), _words("underscore")),
    (_symbol_re, _read_symbol),
    (_STREET, _read_street),
    (_AMBIGUOUS_WEEKDAY, lambda match: _words(abbreviations.WEEKDAY_ABBREVIATIONS[match.group(1)])),
    (_ABBREVIATION, _read_abbreviation),
    (_VERSUS, _words("versus")),
    (_VERSUS_INITIAL, r"\1" + _words("versus")),
    (_INITIALS, _read_initials),
    (_DOTTED_WORDS, _read_dotted_words),
    (_CAPITALS, _read_capitals),
]


def _resolve_soft_spaces(text: str) -> str:
    return _soft_re.sub(" ", _soft_at_edges_re.sub("", text))


def expand_written_forms(text: str) -> str:
    """Transliterate `text` and write out in words what the reference cleaners would drop or garble.

    Case is kept (the reference cleaners lowercase afterwards), and so are the digits the reference
    reads right: "Jan. 5th, 2021" -> "January 5th, 2021", "Chapter IV" -> "Chapter 4".
    """
    text = transliterate(text)
    for pattern, replacement in _PASSES:
        text = pattern.sub(replacement, text)
        if _SOFT in text:
            text = _resolve_soft_spaces(text)
    return text
