"""Roman numerals, read only where the words around them make them numbers.

"Chapter IV" and "World War II" are cardinals ("chapter four"), a ruler's "Henry VIII" is an ordinal
("Henry the eighth"); "DC", "MD" or "CD" alone stay letters.
"""

import re

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
# The standard subtractive forms only (so "IIII", "VX" or "IC" are not numerals), 1 to 3999.
_WELL_FORMED = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")

# Words after which a numeral counts: "Chapter IV" -> "chapter four".
KEYWORDS = [
    "Chapter", "Part", "Book", "Volume", "Act", "Scene", "Section", "Article", "Title", "Phase",
    "Stage", "Level", "Class", "Type", "Round", "Appendix", "Psalm", "Canto", "Episode", "Season",
    "Bowl", "War", "Grade", "Category", "Division", "Unit", "Lesson", "Plate", "Figure", "Table",
    "Amendment", "Number", "Mark", "Vol", "Chap",
]  # fmt: skip

# Rulers and popes, whose numeral is an ordinal: "Elizabeth II" -> "Elizabeth the second".
REGNAL_NAMES = [
    "Alexander", "Alfonso", "Amenhotep", "Anne", "Benedict", "Boniface", "Carlos", "Catherine",
    "Charles", "Christian", "Clement", "Constantine", "David", "Edmund", "Edward", "Elizabeth",
    "Ferdinand", "Francis", "Frederick", "George", "Gregory", "Gustav", "Gustavus", "Harold",
    "Henry", "Innocent", "Isabella", "Ivan", "James", "John", "Juan", "Julius", "Justinian", "Leo",
    "Leopold", "Louis", "Ludwig", "Malcolm", "Mary", "Napoleon", "Nicholas", "Otto", "Paul", "Peter",
    "Philip", "Pius", "Ptolemy", "Ramesses", "Richard", "Robert", "Rudolf", "Sixtus", "Stephen",
    "Urban", "Victor", "Wilhelm", "William",
]  # fmt: skip

# Capitalised words that are no name: "The IV drip" keeps its letters.
NOT_NAMES = {
    "A", "An", "The", "In", "On", "At", "Of", "And", "Or", "To", "For", "With", "By", "From", "As",
    "If", "But", "So", "Is", "It", "He", "She", "We", "They", "You", "This", "That", "My", "His",
    "Her", "Our", "Your", "Their", "Its", "No", "Not", "All", "Any", "Each", "When", "Then",
}  # fmt: skip


def roman_to_int(numeral: str) -> int | None:
    """The value of a Roman numeral in either case, "XIV" -> 14; None if it is not well formed."""
    numeral = numeral.upper()
    if not numeral or not _WELL_FORMED.fullmatch(numeral):
        return None
    values = [_VALUES[letter] for letter in numeral]
    # A letter smaller than the next one is subtracted: "IX" = -1 + 10.
    return sum(
        -value if value < after else value for value, after in zip(values, values[1:] + [0], strict=True)
    )
