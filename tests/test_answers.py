"""Short answers as villagers type them: numbers, yes, no, skip, "later", options, corrections,
dates of a stay, the conversation's language, and bare answers to the panchayat's questions."""
from datetime import date, timedelta

import pytest

from panchayat import answers
from panchayat.answers import (answer_intent, count_of, is_no, is_skip, is_stop, is_yes, match_option, number_in,
                               options_from)


@pytest.mark.parametrize("typed, number", [
    ("2", 2), ("২", 2), ("dui", 2), ("duto", 2), ("দুটো", 2), ("two", 2), ("একটা", 1), ("ekta", 1), ("one", 1),
    ("৩ তলা", 3), ("tinti", 3), ("2ta", 2), ("১টা", 1), ("none", None), ("", None), ("rooms", None),
])
def test_a_number_in_any_script_or_in_words(typed, number):
    assert number_in(typed) == number


@pytest.mark.parametrize("typed, yes, no", [
    ("haan", True, False), ("হ্যাঁ", True, False), ("ok go ahead", True, False), ("hya thik ache", True, False),
    ("yes book it", True, False), ("ঠিক আছে", True, False), ("no", False, True), ("না থাক", False, True),
    ("no leave it", False, True), ("na", False, True), ("haan but change the name", False, False),
    ("yes no", False, False), ("", False, False),
])
def test_yes_and_no_in_three_registers(typed, yes, no):
    assert (is_yes(typed), is_no(typed)) == (yes, no)


@pytest.mark.parametrize("typed, skip", [
    ("chobi nei", True), ("ছবি নেই", True), ("no photo", True), ("skip", True), ("বাদ দিন", True),
    ("chobi nai, skip koro", True), ("photo", False), ("রাস্তার পাশে", False),
])
def test_skipping_an_optional_step(typed, skip):
    assert is_skip(typed) is skip


@pytest.mark.parametrize("typed, stop", [
    ("থাক, এখন থাক। পরে করব", True), ("থাক, পরে জানাব", True), ("thak ekhon, pore korbo", True),
    ("stop, I will do it later", True), ("stop", True), ("not now", True),
    ("I want to stop my booking", False), ("থাকার জন্য", False), ("Maa Tara Stores", False),
])
def test_stopping_for_later(typed, stop):
    assert is_stop(typed) is stop


@pytest.mark.parametrize("typed, intent", [
    ("থাক, পরে করব", "cancel"), ("pore korbo", "cancel"), ("৫", "inform"), ("4 dilam", "inform"),
    ("dui", "inform"), ("না থাক", None), ("1 ta room", None), ("/affirm", None), ("amar trade licence chai", None),
])
def test_answers_whose_intent_needs_no_training(typed, intent):
    assert answer_intent(typed) == intent


BUILDING_USE = options_from([
    {"value": "residential", "en": "Residential", "bn": "বসবাসের জন্য", "also": ["thakar jonno", "family", "stay"]},
    {"value": "commercial", "en": "Commercial", "bn": "বাণিজ্যিক", "also": ["dokan", "shop"]},
])


@pytest.mark.parametrize("typed, value", [
    ("1", "residential"), ("২", "commercial"), ("two", "commercial"), ("Residential", "residential"),
    ("বসবাসের জন্য", "residential"), ("bosobaser jonno", "residential"), ("Comercial", "commercial"),
    ("thakar jonno", "residential"), ("for my family to stay", "residential"), ("amar dokan er jonno", "commercial"),
    ("3", None), ("anything", None), ("dokan o thakar jonno", None),
])
def test_an_option_by_number_title_typo_or_natural_words(typed, value):
    assert match_option(typed, BUILDING_USE) == value


def test_words_only_one_option_has_pick_it():
    houses = [{"value": 1, "labels": ["Bagula-I Gram Panchayat Guest House", "বগুলা-১ গ্রাম পঞ্চায়েত অতিথিশালা"]},
              {"value": 2, "labels": ["Hanskhali Panchayat Samiti Guest House", "হাঁসখালি পঞ্চায়েত সমিতি অতিথিশালা"]}]
    assert match_option("samiti guest house", houses) == 2
    assert match_option("সমিতির টা", houses) == 2  # "সমিতির" is "সমিতি" with its ending
    assert match_option("panchayat guest house", houses) is None  # both have those words
    assert match_option("বগুলা", houses) == 1


@pytest.mark.parametrize("typed, rooms", [
    ("I need guest house rooms on 24/12 for 2 nights, 2 rooms", 2), ("২৪ তারিখ থেকে ২ রাত, ১টা ঘর", 1),
    ("dui ta room", 2), ("one room", 1), ("একটা ঘর", 1), ("guest house e room chai", None),
])
def test_rooms_said_with_other_answers(typed, rooms):
    assert count_of(typed, ("room", "rooms", "ঘর", "রুম")) == rooms


