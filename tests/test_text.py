"""Identifiers typed loosely, reply-language detection, office-question topics."""
import pytest

from panchayat.identifiers import find_identifiers, parse_identifier
from panchayat.info import info_topics
from panchayat.language import detect_language


@pytest.mark.parametrize("typed, canonical", [
    ("TN-2026-000045", "TN-2026-000045"),
    ("tn/2026/45", "TN-2026-000045"),
    ("tn 2026 45", "TN-2026-000045"),
    ("TN2026000045", "TN-2026-000045"),
    ("টিএন ২০২৬ ৪৫", "TN-2026-000045"),
    ("বিপি-২০২৬-১২", "BP-2026-000012"),
    ("my booking gh_2026_7 please", "GH-2026-000007"),
    ("অভিযোগ জিআর/২০২৬/৩ এর কী হল", "GR-2026-000003"),
    ("bn.2025.999999", "BN-2025-999999"),
])
def test_loose_identifiers_resolve_to_canonical_form(typed, canonical):
    assert parse_identifier(typed) == canonical


@pytest.mark.parametrize("typed", ["", "TN-26-45", "xtn/2026/45", "2026/45", "TN-2026-1234567", "AB-2026-1"])
def test_text_without_an_identifier_gives_none(typed):
    assert parse_identifier(typed) is None


def test_identifier_offsets_point_into_the_original_text():
    text = "আমার আবেদন টিএন ২০২৬ ৪৫ এর অবস্থা"
    (start, end, value), = find_identifiers(text)
    assert text[start:end] == "টিএন ২০২৬ ৪৫" and value == "TN-2026-000045"


def test_parse_identifier_filters_by_prefix():
    assert parse_identifier("GH-2026-1 and TN-2026-2", ("TN",)) == "TN-2026-000002"


@pytest.mark.parametrize("text, language", [
    ("hello", "en"),
    ("নমস্কার", "bn"),
    ("পঞ্চায়েত অফিস কখন খোলা থাকে?", "bn"),
    ("amar trade licence er certificate ta chai", "bn"),
    ("dhonnobad", "bn"),
    ("office kokhon khola thake", "bn"),
    ("I want a trade licence", "en"),
    ("who is the pradhan?", "en"),
    ("what are the office hours of the panchayat", "en"),
    ("TN-2026-45", None),
    ("Hanskhali", None),
    ("cancel", None),  # loanwords both kinds of writer use keep the previous language
    ("trade licence", None),
    ("Bagula 1", None),
    ("ok", None),
    ("/greet", None),
    ("১২৩", "bn"),  # Bengali digits come from a Bengali keyboard
])
def test_detect_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text, topics", [
    ("পঞ্চায়েত অফিস কখন খোলা থাকে?", ["office_hours"]),
    ("what are the office hours?", ["office_hours"]),
    ("সচিবের নাম কী", ["officials"]),
    ("who is the pradhan", ["officials"]),
    ("panchayat office er phone number ta din", ["contact"]),
    ("where is the office", ["address"]),
    ("পঞ্চায়েত অফিস কোথায়?", ["address"]),
    ("panchayat er info", []),
])
def test_info_topics(text, topics):
    assert info_topics(text) == topics


@pytest.mark.parametrize("typed, yes", [
    ("haan", True), ("হ্যাঁ", True), ("ok", True), ("thik ache", True), ("Book", True), ("জমা", True),
    ("no", False), ("না", False), ("haan but change the name", False), ("", False),
])
def test_a_typed_yes(typed, yes):
    from panchayat.answers import is_yes

    assert is_yes(typed) is yes
