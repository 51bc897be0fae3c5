"""Every user-facing text exists in Bengali and English, with the same placeholders."""
import re

import pytest

from panchayat import catalogue
from panchayat.errors import PanchayatError


@pytest.mark.parametrize("key", sorted(catalogue.entries()))
def test_catalogue_entry_has_both_languages_with_the_same_placeholders(key):
    entry = catalogue.entries()[key]
    assert set(entry) == {"bn", "en"}
    assert entry["bn"].strip() and entry["en"].strip()
    assert catalogue.placeholders(entry["bn"]) == catalogue.placeholders(entry["en"])
    # Apart from placeholders, identifiers and command examples, the Bengali text is in Bengali script.
    words = re.sub(r'\{\w+\}|[A-Z]{2}-\d{4}-\d+|"[^"]*"|\([^)]*\)', " ", entry["bn"])
    latin = re.findall(r"[A-Za-z]{3,}", words)
    assert not latin or re.search(r"[\u0980-\u09FF]", words), latin


def test_every_domain_response_has_a_bengali_and_a_default_english_variant(domain):
    for name, variations in domain["responses"].items():
        bengali = [v for v in variations if v.get("condition") == [{"type": "slot", "name": "language", "value": "bn"}]]
        plain = [v for v in variations if not v.get("condition")]
        assert bengali and plain, name
        assert all(re.search(r"[\u0980-\u09FF]", v["text"]) for v in bengali), name
        assert not any(re.search(r"[\u0980-\u09FF]", v["text"]) for v in plain), name


def test_every_error_key_raised_in_the_core_is_in_the_catalogue():
    from pathlib import Path

    source = "\n".join(p.read_text() for p in Path(catalogue.__file__).parent.glob("*.py"))
    keys = set(re.findall(r'PanchayatError\(\s*"([a-z_]+)"', source))
    assert keys, "no errors found: the pattern is wrong"
    missing = [k for k in keys if f"error_{k}" not in catalogue.entries()]
    assert not missing


def test_error_messages_fill_their_parameters_in_both_languages():
    error = PanchayatError("unknown_application", number="TN-2026-000099")
    assert "TN-2026-000099" in error.message("en")
    assert "TN-2026-000099" in error.message("bn") and "আবেদন" in error.message("bn")


def test_unknown_language_falls_back_to_english():
    assert catalogue.text("try_again", "fr") == catalogue.text("try_again", "en")


def test_digits_are_written_in_the_readers_script():
    assert catalogue.digits("2026-12-15", "bn") == "২০২৬-১২-১৫"
    assert catalogue.digits("2026-12-15", "en") == "2026-12-15"
