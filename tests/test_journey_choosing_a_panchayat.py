"""Choosing a panchayat, the reply language, the privacy notice and the GP office's facts, on real
databases (SQLite and PostgreSQL)."""

import pytest
from sqlalchemy import func, select

from panchayat import citizens, config, db
from panchayat.journeys import choosing_a_panchayat as journey
from panchayat.journeys.reading_panchayat_info import panchayat_info
from panchayat.models import ConsentRecord
from panchayat.seed import DEMO_CITIZEN

NEW = "919800000041"


def citizen_row(url, wa_id=NEW):
    with db.session_scope(url) as session:
        citizen = citizens.find_citizen(session, wa_id)
        return citizen and (citizen.language, citizen.language_explicit, citizen.gp_code)


@pytest.mark.parametrize(
    "typed, language, saved",
    [
        ("বগুলা-১", "bn", "ঠিক আছে: বগুলা-১ গ্রাম পঞ্চায়েত (হাঁসখালি ব্লক, নদিয়া)। মনে রাখলাম।"),
        ("Bagula 1", "en", "Noted: Bagula-I Gram Panchayat (Hanskhali block, Nadia). I will remember it."),
    ],
)
def test_a_gp_chosen_by_its_bengali_or_english_name_is_remembered(database, typed, language, saved):
    choice = journey.choose_gram_panchayat(NEW, typed, typed, language)
    assert choice.gp_code == 990001
    assert [r.text(language) for r in choice.replies] == [saved]
    assert citizen_row(database)[2] == 990001


def test_the_whole_message_names_the_gp_when_the_understood_span_is_short(database):
    choice = journey.choose_gram_panchayat(NEW, "Bagula", "Bagula 2", "en")
    assert choice.gp_code == 990002 and citizen_row(database)[2] == 990002


def test_a_block_offers_its_gps_and_remembers_none_yet(database):
    choice = journey.choose_gram_panchayat(NEW, "3029", "3029", "en")  # Hanskhali block's LGD code
    assert choice.gp_code is None
    (question,) = choice.replies
    assert question.text("en") == "Which gram panchayat?"
    assert [(b.title, b.payload) for b in question.buttons] == [
        ("Bagula-I, Hanskhali block, Nadia", '/inform_panchayat{"gram_panchayat": "990001"}'),
        ("Bagula-II, Hanskhali block, Nadia", '/inform_panchayat{"gram_panchayat": "990002"}'),
        ("Hanskhali, Hanskhali block, Nadia", '/inform_panchayat{"gram_panchayat": "990003"}'),
    ]
    # A block with a single GP still asks the citizen to confirm it, in their language.
    (single,) = journey.choose_gram_panchayat(NEW, "গোঘাট-১", "গোঘাট-১", "bn").replies
    assert [b.title for b in single.buttons] == ["রাধানগর, গোঘাট-১ ব্লক, হুগলি"]
    assert citizen_row(database) is None or citizen_row(database)[2] is None


def test_a_district_offers_its_blocks(database):
    (question,) = journey.choose_gram_panchayat(NEW, "Nadia", "Nadia", "en").replies
    assert question.key == "gp_pick_block"
    assert ("Hanskhali", '/inform_panchayat{"block": "3029"}') in [(b.title, b.payload) for b in question.buttons]


def test_an_ambiguous_name_asks_which_and_an_unknown_one_asks_again(database):
    (which,) = journey.choose_gram_panchayat(NEW, "radhanagar", "radhanagar", "en").replies
    assert which.key == "gp_ambiguous" and len(which.buttons) == 2
    (unknown,) = journey.choose_gram_panchayat(NEW, "কলকাতা শহর", "কলকাতা শহর", "bn").replies
    assert unknown.text("bn").startswith('"কলকাতা শহর" নামে কোনো গ্রাম পঞ্চায়েত খুঁজে পেলাম না।')
    assert citizen_row(database) is None or citizen_row(database)[2] is None


def test_the_language_chosen_is_remembered_over_what_is_typed(database):
    assert journey.identify(NEW, "nomoskar dada") == journey.Identity("bn", False)
    choice = journey.change_language(NEW, "en")
    assert choice.language == "en"
    assert [r.text("en") for r in choice.replies] == ["From now on I will reply in English."]
    assert citizen_row(database) == ("en", True, None)
    assert journey.identify(NEW, "আমার পঞ্চায়েত কোথায়?") == journey.Identity("en", False)


def test_no_language_named_offers_both_and_changes_nothing(database):
    journey.identify(NEW, "nomoskar")
    choice = journey.change_language(NEW, None)
    assert choice.language is None
    assert [(b.title, b.payload) for b in choice.replies[0].buttons] == [
        ("বাংলা", '/change_language{"language": "bn"}'),
        ("English", '/change_language{"language": "en"}'),
    ]
    assert citizen_row(database) == ("bn", False, None)


def test_the_conversation_language_follows_the_citizen(database):
    assert journey.identify(DEMO_CITIZEN, "hello, I need a trade licence") == journey.Identity("en", True)
    # A message with no language in it (a record number) keeps the conversation's.
    assert journey.identify(DEMO_CITIZEN, "TN-2026-000001").language == "en"


def test_a_database_that_is_down_still_lets_the_chat_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-schema.db'}")
    try:
        assert journey.identify(NEW, "TN-2026-000001", "en") == journey.Identity("en", False)
        assert journey.identify(NEW, "hello there friend", None) == journey.Identity("en", False)
        assert journey.privacy_notice(NEW) is None
    finally:
        db.dispose_engines()


def test_the_privacy_notice_comes_once_in_both_languages(database):
    notice = journey.privacy_notice(NEW)
    bengali, english = notice.split("\n\n")
    assert bengali.startswith("শুরুর আগে জানিয়ে রাখি") and f"{config.CONVERSATION_RETENTION_DAYS} days" in english
    assert journey.privacy_notice(NEW) is None
    with db.session_scope(database) as session:
        assert (
            session.execute(
                select(func.count(ConsentRecord.id))
                .where(ConsentRecord.notice_version == citizens.PRIVACY_NOTICE_VERSION)
                .where(ConsentRecord.citizen_id == citizens.find_citizen(session, NEW).id)
            ).scalar()
            == 1
        )


def test_the_office_facts_of_the_citizens_own_gp(database):
    info = panchayat_info(DEMO_CITIZEN, "office kothay", False, "bn")
    assert info.gp_known
    assert [r.key for r in info.replies] == ["info_address", "gp_sample_note"]
    assert info.replies[0].text("bn").startswith("বগুলা-১ গ্রাম পঞ্চায়েত অফিসের ঠিকানা")
    person = panchayat_info(DEMO_CITIZEN, "talk to a person", True, "en")
    assert person.replies[0].text("en").startswith("You can reach Bagula-I Gram Panchayat office on 000-0000-0001")
    everything = panchayat_info(DEMO_CITIZEN, "tell me about the panchayat", False, "en").replies[0].text("en")
    assert "Pradhan: Rina Biswas" in everything and "Hanskhali block" in everything


def test_no_gp_on_record_asks_for_it(database):
    info = panchayat_info(NEW, "office hours?", False, "en")
    assert not info.gp_known and [r.key for r in info.replies] == ["gp_ask"]
    journey.choose_gram_panchayat(NEW, "Amdanga", "Amdanga", "en")
    assert (
        panchayat_info(NEW, "office hours?", False, "en")
        .replies[0]
        .text("en")
        .startswith("Amdanga Gram Panchayat office is open")
    )
