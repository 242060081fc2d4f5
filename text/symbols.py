"""The 148 input symbols, in the reference order so that published checkpoints map text the same way.

Adapted from https://github.com/keithito/tacotron (MIT licence). The order is part of the checkpoint
format: index i is row i of the embedding. Never reorder; a test pins count and order.
"""

_pad = "_"
_special = "-"
_punctuation = "!'(),.:;? "
_letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# CMUdict's 84 valid phones in its own order: vowels carry stress 0/1/2 or none.
valid_arpabet: list[str] = [
    "AA", "AA0", "AA1", "AA2", "AE", "AE0", "AE1", "AE2", "AH", "AH0", "AH1", "AH2",
    "AO", "AO0", "AO1", "AO2", "AW", "AW0", "AW1", "AW2", "AY", "AY0", "AY1", "AY2",
    "B", "CH", "D", "DH", "EH", "EH0", "EH1", "EH2", "ER", "ER0", "ER1", "ER2",
    "EY", "EY0", "EY1", "EY2", "F", "G", "HH", "IH", "IH0", "IH1", "IH2",
    "IY", "IY0", "IY1", "IY2", "JH", "K", "L", "M", "N", "NG",
    "OW", "OW0", "OW1", "OW2", "OY", "OY0", "OY1", "OY2", "P", "R", "S", "SH", "T", "TH",
    "UH", "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH",
]  # fmt: skip

# "@" marks phones so that they never collide with letters ("@AA1" vs "A").
_arpabet = ["@" + s for s in valid_arpabet]

symbols: list[str] = [_pad] + list(_special) + list(_punctuation) + list(_letters) + _arpabet
