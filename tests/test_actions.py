"""The first conversation's actions, against a real (temporary SQLite) database."""
import asyncio

import pytest

from actions.citizen import ActionChangeLanguage, ActionIdentifyCitizen, ActionSetPanchayat, ValidateGpForm
from actions.panchayat_info import ActionShowPanchayatInfo
from panchayat import db
from panchayat.citizens import find_citizen
from panchayat.seed import DEMO_CITIZEN


def run(action, dispatcher, tracker, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


def texts(dispatcher):
    return [m["text"] for m in dispatcher.messages if m.get("text")]


def citizen_row(url, wa_id):
    with db.session_scope(url) as session:
        citizen = find_citizen(session, wa_id)
        return citizen and (citizen.language, citizen.language_explicit, citizen.gp_code)


@pytest.mark.parametrize("text, language", [("নমস্কার", "bn"), ("hello", "en"), ("nomoskar dada", "bn")])
def test_identify_citizen_sets_reply_language_and_gp_known(sqlite_database, dispatcher, make_tracker, domain,
                                                          text, language):
    events = run(ActionIdentifyCitizen(), dispatcher, make_tracker(text), domain)
    assert {e["name"]: e["value"] for e in events} == {"language": language, "gp_known": True}
    assert dispatcher.messages == []


def test_a_new_sender_is_recorded_without_a_gp(sqlite_database, dispatcher, make_tracker, domain):
    events = run(ActionIdentifyCitizen(), dispatcher, make_tracker("hello", sender="new-villager"), domain)
    assert {e["name"]: e["value"] for e in events} == {"language": "en", "gp_known": False}
    assert citizen_row(sqlite_database, "new-villager") == ("en", False, None)


def test_text_without_language_keeps_the_previous_language(sqlite_database, dispatcher, make_tracker, domain):
    run(ActionIdentifyCitizen(), dispatcher, make_tracker("নমস্কার"), domain)
    events = run(ActionIdentifyCitizen(), dispatcher, make_tracker("TN-2026-000001", slots={"language": "bn"}), domain)
    assert {e["name"]: e["value"] for e in events}["language"] == "bn"


def test_explicit_language_choice_wins_and_is_remembered(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("english please", intent="change_language",
                           entities=[{"entity": "language", "value": "en"}], slots={"language": "bn"})
    events = run(ActionChangeLanguage(), dispatcher, tracker, domain)
    assert events == [{"event": "slot", "timestamp": None, "name": "language", "value": "en"}]
    assert texts(dispatcher) == ["From now on I will reply in English."]
    assert citizen_row(sqlite_database, DEMO_CITIZEN)[:2] == ("en", True)
    # A later Bengali message is still answered in English.
    events = run(ActionIdentifyCitizen(), dispatcher, make_tracker("নমস্কার"), domain)
    assert {e["name"]: e["value"] for e in events}["language"] == "en"


def test_change_language_without_a_language_offers_both(sqlite_database, dispatcher, make_tracker, domain):
    run(ActionChangeLanguage(), dispatcher, make_tracker("bhasha bodlao", intent="change_language",
                                                         slots={"language": "bn"}), domain)
    (message,) = dispatcher.messages
    assert [b["title"] for b in message["buttons"]] == ["বাংলা", "English"]
    assert citizen_row(sqlite_database, DEMO_CITIZEN)[1] is False


def test_office_hours_in_bengali_from_the_database(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("পঞ্চায়েত অফিস কখন খোলা থাকে?", intent="panchayat_info", slots={"language": "bn"})
    assert run(ActionShowPanchayatInfo(), dispatcher, tracker, domain) == []
    answer, note = texts(dispatcher)
    assert answer.startswith("বগুলা-১ গ্রাম পঞ্চায়েত অফিস খোলা থাকে: সোমবার থেকে শুক্রবার")
    assert "নমুনা" in note


def test_officials_in_english(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("who is the pradhan and the secretary", intent="panchayat_info", slots={"language": "en"})
    run(ActionShowPanchayatInfo(), dispatcher, tracker, domain)
    assert texts(dispatcher)[0] == "Officials of Bagula-I Gram Panchayat:\n• Pradhan: Rina Biswas\n• Secretary: Subrata Ghosh"


def test_talk_to_human_gives_the_office_contact(sqlite_database, dispatcher, make_tracker, domain):
    run(ActionShowPanchayatInfo(), dispatcher, make_tracker("talk to a person", intent="talk_to_human",
                                                            slots={"language": "en"}), domain)
    assert texts(dispatcher)[0].startswith("You can reach Bagula-I Gram Panchayat office on 000-0000-0001")


def test_info_after_choosing_the_gp_answers_the_earlier_question(sqlite_database, dispatcher, make_tracker, domain):
    earlier = make_tracker("office kothay", intent="panchayat_info").events
    tracker = make_tracker("Bagula 1", intent="inform_panchayat", sender="new-villager", events=earlier,
                           slots={"language": "bn"})
    run(ActionSetPanchayat(), dispatcher, tracker, domain)
    run(ActionShowPanchayatInfo(), dispatcher, tracker, domain)
    assert texts(dispatcher)[0].startswith("ঠিক আছে: বগুলা-১ গ্রাম পঞ্চায়েত")
    assert texts(dispatcher)[1].startswith("বগুলা-১ গ্রাম পঞ্চায়েত অফিসের ঠিকানা")


@pytest.mark.parametrize("typed", ["Bagula 1", "bagula-I", "বগুলা-১", "বগুলা ১", "BAGULA 1 gram panchayat", "990001"])
def test_gp_form_accepts_a_name_in_either_script(sqlite_database, dispatcher, make_tracker, domain, typed):
    tracker = make_tracker(typed, intent="inform_panchayat", sender="new-villager", active_loop="gp_form",
                           slots={"language": "en", "requested_slot": "gp_name"})
    result = asyncio.run(ValidateGpForm().validate_gp_name(typed, dispatcher, tracker, domain))
    assert result == {"gp_name": "990001", "gp_known": True}
    assert citizen_row(sqlite_database, "new-villager")[2] == 990001


def test_gp_form_asks_back_when_the_name_is_ambiguous(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("radhanagar", intent="inform_panchayat", sender="new-villager",
                           slots={"language": "en", "requested_slot": "gp_name"}, active_loop="gp_form")
    result = asyncio.run(ValidateGpForm().validate_gp_name("radhanagar", dispatcher, tracker, domain))
    assert result == {"gp_name": None}
    (message,) = dispatcher.messages
    assert [b["title"] for b in message["buttons"]] == [
        "Radhanagar, Goghat-I block, Hooghly", "Radhanagar, Bishnupur-I block, South 24 Parganas"]
    assert citizen_row(sqlite_database, "new-villager") is None or citizen_row(sqlite_database, "new-villager")[2] is None
    # Pressing a button sends the GP's code.
    payload = message["buttons"][1]["payload"]
    pressed = make_tracker(payload, intent="inform_panchayat", sender="new-villager", active_loop="gp_form",
                           entities=[{"entity": "gram_panchayat", "value": "990006"}], slots={"language": "en"})
    result = asyncio.run(ValidateGpForm().validate_gp_name(payload, dispatcher, pressed, domain))
    assert result == {"gp_name": "990006", "gp_known": True}


def test_gp_form_unknown_name_asks_again_in_bengali(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("কলকাতা শহর", sender="new-villager", slots={"language": "bn"}, active_loop="gp_form")
    result = asyncio.run(ValidateGpForm().validate_gp_name("কলকাতা শহর", dispatcher, tracker, domain))
    assert result == {"gp_name": None}
    assert texts(dispatcher) == ["\"কলকাতা শহর\" নামে কোনো গ্রাম পঞ্চায়েত খুঁজে পেলাম না। বানানটা দেখে আবার লিখুন, বা ব্লকের নাম লিখুন।"]


def test_database_failure_gives_a_polite_reply_without_details(tmp_path, monkeypatch, dispatcher, make_tracker, domain):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-schema.db'}")
    run(ActionShowPanchayatInfo(), dispatcher, make_tracker("office hours?", intent="panchayat_info",
                                                            slots={"language": "en"}), domain)
    assert texts(dispatcher) == ["Sorry, something went wrong on our side. Please try again in a little while."]
    db.dispose_engines()
