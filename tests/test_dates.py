"""Guest-house dates as villagers say them."""
from datetime import date

import pytest

from panchayat.dates import Stay, parse_stay

TODAY = date(2026, 11, 28)  # a Saturday


@pytest.mark.parametrize("text, stay", [
    ("kal", Stay(date(2026, 11, 29))),
    ("কাল একটা ঘর চাই", Stay(date(2026, 11, 29))),
    ("porshu", Stay(date(2026, 11, 30))),
    ("aaj rate", Stay(TODAY)),
    ("next saturday", Stay(date(2026, 12, 5))),
    ("shukrobar theke", Stay(date(2026, 12, 4))),
    ("আগামী শুক্রবার", Stay(date(2026, 12, 4))),
    ("১৫ ডিসেম্বর", Stay(date(2026, 12, 15))),
    ("15 december", Stay(date(2026, 12, 15))),
    ("december 15", Stay(date(2026, 12, 15))),
    ("15/12", Stay(date(2026, 12, 15))),
    ("15/12/2026", Stay(date(2026, 12, 15))),
    ("10/01", Stay(date(2027, 1, 10))),  # January has passed this year: next January
    ("15 theke 17 december", Stay(date(2026, 12, 15), date(2026, 12, 17))),
    ("১৫ থেকে ১৭ ডিসেম্বর", Stay(date(2026, 12, 15), date(2026, 12, 17))),
    ("15-17 dec", Stay(date(2026, 12, 15), date(2026, 12, 17))),
    ("15/12 to 17/12", Stay(date(2026, 12, 15), date(2026, 12, 17))),
    ("kal theke 2 din", Stay(date(2026, 11, 29), nights=2)),
    ("১৫ ডিসেম্বর ৩ রাত", Stay(date(2026, 12, 15), nights=3)),
])
def test_stays(text, stay):
    assert parse_stay(text, TODAY) == stay


@pytest.mark.parametrize("text", ["room chai", "31/02", "17 theke 15 december", "hello"])
def test_no_stay_or_an_impossible_one(text):
    assert parse_stay(text, TODAY) is None
