"""The 148 input symbols, in the reference order so that published checkpoints map text the same way.

Adapted from https://github.com/keithito/tacotron (MIT licence). The order is part of the checkpoint
format: index i is row i of the embedding. Never reorder; a test pins count and order.
"""

_pad = "_"
_special = "-"
_punctuation = "!'(),.:;? "
_letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# CMUdict's valid phones (vowels with stress 0/1/2), in its own order.
_vowels = ["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"]
_consonants_after = {
    "AY": ["B", "CH", "D", "DH"],
    "EY": ["F", "G", "HH"],
    "IY": ["JH", "K", "L", "M", "N", "NG"],
    "OY": ["P", "R", "S", "SH", "T", "TH"],
    "UW": ["V", "W", "Y", "Z", "ZH"],
}
valid_arpabet: list[str] = []
for _vowel in _vowels:
    valid_arpabet += [_vowel, f"{_vowel}0", f"{_vowel}1", f"{_vowel}2"]
    valid_arpabet += _consonants_after.get(_vowel, [])

# "@" marks phones so that they never collide with letters ("@AA1" vs "A").
_arpabet = ["@" + s for s in valid_arpabet]

symbols: list[str] = [_pad] + list(_special) + list(_punctuation) + list(_letters) + _arpabet