def test_dates_of_a_stay_as_people_say_them():
    from panchayat.dates import nights_in, parse_stay

    today = date(2026, 12, 2)
    assert parse_stay("room for day after tomorrow", today).check_in == today + timedelta(days=2)
    stay = parse_stay("২৪ তারিখ থেকে ২ রাত", today)
    assert (stay.check_in, stay.nights) == (date(2026, 12, 24), 2)
    assert parse_stay("1 tarikh theke", today).check_in == date(2027, 1, 1)
    assert parse_stay("kal theke dui raat", today).nights == 2
    assert nights_in("tin rater jonno") == 3 and nights_in("3 raat") == 3 and nights_in("two nights") == 2


@pytest.mark.parametrize("service, typed, field", [
    ("trade_noc", "malik er naam ta bhul hoyeche", "owner_name"), ("trade_noc", "মালিকের নাম ভুল হয়েছে", "owner_name"),
    ("trade_noc", "owner name is wrong", "owner_name"), ("trade_noc", "shop name is wrong", "trade_name"),
    ("building_permission", "দাগ নম্বর ভুল হয়েছে", "plot_number"),
    ("building_permission", "sorry plot number is wrong", "plot_number"),
    ("building_permission", "জমির পরিমান ভুল আছে", "land_area"), ("building_permission", "father name wrong", "guardian_name"),
    ("trade_noc", "Maa Tara Stores", None),
])
def test_a_correction_names_its_field_by_label_or_by_what_villagers_call_it(service, typed, field):
    from panchayat.journeys.applying import correction_target, new_draft

    assert correction_target(new_draft(service), typed) == field


@pytest.mark.parametrize("current, typed, language", [
    (None, "business noc apply", "en"), (None, "amar trade licence chai", "bn"), (None, "নমস্কার", "bn"),
    ("bn", "Hanskhali more, Bagula", "bn"), ("bn", "room", "bn"), ("bn", "thank you", "bn"), ("bn", "ok", "bn"),
    ("bn", "I want to book a room for my guests", "en"), ("en", "ধন্যবাদ", "bn"), ("en", "Rahim Sheikh", "en"),
    ("en", "amar naam Rahim", "bn"), ("en", "5", "en"),
])
def test_the_reply_language_follows_the_conversation_not_each_word(current, typed, language):
    from panchayat.language import conversation_language

    assert conversation_language(current, typed) == language


@pytest.mark.parametrize("typed, rating", [
    ("৫", 5), ("4 dilam", 4), ("5 star", 5), ("khub bhalo", 5), ("bhalo", 4), ("ভালো না", 2), ("khub kharap", 1),
    ("8", None), ("thik ache", None),
])
def test_a_rating_in_a_bare_answer(typed, rating):
    from panchayat.followups import rating_in

    assert rating_in(typed) == rating


def test_the_question_of_a_notification_stays_open_until_answered(database):
    from panchayat import citizens, db, grievances
    from panchayat.followups import open_question, wants_download
    from panchayat.models import GramPanchayat

    with db.session_scope(database) as session:
        citizen = citizens.get_or_create(session, "919811100001")
        citizens.set_gram_panchayat(session, citizen, session.get(GramPanchayat, 990001))
        session.flush()
        assert open_question(session, citizen) is None
        grievance = grievances.lodge(session, citizen, "drainage", "nordoma jam")
        grievances.resolve(session, grievance, "cleaned", actor="clerk")
        session.flush()
        question = open_question(session, citizen)
        assert (question.kind, question.number) == ("rating", grievance.number)
        grievances.rate(session, grievance, citizen, 5)
        session.flush()
        assert open_question(session, citizen) is None
    assert wants_download("ok pathan") and wants_download("হ্যাঁ দিন") and not wants_download("na")
    assert answers.words("ছবি নেই।") == ["ছবি", "নেই"]


@pytest.mark.parametrize("typed, predicted, corrected", [
    ("ফরিদা বিবি", "goodbye", "inform"), ("Sujata Das", "goodbye", "inform"), ("Laxmi Haldar", "greet", "inform"),
    ("service", "show_menu", "inform"), ("Maa Tara Stores", "thank_you", "inform"),
    ("bye dada", "goodbye", None), ("thanx sir", "thank_you", None), ("মেনুতে ফিরে যান", "show_menu", None),
    ("hlw", "greet", None), ("থাক, পরে করব", "inform", "cancel"), ("৫", "rate_grievance", "inform"),
    ("/affirm", "affirm", None),
])
def test_small_talk_needs_its_own_words_so_a_name_stays_an_answer(typed, predicted, corrected):
    from panchayat.answers import corrected_intent

    assert corrected_intent(typed, predicted) == corrected


def test_every_training_and_held_out_example_keeps_its_intent():
    """The closed-class corrections never contradict a labelled example (bare numbers aside,
    which the rating question reads as well as the classifier does)."""
    import re

    import yaml

    from panchayat.answers import corrected_intent
    from tests.conftest import ROOT

    contradicted = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) + sorted((ROOT / "tests" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = item.get("intent")
            for line in (item.get("examples") or "").splitlines() if intent else []:
                example = re.sub(r"\[([^\]]*)\]\{[^}]*\}|\[([^\]]*)\]\([^)]*\)",
                                 lambda m: m.group(1) or m.group(2), line.strip()[2:])
                corrected = corrected_intent(example, intent)
                if corrected not in (None, intent) and intent != "rate_grievance":
                    contradicted.append((path.name, intent, example, corrected))
    assert contradicted == []
