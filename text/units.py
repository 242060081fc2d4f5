"""Units of measurement written after a number, and how they are said: "10 km/h", "5 m2", "16 GB".

Symbols are case-sensitive ("mB" is not "MB"). Names follow NeMo's English normalizer (American
spelling: "meters", "liters").
"""

# symbol -> (singular, plural)
UNITS: dict[str, tuple[str, str]] = {
    "nm": ("nanometer", "nanometers"), "µm": ("micrometer", "micrometers"),
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"),
    "m": ("meter", "meters"), "km": ("kilometer", "kilometers"),
    "ft": ("foot", "feet"), "yd": ("yard", "yards"), "yds": ("yard", "yards"), "mi": ("mile", "miles"),
    "µg": ("microgram", "micrograms"), "mg": ("milligram", "milligrams"), "g": ("gram", "grams"),
    "kg": ("kilogram", "kilograms"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"),
    "cl": ("centiliter", "centiliters"), "L": ("liter", "liters"), "gal": ("gallon", "gallons"),
    "ns": ("nanosecond", "nanoseconds"), "µs": ("microsecond", "microseconds"),
    "ms": ("millisecond", "milliseconds"), "sec": ("second", "seconds"), "secs": ("second", "seconds"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"), "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "mph": ("mile per hour", "miles per hour"), "MPH": ("mile per hour", "miles per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "rpm": ("revolution per minute", "revolutions per minute"),
    "psi": ("pound per square inch", "pounds per square inch"),
    "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"), "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"), "PB": ("petabyte", "petabytes"),
    "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "kW": ("kilowatt", "kilowatts"), "MW": ("megawatt", "megawatts"), "GW": ("gigawatt", "gigawatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"), "Wh": ("watt hour", "watt hours"),
    "mA": ("milliamp", "milliamps"), "mAh": ("milliamp hour", "milliamp hours"),
    "kV": ("kilovolt", "kilovolts"), "mV": ("millivolt", "millivolts"),
    "dB": ("decibel", "decibels"), "cal": ("calorie", "calories"), "kcal": ("kilocalorie", "kilocalories"),
    "px": ("pixel", "pixels"),
}  # fmt: skip

# Single letters that are too often something else after a spaced number ("100 W Main St.", "5 h"
# in a list): units only when written against the number ("100W", "12V", "24h", "2l").
ATTACHED_ONLY: dict[str, tuple[str, str]] = {
    "W": ("watt", "watts"),
    "V": ("volt", "volts"),
    "h": ("hour", "hours"),
    "l": ("liter", "liters"),
}

# Only after a slash: "m/s" is meters per second, but "5 s" alone is too often not seconds.
PER_ONLY: dict[str, tuple[str, str]] = {"s": ("second", "seconds")}

# Abbreviations also written with a period ("6 ft. tall"), which is then part of the unit.
WRITTEN_WITH_PERIOD = {
    "ft",
    "yd",
    "yds",
    "mi",
    "lb",
    "lbs",
    "oz",
    "gal",
    "sec",
    "secs",
    "min",
    "mins",
    "hr",
    "hrs",
}

# What a price is per, after a slash: "$3.99/gal", "$15/hr", "€5/kg".
PRICE_PER = {
    "h": "hour", "hr": "hour", "hour": "hour", "day": "day", "night": "night", "wk": "week",
    "week": "week", "mo": "month", "month": "month", "yr": "year", "year": "year", "person": "person",
    **{symbol: names[0] for symbol, names in UNITS.items()},
}  # fmt: skip

POWERS = {"2": "square", "²": "square", "3": "cubic", "³": "cubic"}


def unit_words(symbol: str, per: str | None, power: str | None, singular: bool) -> str:
    """The words for `symbol` (and "/`per`", and a power 2 or 3): "km", "h" -> "kilometers per hour"."""
    names = UNITS.get(symbol) or ATTACHED_ONLY[symbol]
    words = names[0] if singular else names[1]
    if power:
        words = f"{POWERS[power]} {words}"
    if per:
        words += f" per {(UNITS.get(per) or PER_ONLY.get(per) or ATTACHED_ONLY[per])[0]}"
    return words
