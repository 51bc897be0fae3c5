"""Messages in the middle of a form that are not answers: pausing, stickers and voice notes,
a photo or a place where words were asked, small talk. Every form treats them alike."""
import asyncio
from datetime import date

import pytest

from actions.applying import ValidateApplicationForm
from actions.booking_a_room import ValidateBookingCancellationForm, ValidateBookingForm
from actions.forms import PAUSED
from actions.complaining import ValidateGrievanceForm
from panchayat.catalogue import text
from panchayat.journeys.booking_a_room import read_answers


def texts(dispatcher):
    return [m.get("text") or m.get("response") for m in dispatcher.messages]


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_later_phrase_pauses_the_application_and_keeps_its_answers(sqlite_database, dispatcher, make_tracker,
                                                                     domain):
    draft = {"service": "trade_noc", "fields": {"trade_name": "Maa Tara"}, "documents": {}, "editing": None}
    tracker = make_tracker("থাক, এখন থাক। পরে করব", intent="inform", active_loop="application_form",
                           slots={"language": "bn", "application_draft": draft, "service": "trade_noc"})
    result = run(ValidateApplicationForm().validate_application_answer(
        "থাক, এখন থাক। পরে করব", dispatcher, tracker, domain))
    assert result == {"application_answer": None, PAUSED: True, "application_draft": draft}
    assert texts(dispatcher) == ["utter_application_paused"]
    paused = make_tracker("x", active_loop="application_form", slots={PAUSED: True})
    assert run(ValidateApplicationForm().required_slots(["service", "application_answer"], dispatcher, paused,
                                                         domain)) == []


@pytest.mark.parametrize("wa_type, key", [("sticker", "form_unreadable"), ("audio", "form_voice_note")])
def test_a_sticker_or_voice_note_gets_a_reply_and_the_same_question(sqlite_database, dispatcher, make_tracker,
                                                                    domain, wa_type, key):
    tracker = make_tracker("/inform", intent="inform", active_loop="booking_form",
                           metadata={"wa_type": wa_type}, slots={"language": "en", "booking_draft": {"choices": [1]}})
    result = run(ValidateBookingForm().validate_booking_answer("/inform", dispatcher, tracker, domain))
    assert result == {"booking_answer": None}
    assert texts(dispatcher) == [text(key, "en")]


def test_a_photo_where_words_are_asked_is_refused_kindly(sqlite_database, dispatcher, make_tracker, domain):
    draft = {"service": "trade_noc", "fields": {}, "documents": {}, "editing": None}
    tracker = make_tracker("/inform", active_loop="application_form", metadata={"media_path": "/tmp/x.jpg"},
                           slots={"language": "bn", "application_draft": draft})
    result = run(ValidateApplicationForm().validate_application_answer("/inform", dispatcher, tracker, domain))
    assert result["application_answer"] is None and result["application_draft"] == draft
    assert texts(dispatcher) == [text("form_file_not_asked", "bn")]


def test_a_location_where_words_are_asked_is_refused_kindly(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("Bagula bazar", active_loop="grievance_form",
                           metadata={"location": {"latitude": 23.1, "longitude": 88.6}},
                           slots={"language": "en", "grievance_draft": {"started": True, "category": "road"}})
    result = run(ValidateGrievanceForm().validate_grievance_answer("Bagula bazar", dispatcher, tracker, domain))
    assert result["grievance_answer"] is None
    assert texts(dispatcher) == [text("form_place_not_asked", "en")]


def test_thanks_in_the_middle_of_a_form_is_answered_and_the_question_stays(sqlite_database, dispatcher,
                                                                          make_tracker, domain):
    tracker = make_tracker("thank you", intent="thank_you", active_loop="booking_form",
                           slots={"language": "en", "booking_draft": {"choices": [1, 2]}})
    result = run(ValidateBookingForm().validate_booking_answer("thank you", dispatcher, tracker, domain))
    assert result == {"booking_answer": None}
    assert texts(dispatcher) == ["utter_you_are_welcome"]


def test_no_at_the_cancellation_question_keeps_the_booking(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("না থাক", intent="cancel", active_loop="booking_cancellation_form",
                           slots={"language": "bn", "cancellation_target": "GH-2026-000001"})
    result = run(ValidateBookingCancellationForm().validate_cancellation_answer("না থাক", dispatcher, tracker,
                                                                                 domain))
    assert result == {"cancellation_answer": "kept", "cancellation_target": None}
    assert texts(dispatcher) == [text("cancellation_kept", "bn")]


def test_one_message_fills_dates_nights_and_rooms():
    draft = {"choices": [1, 2], "names": {"1": {"en": "GP Guest House", "bn": "অতিথিশালা"},
                                          "2": {"en": "Samiti Guest House", "bn": "সমিতি অতিথিশালা"}}, "house": 1}
    filled = read_answers(draft, "I need guest house rooms on 24/12 for 2 nights, 2 rooms", "dates")
    assert filled["rooms"] == 2 and filled["check_in"].endswith("-12-24")
    assert (date.fromisoformat(filled["check_out"]) - date.fromisoformat(filled["check_in"])).days == 2
    assert read_answers(dict(draft, house=None), "samiti guest house", "house")["house"] == 2
    assert read_answers(dict(filled, rooms=None), "একটা", "rooms")["rooms"] == 1
    assert read_answers(filled, "what?", "confirm") == filled
