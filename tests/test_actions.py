"""The first conversation's actions, against a real (temporary SQLite) database."""
import asyncio

import pytest

from actions.choosing_a_panchayat import ActionChangeLanguage, ActionIdentifyCitizen, ActionSetPanchayat, ValidateGpForm
from actions.reading_panchayat_info import ActionShowPanchayatInfo
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


# --- status of what the citizen filed --------------------------------------------------

from actions.applying import ActionShowServiceInfo  # noqa: E402
from actions.my_records import ActionShowGrievanceStatus  # noqa: E402
from actions.my_records import ActionShowApplicationStatus, ActionShowBookings  # noqa: E402


def owned(url, model, wa_id):
    """Numbers of the rows of `model` that belong to the citizen `wa_id`."""
    with db.session_scope(url) as session:
        citizen = find_citizen(session, wa_id)
        return [row.number for row in session.query(model).filter_by(citizen_id=citizen.id).order_by(model.id)]


def test_service_info_lists_documents_and_fee_in_bengali(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("trade licence er jonno ki ki kagoj lagbe", intent="service_info", slots={"language": "bn"},
                           entities=[{"entity": "service", "value": "trade_noc"}])
    run(ActionShowServiceInfo(), dispatcher, tracker, domain)
    (answer,) = texts(dispatcher)
    assert answer.startswith("ট্রেড এনওসি (ট্রেড লাইসেন্স):") and "ফি: ₹১৫০" in answer
    assert "জায়গার প্রমাণ" in answer


def test_service_info_without_a_service_lists_all_services(sqlite_database, dispatcher, make_tracker, domain):
    run(ActionShowServiceInfo(), dispatcher, make_tracker("what services", intent="service_info",
                                                          slots={"language": "en"}), domain)
    (answer,) = texts(dispatcher)
    assert "Building permission" in answer and "Trade NOC" in answer and "Business NOC" in answer


def test_application_status_by_loose_number_for_the_applicant(sqlite_database, dispatcher, make_tracker, domain):
    from panchayat.models import Application

    number = owned(sqlite_database, Application, "demo-applicant-3")[0]
    loose = number.lower().replace("-", " ")
    tracker = make_tracker(f"{loose} er ki holo", intent="check_application_status", sender="demo-applicant-3",
                           slots={"language": "bn"})
    run(ActionShowApplicationStatus(), dispatcher, tracker, domain)
    answer = texts(dispatcher)[0]
    assert answer.startswith(f"আবেদন {number}") and "যাচাই চলছে" in answer


def test_someone_elses_application_reveals_nothing(sqlite_database, dispatcher, make_tracker, domain):
    from panchayat.models import Application

    number = owned(sqlite_database, Application, "demo-applicant-3")[0]
    stranger = make_tracker(f"status of {number}", intent="check_application_status", sender="demo-citizen",
                            slots={"language": "en"}, entities=[{"entity": "application_number", "value": number}])
    run(ActionShowApplicationStatus(), dispatcher, stranger, domain)
    refusal = texts(dispatcher)
    dispatcher.messages.clear()
    unknown = make_tracker("status of TN-2026-999999", intent="check_application_status", sender="demo-citizen",
                           slots={"language": "en"},
                           entities=[{"entity": "application_number", "value": "TN-2026-999999"}])
    run(ActionShowApplicationStatus(), dispatcher, unknown, domain)
    assert refusal == [texts(dispatcher)[0].replace("TN-2026-999999", number)]
    assert "Maa Tara" not in refusal[0] and "submitted on" not in refusal[0]


def test_my_applications_lists_only_mine(sqlite_database, dispatcher, make_tracker, domain):
    from panchayat.models import Application

    mine = owned(sqlite_database, Application, "demo-applicant-1")
    run(ActionShowApplicationStatus(), dispatcher, make_tracker("my applications", intent="check_application_status",
                                                                sender="demo-applicant-1", slots={"language": "en"}),
        domain)
    (answer,) = texts(dispatcher)
    assert all(number in answer for number in mine)
    others = owned(sqlite_database, Application, "demo-applicant-2")
    assert not any(number in answer for number in others)


def test_no_applications_yet(sqlite_database, dispatcher, make_tracker, domain):
    run(ActionShowApplicationStatus(), dispatcher, make_tracker("amar abedon", intent="check_application_status",
                                                                sender="someone-new", slots={"language": "bn"}),
        domain)
    assert texts(dispatcher) == ["এই নম্বর থেকে কোনো আবেদন পাইনি। আবেদন শুরু করতে লিখুন \"আবেদন করব\"।"]


def test_grievance_status_and_list(sqlite_database, dispatcher, make_tracker, domain):
    from panchayat.models import Grievance

    number = owned(sqlite_database, Grievance, "demo-applicant-3")[0]
    run(ActionShowGrievanceStatus(), dispatcher, make_tracker(f"complaint {number}", intent="check_grievance_status",
                                                              sender="demo-applicant-3", slots={"language": "en"}),
        domain)
    answer = texts(dispatcher)[0]
    assert answer.startswith(f"Complaint {number} (drainage)") and "resolved" in answer
    dispatcher.messages.clear()
    run(ActionShowGrievanceStatus(), dispatcher, make_tracker(f"complaint {number}", intent="check_grievance_status",
                                                              sender="demo-citizen", slots={"language": "en"}),
        domain)
    assert texts(dispatcher) == [f"I could not find complaint {number} among your complaints. Please check the number."]


def test_bookings_of_the_guest(sqlite_database, dispatcher, make_tracker, domain):
    from panchayat.models import Booking

    number = owned(sqlite_database, Booking, "demo-applicant-1")[0]
    run(ActionShowBookings(), dispatcher, make_tracker("amar booking gulo", intent="check_booking",
                                                       sender="demo-applicant-1", slots={"language": "bn"}), domain)
    (answer,) = texts(dispatcher)
    assert number in answer and "হাঁসখালি পঞ্চায়েত সমিতি অতিথিশালা" in answer and "নিশ্চিত" in answer


def test_choosing_the_gp_from_district_and_block_lists(sqlite_database, dispatcher, make_tracker, domain):
    def answer(typed, entities=None):
        dispatcher.messages.clear()
        tracker = make_tracker(typed, intent="inform_panchayat", sender="list-chooser", active_loop="gp_form",
                               entities=entities, slots={"language": "en", "requested_slot": "gp_name"})
        return asyncio.run(ValidateGpForm().validate_gp_name(typed, dispatcher, tracker, domain))

    assert answer("Nadia") == {"gp_name": None}
    (blocks,) = dispatcher.messages
    assert blocks["text"] == "Which block?" and "Hanskhali" in [b["title"] for b in blocks["buttons"]]
    hanskhali = next(b for b in blocks["buttons"] if b["title"] == "Hanskhali")
    assert answer(hanskhali["payload"], [{"entity": "block", "value": "3029"}]) == {"gp_name": None}
    (gps,) = dispatcher.messages
    assert gps["text"] == "Which gram panchayat?"
    assert [b["title"].split(",")[0] for b in gps["buttons"]] == ["Bagula-I", "Bagula-II", "Hanskhali"]
    result = answer(gps["buttons"][1]["payload"], [{"entity": "gram_panchayat", "value": "990002"}])
    assert result == {"gp_name": "990002", "gp_known": True}
    assert citizen_row(sqlite_database, "list-chooser")[2] == 990002


def test_a_block_without_gps_on_record_says_so(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("Singur", sender="list-chooser", active_loop="gp_form", slots={"language": "bn"})
    assert asyncio.run(ValidateGpForm().validate_gp_name("Singur", dispatcher, tracker, domain)) == {"gp_name": None}
    assert texts(dispatcher) == ["এই ব্লকের গ্রাম পঞ্চায়েতগুলি এখনও এখানে নথিভুক্ত হয়নি। আপনার গ্রাম পঞ্চায়েতের নাম লিখুন।"]
