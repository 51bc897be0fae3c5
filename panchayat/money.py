"""Amounts of money as Indian documents write them, from paise (integers, as the books keep them).

Figures use Indian digit grouping (`1,23,456.00`: thousands, then every two digits);
words use the Indian system (thousand, lakh, crore) in English and in Bengali.
Bengali has its own irregular name for every number from 1 to 99, so those are a table.
"""

import unicodedata
from typing import List

BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")

# --- figures --------------------------------------------------------------------------


def group_indian(number: int) -> str:
    """`1234567` -> `12,34,567`: the last three digits, then groups of two."""
    digits = str(abs(int(number)))
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        pairs: List[str] = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        digits = ",".join([head] + pairs + [tail])
    return ("-" if number < 0 else "") + digits


def format_paise(paise: int, bengali_digits: bool = False) -> str:
    """`12345650` -> `1,23,456.50`; negative amounts keep their sign, zero is `0.00`."""
    rupees, rest = divmod(abs(int(paise)), 100)
    text = f"{'-' if paise < 0 else ''}{group_indian(rupees)}.{rest:02d}"
    return text.translate(BENGALI_DIGITS) if bengali_digits else text


def format_rupees(paise: int, language: str = "en") -> str:
    """`₹ 1,23,456.50`, with Bengali digits for `bn`."""
    return f"₹ {format_paise(paise, bengali_digits=language == 'bn')}"


# --- words in English -----------------------------------------------------------------

_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _indian_places(n: int):
    """123456789 -> (12, 34, 56, 7, 89): crore, lakh, thousand, hundred and the rest."""
    crore, rest = divmod(n, 10**7)
    lakh, rest = divmod(rest, 10**5)
    thousand, rest = divmod(rest, 1000)
    hundred, rest = divmod(rest, 100)
    return crore, lakh, thousand, hundred, rest


