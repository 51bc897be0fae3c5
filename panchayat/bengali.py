"""Bengali text as phones type it: normalisation, and a phonetic key shared by both scripts.

The phonetic key reduces a word to its consonant skeleton, so that a romanised
word and its Bengali-script twin meet: `certificate` and `সার্টিফিকেট` both give
`srtfkt`, `abedon` and `আবেদন` both give `bdn`.
"""

import re
import unicodedata

BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u00ad\ufeff\u2060"), None)
# Spellings that look the same on screen but differ in code points.
_LOOKALIKES = (
    ("\u09a4\u09cd\u200d", "\u09ce"),  # ta + virama + ZWJ is the khanda ta (ৎ)
    ("\u0985\u09be", "\u0986"),  # অ + া typed for আ
    ("\u09c7\u09be", "\u09cb"),  # ে + া for ো (NFC also does this)
    ("\u09c7\u09d7", "\u09cc"),  # ে + ৗ for ৌ
    ("\u0964", " "),  # danda is sentence punctuation, not part of a word
)


def normalize(text: str) -> str:
    """NFC, look-alike spellings unified, invisible joiners removed, Bengali digits made ASCII.

    Not length-preserving: use it on tokens, whose offsets are kept separately.
    """
    text = unicodedata.normalize("NFC", text or "")
    for variant, canonical in _LOOKALIKES:
        text = text.replace(variant, canonical)
    text = text.translate(_INVISIBLE).translate(BENGALI_DIGITS)
    # NFC leaves ড়, ঢ়, য় decomposed (base + nukta); keep that one form.
    return unicodedata.normalize("NFC", text)


_BENGALI_CONSONANTS = {
    "ক": "k",
    "খ": "k",
    "গ": "g",
    "ঘ": "g",
    "ঙ": "n",
    "চ": "C",
    "ছ": "C",
    "জ": "j",
    "ঝ": "j",
    "ঞ": "n",
    "ট": "t",
    "ঠ": "t",
    "ড": "d",
    "ঢ": "d",
    "ণ": "n",
    "ত": "t",
    "থ": "t",
    "দ": "d",
    "ধ": "d",
    "ন": "n",
    "প": "p",
    "ফ": "f",
    "ব": "b",
    "ভ": "b",
    "ম": "m",
    "য": "j",
    "র": "r",
    "ল": "l",
    "শ": "s",
    "ষ": "s",
    "স": "s",
    "হ": "h",
    "ৎ": "t",
    "ং": "n",
    "ৰ": "r",
    "ৱ": "b",
}
_NUKTA = "\u09bc"
_VIRAMA = "\u09cd"

# Romanised spellings reduced in this order (longest first). "C" stands for the ch sound
# (চ, ছ), kept apart from the English hard c.
_LATIN_RULES = (
    ("chh", "C"),
    ("ch", "C"),
    ("ng", "n"),
    ("sh", "s"),
    ("kh", "k"),
    ("gh", "g"),
    ("jh", "j"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("bh", "b"),
    ("ck", "k"),
    ("ce", "se"),
    ("ci", "si"),
    ("cy", "sy"),
    ("c", "k"),
    ("q", "k"),
    ("x", "ks"),
    ("z", "j"),
    ("v", "b"),
    ("w", ""),
    ("y", ""),
)
_LATIN_VOWELS = re.compile(r"[aeiou]")


def _bengali_skeleton(word: str) -> str:
    out = []
    for index, char in enumerate(word):
        following = word[index + 1] if index + 1 < len(word) else ""
        if following == _NUKTA:
            # ড় and ঢ় sound as r; য় is a glide, like a vowel.
            out.append({"ড": "r", "ঢ": "r"}.get(char, ""))
            continue
        if char == "য" and index > 0 and word[index - 1] == _VIRAMA:
            continue  # ya-phala only lengthens the consonant before it
        out.append(_BENGALI_CONSONANTS.get(char, ""))
    return "".join(out)


def _latin_skeleton(word: str) -> str:
    word = word.lower()
    # "ch" is one sound in Banglish (chai, panchayat); handle it before the English soft c.
    for pattern, replacement in _LATIN_RULES:
        word = word.replace(pattern, replacement)
    word = _LATIN_VOWELS.sub("", word)
    return re.sub(r"[^a-zC]", "", word)


def phonetic_key(word: str) -> str:
    """The consonant skeleton of a word in either script; digits are kept as they are."""
    word = normalize(word)
    if re.search(r"[\u0980-\u09FF]", word):
        skeleton = _bengali_skeleton(unicodedata.normalize("NFD", word))
    else:
        skeleton = _latin_skeleton(word)
    digits = "".join(ch for ch in word if ch.isdigit())
    # Doubled letters are a spelling habit ("dhonnobad"), not a different word.
    return re.sub(r"(.)\1+", r"\1", skeleton) + digits
