"""Abbreviations and the words a reader says for them, grouped by how their period is read.

`REFERENCE` holds the reference's 18 ("Mr.", "Dr.", "St.", ...), expanded by
`text.cleaners.expand_abbreviations` exactly as before; the other tables are the ones the reference left
as written, read by `text.normalize`. Keys are written without their final period.
"""

# The reference's 18, its spellings ("misess") included.
REFERENCE = {
    "mrs": "misess", "mr": "mister", "dr": "doctor", "st": "saint", "co": "company", "jr": "junior",
    "maj": "major", "gen": "general", "drs": "doctors", "rev": "reverend", "lt": "lieutenant",
    "hon": "honorable", "sgt": "sergeant", "capt": "captain", "esq": "esquire", "ltd": "limited",
    "col": "colonel", "ft": "fort",
}  # fmt: skip

# Written before a name or a phrase, so their period never ends a sentence: "Prof. Brown",
# "e.g. apples". A capitalised key is also read in capitals, a lowercase one in any case.
BEFORE_A_WORD = {
    "Prof": "professor", "Ms": "miz", "Messrs": "messieurs", "Mme": "madame", "Gov": "governor",
    "Sen": "senator", "Rep": "representative", "Pres": "president", "Supt": "superintendent",
    "Adm": "admiral", "Cmdr": "commander", "Pvt": "private", "Cpl": "corporal", "Det": "detective",
    "Insp": "inspector", "Fr": "father", "Mt": "mount", "Mts": "mounts", "Atty": "attorney",
    "approx": "approximately", "incl": "including", "esp": "especially", "cf": "compare",
    "viz": "namely", "vs": "versus", "e.g": "for example", "i.e": "that is",
    # Said as letters, as NeMo writes them ("AKA").
    "a.k.a": "a k a",
}  # fmt: skip

# Written after what they qualify, so their period may also end the sentence, and is then kept:
# "at Acme Inc." -> "at acme incorporated.".
MAY_END_A_SENTENCE = {
    "Sr": "senior", "Inc": "incorporated", "Corp": "corporation", "Bros": "brothers",
    "Ave": "avenue", "Blvd": "boulevard", "Rd": "road", "Ln": "lane", "Hwy": "highway",
    "Pkwy": "parkway", "Sq": "square", "Bldg": "building", "Apt": "apartment", "Univ": "university",
    "Assn": "association", "Intl": "international", "Natl": "national", "Govt": "government",
    "Mfg": "manufacturing", "etc": "etcetera", "misc": "miscellaneous", "dept": "department",
    "ph.d": "p h d",
}  # fmt: skip

# Only before a number, where they cannot be the words "no", "fig", "art": "No. 5", "pp. 10".
BEFORE_A_NUMBER = {
    "no": "number", "nos": "numbers", "fig": "figure", "figs": "figures", "vol": "volume",
    "vols": "volumes", "ch": "chapter", "chap": "chapter", "sec": "section", "art": "article",
    "p": "page", "pp": "pages", "ca": "circa", "c": "circa", "ext": "extension", "tel": "telephone",
}  # fmt: skip

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
MONTH_ABBREVIATIONS = {
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June",
    "Jul": "July", "Aug": "August", "Sep": "September", "Sept": "September", "Oct": "October",
    "Nov": "November", "Dec": "December",
}  # fmt: skip

WEEKDAY_ABBREVIATIONS = {
    "Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday",
    "Thur": "Thursday", "Thurs": "Thursday", "Fri": "Friday", "Sat": "Saturday", "Sun": "Sunday",
}  # fmt: skip
# "the Sun.", "Mon." (a name) and "Wed." can be words: these are read as days only before a date.
AMBIGUOUS_WEEKDAYS = {"Mon", "Wed", "Sat", "Sun"}


def written_forms(key: str) -> list[str]:
    """How `key` may be written: "Inc" as "Inc" or "INC"; "etc" as "etc", "Etc" or "ETC"; "ph.d" as "Ph.D"."""
    forms = [key, key.upper()]
    if key.islower():
        forms.append(key[0].upper() + key[1:])
        forms.append(".".join(part.capitalize() for part in key.split(".")))  # "Ph.D", "E.G"
    return list(dict.fromkeys(forms))