def _en_below_hundred(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    tens, ones = divmod(n, 10)
    return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")


def number_in_words_en(n: int) -> str:
    """Indian system, lower case: 12345678 -> `one crore twenty-three lakh forty-five thousand six
    hundred seventy-eight`. Above 99 crore the crores are counted in words again (`one hundred crore`)."""
    if n < 0:
        return "minus " + number_in_words_en(-n)
    if n == 0:
        return _EN_ONES[0]
    crore, lakh, thousand, hundred, rest = _indian_places(n)
    parts = []
    if crore:
        parts.append(f"{number_in_words_en(crore)} crore")
    if lakh:
        parts.append(f"{_en_below_hundred(lakh)} lakh")
    if thousand:
        parts.append(f"{_en_below_hundred(thousand)} thousand")
    if hundred:
        parts.append(f"{_EN_ONES[hundred]} hundred")
    if rest:
        parts.append(_en_below_hundred(rest))
    return " ".join(parts)


def amount_in_words_en(paise: int) -> str:
    """`One lakh twenty-three thousand four hundred fifty-six rupees and fifty paise only`."""
    sign = "minus " if paise < 0 else ""
    rupees, rest = divmod(abs(int(paise)), 100)
    rupee_words = f"{number_in_words_en(rupees)} rupee{'' if rupees == 1 else 's'}"
    paise_words = f"{number_in_words_en(rest)} {'paisa' if rest == 1 else 'paise'}"
    if rupees and rest:
        words = f"{rupee_words} and {paise_words}"
    elif rest:
        words = paise_words
    else:
        words = rupee_words
    words = f"{sign}{words} only"
    return words[0].upper() + words[1:]


# --- words in Bengali -----------------------------------------------------------------

# 0 to 99, each its own word (West Bengal usage, as on cheques and pay slips: কুড়ি for 20,
# চোদ্দো for 14, the -শো hundreds below).
_BN_BELOW_HUNDRED = tuple(
    unicodedata.normalize("NFC", word)
    for word in (
        "শূন্য",
        "এক",
        "দুই",
        "তিন",
        "চার",
        "পাঁচ",
        "ছয়",
        "সাত",
        "আট",
        "নয়",  # 0-9
        "দশ",
        "এগারো",
        "বারো",
        "তেরো",
        "চোদ্দো",
        "পনেরো",
        "ষোলো",
        "সতেরো",
        "আঠারো",
        "উনিশ",  # 10-19
        "কুড়ি",
        "একুশ",
        "বাইশ",
        "তেইশ",
        "চব্বিশ",
        "পঁচিশ",
        "ছাব্বিশ",
        "সাতাশ",
        "আঠাশ",
        "ঊনত্রিশ",  # 20-29
        "ত্রিশ",
        "একত্রিশ",
        "বত্রিশ",
        "তেত্রিশ",
        "চৌত্রিশ",
        "পঁয়ত্রিশ",
        "ছত্রিশ",
        "সাঁইত্রিশ",
        "আটত্রিশ",
        "ঊনচল্লিশ",  # 30-39
        "চল্লিশ",
        "একচল্লিশ",
        "বিয়াল্লিশ",
        "তেতাল্লিশ",
        "চুয়াল্লিশ",
        "পঁয়তাল্লিশ",
        "ছেচল্লিশ",
        "সাতচল্লিশ",
        "আটচল্লিশ",
        "ঊনপঞ্চাশ",  # 40-49
        "পঞ্চাশ",
        "একান্ন",
        "বাহান্ন",
        "তিপ্পান্ন",
        "চুয়ান্ন",
        "পঞ্চান্ন",
        "ছাপ্পান্ন",
        "সাতান্ন",
        "আটান্ন",
        "ঊনষাট",  # 50-59
        "ষাট",
        "একষট্টি",
        "বাষট্টি",
        "তেষট্টি",
        "চৌষট্টি",
        "পঁয়ষট্টি",
        "ছেষট্টি",
        "সাতষট্টি",
        "আটষট্টি",
        "ঊনসত্তর",  # 60-69
        "সত্তর",
        "একাত্তর",
        "বাহাত্তর",
        "তিয়াত্তর",
        "চুয়াত্তর",
        "পঁচাত্তর",
        "ছিয়াত্তর",
        "সাতাত্তর",
        "আটাত্তর",
        "ঊনআশি",  # 70-79
        "আশি",
        "একাশি",
        "বিরাশি",
        "তিরাশি",
        "চুরাশি",
        "পঁচাশি",
        "ছিয়াশি",
        "সাতাশি",
        "অষ্টাশি",
        "ঊননব্বই",  # 80-89
        "নব্বই",
        "একানব্বই",
        "বিরানব্বই",
        "তিরানব্বই",
        "চুরানব্বই",
        "পঁচানব্বই",
        "ছিয়ানব্বই",
        "সাতানব্বই",
        "আটানব্বই",
        "নিরানব্বই",  # 90-99
    )
)
assert len(_BN_BELOW_HUNDRED) == 100
_BN_HUNDREDS = tuple(
    unicodedata.normalize("NFC", word)
    for word in ("", "একশো", "দুশো", "তিনশো", "চারশো", "পাঁচশো", "ছশো", "সাতশো", "আটশো", "নশো")
)


def number_in_words_bn(n: int) -> str:
    """Indian system in Bengali: 123456 -> `এক লক্ষ তেইশ হাজার চারশো ছাপ্পান্ন`."""
    if n < 0:
        return "ঋণাত্মক " + number_in_words_bn(-n)
    if n < 100:
        return _BN_BELOW_HUNDRED[n]
    crore, lakh, thousand, hundred, rest = _indian_places(n)
    parts = []
    if crore:
        parts.append(f"{number_in_words_bn(crore)} কোটি")
    if lakh:
        parts.append(f"{_BN_BELOW_HUNDRED[lakh]} লক্ষ")
    if thousand:
        parts.append(f"{_BN_BELOW_HUNDRED[thousand]} হাজার")
    if hundred:
        parts.append(_BN_HUNDREDS[hundred])
    if rest:
        parts.append(_BN_BELOW_HUNDRED[rest])
    return " ".join(parts)


def amount_in_words_bn(paise: int) -> str:
    """`এক লক্ষ তেইশ হাজার চারশো ছাপ্পান্ন টাকা পঞ্চাশ পয়সা মাত্র`."""
    sign = "ঋণাত্মক " if paise < 0 else ""
    rupees, rest = divmod(abs(int(paise)), 100)
    parts = []
    if rupees or not rest:
        parts.append(f"{number_in_words_bn(rupees)} টাকা")
    if rest:
        parts.append(f"{number_in_words_bn(rest)} পয়সা")
    return unicodedata.normalize("NFC", f"{sign}{' '.join(parts)} মাত্র")


def amount_in_words(paise: int, language: str) -> str:
    return amount_in_words_bn(paise) if language == "bn" else amount_in_words_en(paise)
