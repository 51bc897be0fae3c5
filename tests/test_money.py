"""Amounts as Indian pay documents write them: digit grouping and words in English and Bengali."""
import re
import unicodedata

import pytest

from panchayat.money import (
    _BN_BELOW_HUNDRED,
    amount_in_words,
    amount_in_words_bn,
    amount_in_words_en,
    format_paise,
    format_rupees,
    group_indian,
    number_in_words_bn,
    number_in_words_en,
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.mark.parametrize("paise, expected", [
    (0, "0.00"),
    (5, "0.05"),
    (99999, "999.99"),
    (100000, "1,000.00"),
    (10000000, "1,00,000.00"),
    (12345650, "1,23,456.50"),
    (123456789, "12,34,567.89"),
    (1000000000, "1,00,00,000.00"),
    (123456789012, "1,23,45,67,890.12"),
    (-12345650, "-1,23,456.50"),
    (-5, "-0.05"),
])
def test_indian_digit_grouping(paise, expected):
    assert format_paise(paise) == expected


def test_grouping_of_whole_numbers_and_bengali_digits():
    assert group_indian(1234567) == "12,34,567"
    assert group_indian(999) == "999"
    assert group_indian(-100000) == "-1,00,000"
    assert format_paise(12345650, bengali_digits=True) == "১,২৩,৪৫৬.৫০"
    assert format_rupees(2890000, "bn") == "₹ ২৮,৯০০.০০"
    assert format_rupees(2890000, "en") == "₹ 28,900.00"


@pytest.mark.parametrize("paise, expected", [
    (0, "Zero rupees only"),
    (100, "One rupee only"),
    (1, "One paisa only"),
    (50, "Fifty paise only"),
    (101, "One rupee and one paisa only"),
    (2100, "Twenty-one rupees only"),
    (10000000, "One lakh rupees only"),
    (12345650, "One lakh twenty-three thousand four hundred fifty-six rupees and fifty paise only"),
    (1000000000, "One crore rupees only"),
    (100000000000, "One hundred crore rupees only"),
    (9870654321, "Nine crore eighty-seven lakh six thousand five hundred forty-three rupees and twenty-one paise only"),
    (-12345650, "Minus one lakh twenty-three thousand four hundred fifty-six rupees and fifty paise only"),
])
def test_amount_in_english_words(paise, expected):
    assert amount_in_words_en(paise) == expected
    assert amount_in_words(paise, "en") == expected


@pytest.mark.parametrize("paise, expected", [
    (0, "শূন্য টাকা মাত্র"),
    (50, "পঞ্চাশ পয়সা মাত্র"),
    (10000000, "এক লক্ষ টাকা মাত্র"),
    (12345650, "এক লক্ষ তেইশ হাজার চারশো ছাপ্পান্ন টাকা পঞ্চাশ পয়সা মাত্র"),
    (1000000000, "এক কোটি টাকা মাত্র"),
    (3326625, "তেত্রিশ হাজার দুশো ছেষট্টি টাকা পঁচিশ পয়সা মাত্র"),
    (60500, "ছশো পাঁচ টাকা মাত্র"),
    (90000, "নশো টাকা মাত্র"),
    (7899999999, "সাত কোটি ঊননব্বই লক্ষ নিরানব্বই হাজার নশো নিরানব্বই টাকা নিরানব্বই পয়সা মাত্র"),
])
def test_amount_in_bengali_words(paise, expected):
    assert amount_in_words_bn(paise) == nfc(expected)
    assert amount_in_words(paise, "bn") == nfc(expected)


@pytest.mark.parametrize("number, expected", [
    (11, "এগারো"), (14, "চোদ্দো"), (16, "ষোলো"), (19, "উনিশ"), (20, "কুড়ি"), (25, "পঁচিশ"),
    (29, "ঊনত্রিশ"), (37, "সাঁইত্রিশ"), (42, "বিয়াল্লিশ"), (45, "পঁয়তাল্লিশ"), (46, "ছেচল্লিশ"),
    (53, "তিপ্পান্ন"), (59, "ঊনষাট"), (63, "তেষট্টি"), (68, "আটষট্টি"), (73, "তিয়াত্তর"),
    (79, "ঊনআশি"), (82, "বিরাশি"), (88, "অষ্টাশি"), (89, "ঊননব্বই"), (96, "ছিয়ানব্বই"),
    (99, "নিরানব্বই"), (100, "একশো"), (200, "দুশো"), (1000, "এক হাজার"), (100000, "এক লক্ষ"),
])
def test_irregular_bengali_numbers(number, expected):
    assert number_in_words_bn(number) == nfc(expected)


def test_the_bengali_table_has_a_distinct_bengali_word_for_every_number_below_a_hundred():
    assert len(_BN_BELOW_HUNDRED) == 100
    assert len(set(_BN_BELOW_HUNDRED)) == 100
    assert all(re.fullmatch(r"[\u0980-\u09ff]+", word) for word in _BN_BELOW_HUNDRED)
    # The tens are the words every compound builds around.
    assert [_BN_BELOW_HUNDRED[n] for n in range(10, 100, 10)] == [nfc(w) for w in (
        "দশ", "কুড়ি", "ত্রিশ", "চল্লিশ", "পঞ্চাশ", "ষাট", "সত্তর", "আশি", "নব্বই")]


def test_english_number_words_use_the_indian_system():
    assert number_in_words_en(1500000) == "fifteen lakh"
    assert number_in_words_en(100100) == "one lakh one hundred"
    assert number_in_words_en(0) == "zero"
