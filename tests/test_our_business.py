"""A request names something the panchayat does (panchayat.our_business); chatter does not.

These lines are written for this test, as villagers and as social media chatter read; none of
them is in the training data, the held-out NLU set or the out-of-domain set."""

import pytest

from panchayat import services
from panchayat.our_business import REQUEST_INTENTS, names_our_business


@pytest.mark.parametrize(
    "text, intent",
    [
        # Certificates and applications, in three registers, with endings and misspellings.
        ("amar dokaner sertifiket ta koi", "download_certificate"),
        ("আমার আবেদনগুলোর কী হলো", "check_application_status"),
        ("need a trade licence for my tea stall", "apply_service"),
        ("ami apply korte chai", "apply_service"),
        # Misspelt: the same sound and most of the letters ("complant" is "complaint").
        ("ekta complant korbo", "lodge_grievance"),
        ("কী কী কাগজপত্র লাগবে", "service_info"),
        # A service named only the way its definition says villagers call it (service_definitions).
        ("barir naksha pass korabo", "apply_service"),
        # Complaints: the word for a complaint, or what is broken.
        ("পাড়ার টিউবওয়েলটা তিন দিন ধরে খারাপ", "lodge_grievance"),
        ("amader rastar batti jolche na", "lodge_grievance"),
        ("maather paasher pukurta bhorat hoye jacche", "lodge_grievance"),
        ("স্কুলের সামনের নালাটা বুজে গেছে", "lodge_grievance"),
        ("অভিযোগটার কী খবর", "check_grievance_status"),
        # Guest houses, with a letter held down.
        ("gest house e duto rooms lagbe", "book_guest_house"),
        ("boook korun", "book_guest_house"),
        ("পরশু দুটো ঘর লাগবে", "book_guest_house"),
        ("আমার বুকিংগুলো দেখান", "check_booking"),
        # Pay documents.
        ("mainer slip ta pathan", "get_payslip"),
        ("গত বছরের বেতনের হিসাব", "get_salary_statement"),
        # The panchayat and its people.
        ("kono adhikarik er sathe jogajog koriye din", "talk_to_human"),
        ("উপপ্রধান কে", "panchayat_info"),
        # A rating needs only its number; the office's hours only a day or "open".
        ("৪ দিলাম", "rate_grievance"),
        ("char dilam", "rate_grievance"),
        ("শনিবার খোলা থাকে?", "panchayat_info"),
        ("open on sunday?", "panchayat_info"),
    ],
)
def test_a_request_names_our_business(text, intent):
    assert intent in REQUEST_INTENTS
    assert names_our_business(text, intent)


@pytest.mark.parametrize(
    "text, intent",
    [
        ("bhai khela ta dekhlam darun hoyeche", "lodge_grievance"),
        ("ei gaan ta ami onekbar shunechi", "apply_service"),
        ("মাঠে আজ অনেক ভিড় ছিল, বসার জায়গা নেই", "lodge_grievance"),
        ("vaiya video ta share kore dilam", "rate_grievance"),
        ("apnar channel er video gulo khub valo lage", "service_info"),
        ("কেউ বলবেন এই বইটা কোথায় পাওয়া যায়", "talk_to_human"),
        # Short words whose sound is shared with one of ours are not ours: "per" is no "paper",
        # "main" no "maine" (salary), "to" and "with" are no phrase.
        ("per day koto dite hoy", "service_info"),
        ("main character ta ke", "get_payslip"),
        ("talk with you later", "talk_to_human"),
        # A number makes a rating only for the rating intent; the office's words only for its own.
        ("ami 4 ta aam khelam", "apply_service"),
        ("kokhon khola thake jani na", "apply_service"),
    ],
)
def test_chatter_names_nothing_of_ours(text, intent):
    assert not names_our_business(text, intent)


def test_a_service_defined_as_data_brings_its_own_names(tmp_path, monkeypatch):
    """A new service's names and what villagers call it count with no word added in code."""
    from tests.test_new_service_is_data import WELL_PERMISSION

    assert not names_our_business("amar kuyo khudte hobe", "apply_service")
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "well_permission.yml").write_text(WELL_PERMISSION, encoding="utf-8")
    monkeypatch.setenv(services.EXTRA_DIRS_VARIABLE, str(folder))
    assert names_our_business("amar kuyo khudte hobe", "apply_service")
    assert names_our_business("কুয়োর অনুমতি চাই", "apply_service")


def test_every_menu_title_and_service_button_typed_back_names_our_business():
    """Villagers type a menu item's or a button's title instead of pressing it."""
    from panchayat import catalogue
    from panchayat.services import all_services

    titles = [
        catalogue.text(key, language)
        for key in ("menu_status", "menu_guest_house", "menu_complaint", "menu_office", "menu_pay")
        for language in ("en", "bn")
    ]
    titles += [service.button_title(language) for service in all_services().values() for language in ("en", "bn")]
    assert len(titles) >= 18
    assert [title for title in titles if not names_our_business(title, "apply_service")] == []
