"""Complaints: the core (photo, rating, overdue, outbox) on SQLite and PostgreSQL, and the chat form's steps."""

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from actions.complaining import ActionAskGrievanceAnswer, ActionRateGrievance, ValidateGrievanceForm
from panchayat import citizens, db, grievances, outbox, seed
from panchayat.errors import PanchayatError
from panchayat.journeys.complaining import category_answer, next_step
from panchayat.models import Attachment, Citizen, Grievance, Notification
from tests.conftest import snapshot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "light.png"
    path.write_bytes(PNG)
    return path


# --- the core ------------------------------------------------------------------------


def test_the_narrower_category_wins_when_a_message_names_two():
    assert grievances.most_specific_category(["road", "street_light"]) == "street_light"
    assert grievances.most_specific_category(["road", "drainage"]) == "drainage"
    assert grievances.most_specific_category([]) is None


def test_a_complaint_keeps_its_photo_and_place(database, photo):
    from panchayat.drafts import store_document

    stored = store_document(str(photo))
    with db.session_scope(database) as session:
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        grievance = grievances.lodge(
            session,
            citizen,
            "street_light",
            "Light off near the school",
            latitude=22.61,
            longitude=88.52,
            location_text="School gate",
            photo=stored,
        )
        number = grievance.number
    with db.session_scope(database) as session:
        grievance = session.execute(select(Grievance).where(Grievance.number == number)).scalar_one()
        assert (grievance.latitude, grievance.longitude, grievance.location_text) == (22.61, 88.52, "School gate")
        [attachment] = session.execute(select(Attachment).where(Attachment.grievance_id == grievance.id)).scalars()
        assert attachment.purpose == "photo" and attachment.mime_type == "image/png"


def test_staff_actions_queue_messages_and_rating_is_asked_once(database):
    with db.session_scope(database) as session:
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        citizen.language = "bn"
        number = grievances.lodge(session, citizen, "tube_well", "টিউবওয়েল খারাপ").number
    with db.session_scope(database) as session:
        grievance = grievances.find(session, number)
        grievances.assign(session, grievance, "Ratan", actor="secretary")
        grievances.resolve(session, grievance, "নতুন ওয়াশার লাগানো হয়েছে", actor="secretary")
    with db.session_scope(database) as session:
        queued = (
            session.execute(
                select(Notification).where(Notification.recipient == seed.DEMO_CITIZEN).order_by(Notification.id)
            )
            .scalars()
            .all()
        )
        assert [n.kind for n in queued][-2:] == ["grievance_assigned", "grievance_resolved"]
        resolved_text = outbox.render(queued[-1])
        assert number in resolved_text and "১ (খারাপ) থেকে ৫" in resolved_text and queued[-1].language == "bn"
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        assert grievances.awaiting_rating(session, citizen).number == number
        grievances.rate(session, grievances.find(session, number), citizen, 5)
    with db.session_scope(database) as session:
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        assert grievances.find(session, number).rating == 5
        assert grievances.awaiting_rating(session, citizen) is None
        with pytest.raises(PanchayatError) as raised:
            grievances.rate(session, grievances.find(session, number), citizen, 3)
        assert raised.value.key == "grievance_rated_already"


def test_only_the_complainant_may_rate_and_only_after_resolution(database):
    before = snapshot(database)
    with db.session_scope(database) as session:
        open_one = session.execute(select(Grievance).where(Grievance.status == "open")).scalars().first()
        stranger = session.execute(select(Citizen).where(Citizen.id != open_one.citizen_id)).scalars().first()
        for who, rating, key in ((stranger, 3, "not_yours"), (open_one.citizen, 3, "grievance_not_resolved")):
            with pytest.raises(PanchayatError) as raised:
                grievances.rate(session, open_one, who, rating)
            assert raised.value.key == key
    assert snapshot(database) == before


def test_overdue_lists_only_untouched_unresolved_complaints(database):
    with db.session_scope(database) as session:
        overdue = grievances.list_grievances(session, overdue=True)
        assert overdue and all(g.status != "resolved" for g in overdue)
        assert all(g.updated_at < datetime.utcnow() - timedelta(days=7) for g in overdue)
        grievances.assign(session, overdue[0], "Ratan", actor="secretary")
    with db.session_scope(database) as session:
        assert overdue[0].number not in [g.number for g in grievances.list_grievances(session, overdue=True)]


# --- the chat form ---------------------------------------------------------------------


def lodge_event(text, categories):
    entities = [{"entity": "grievance_category", "value": c} for c in categories]
    return {
        "event": "user",
        "text": text,
        "metadata": {},
        "parse_data": {"text": text, "intent": {"name": "lodge_grievance"}, "entities": entities},
    }


def answer(value, draft, dispatcher, make_tracker, domain, intent="inform", language="en", **extra):
    tracker = make_tracker(
        value, intent=intent, slots={"language": language, "grievance_draft": draft, "gp_known": True}, **extra
    )
    return asyncio.run(ValidateGrievanceForm().validate_grievance_answer(value, dispatcher, tracker, domain))


def test_a_described_problem_fills_the_kind_and_the_description(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker(
        "রাস্তার আলো জ্বলছে না",
        intent="lodge_grievance",
        slots={"language": "bn"},
        entities=[
            {"entity": "grievance_category", "value": "road"},
            {"entity": "grievance_category", "value": "street_light"},
        ],
    )
    events = asyncio.run(ActionAskGrievanceAnswer().run(dispatcher, tracker, domain))
    draft = events[0]["value"]
    assert draft["category"] == "street_light" and draft["description"] == "রাস্তার আলো জ্বলছে না"
    assert next_step(draft) == "photo" and "ছবি" in dispatcher.messages[-1]["text"]


def test_a_bare_request_asks_the_kind_from_a_list(sqlite_database, dispatcher, make_tracker, domain):
    tracker = make_tracker("amar ekta complaint ache", intent="lodge_grievance", slots={"language": "bn"})
    events = asyncio.run(ActionAskGrievanceAnswer().run(dispatcher, tracker, domain))
    assert next_step(events[0]["value"]) == "category"
    assert len(dispatcher.messages[-1]["buttons"]) == 7


@pytest.mark.parametrize(
    "typed, entities, expected",
    [
        ("3", [], "drinking_water"),
        ("৩", [], "drinking_water"),
        ("Road", [], "road"),
        ("নিকাশি", [], "drainage"),
        ("nalar jol jome ache", ["drainage"], "drainage"),
        ("weather", [], None),
        ("9", [], None),
    ],
)
def test_the_kind_by_number_name_or_words(typed, entities, expected):
    assert category_answer(typed, entities) == expected


def test_an_unknown_kind_is_asked_again(sqlite_database, dispatcher, make_tracker, domain):
    result = answer("weather", {"started": True}, dispatcher, make_tracker, domain)
    assert result["grievance_answer"] is None and next_step(result["grievance_draft"]) == "category"
    assert "did not understand" in dispatcher.messages[-1]["text"] and dispatcher.messages[-1]["buttons"]


def test_photo_step_takes_a_file_a_channel_upload_or_no(
    sqlite_database, dispatcher, make_tracker, domain, photo, tmp_path
):
    draft = {"started": True, "category": "road", "description": "Big pothole"}
    result = answer(str(photo), draft, dispatcher, make_tracker, domain)
    assert result["grievance_draft"]["photo"]["mime_type"] == "image/png"
    result = answer("/inform", draft, dispatcher, make_tracker, domain, metadata={"media_path": str(photo)})
    assert result["grievance_draft"]["photo"]["sha256"]
    result = answer("chobi nei", draft, dispatcher, make_tracker, domain, intent="deny")
    assert result["grievance_draft"]["photo"] == "none"
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a photo")
    result = answer(str(text_file), draft, dispatcher, make_tracker, domain)
    assert next_step(result["grievance_draft"]) == "photo" and "JPEG" in dispatcher.messages[-1]["text"]
    result = answer("hello there", draft, dispatcher, make_tracker, domain)
    assert next_step(result["grievance_draft"]) == "photo"


def test_place_step_takes_a_pin_a_typed_place_or_skip(sqlite_database, dispatcher, make_tracker, domain):
    draft = {"started": True, "category": "road", "description": "Big pothole", "photo": "none"}
    pin = {"location": {"latitude": 22.5, "longitude": 88.4, "name": "Bagula Bazar", "address": None}}
    result = answer("/inform", draft, dispatcher, make_tracker, domain, metadata=pin)
    assert result["grievance_draft"]["place"] == {"latitude": 22.5, "longitude": 88.4, "text": "Bagula Bazar"}
    result = answer("Station road er mor", draft, dispatcher, make_tracker, domain)
    assert result["grievance_draft"]["place"] == {"text": "Station road er mor"}
    result = answer("skip", draft, dispatcher, make_tracker, domain, intent="deny")
    assert result["grievance_draft"]["place"] == "none" and next_step(result["grievance_draft"]) == "confirm"


def test_confirming_files_it_and_no_files_nothing(sqlite_database, dispatcher, make_tracker, domain, photo):
    from panchayat.drafts import store_document

    draft = {
        "started": True,
        "category": "street_light",
        "description": "rastar alo jolche na",
        "photo": store_document(str(photo)),
        "place": {"text": "Bagula bazar"},
    }
    before = snapshot(sqlite_database)
    result = answer("/deny", draft, dispatcher, make_tracker, domain, intent="deny", language="bn")
    assert result == {"grievance_answer": "dropped", "grievance_draft": None}
    assert snapshot(sqlite_database) == before
    result = answer("haan", draft, dispatcher, make_tracker, domain, intent="affirm", language="bn")
    number = result["grievance_answer"]
    assert number.startswith("GR-") and number in dispatcher.messages[-1]["text"]
    with db.session_scope(sqlite_database) as session:
        grievance = grievances.find(session, number)
        assert grievance.citizen.wa_id == seed.DEMO_CITIZEN and grievance.location_text == "Bagula bazar"
        assert len(grievance.attachments) == 1


def test_summary_shows_what_will_be_filed(sqlite_database, dispatcher, make_tracker, domain):
    draft = {
        "started": True,
        "category": "drainage",
        "description": "Drain blocked",
        "photo": "none",
        "place": {"latitude": 22.5, "longitude": 88.4, "text": None},
    }
    tracker = make_tracker("skip", intent="deny", slots={"language": "en", "grievance_draft": draft})
    asyncio.run(ActionAskGrievanceAnswer().run(dispatcher, tracker, domain))
    summary = dispatcher.messages[-1]["text"]
    assert "drainage" in summary and "Drain blocked" in summary and "22.50000" in summary
    assert "Bagula-I" in summary and [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/affirm", "/deny"]


def rate(text, dispatcher, make_tracker, domain, sender, entities=None):
    tracker = make_tracker(
        text, intent="rate_grievance", sender=sender, slots={"language": "en"}, entities=entities or []
    )
    asyncio.run(ActionRateGrievance().run(dispatcher, tracker, domain))
    return dispatcher.messages[-1]["text"]


def test_rating_the_latest_resolved_complaint(sqlite_database, dispatcher, make_tracker, domain):
    with db.session_scope(sqlite_database) as session:
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        grievance = grievances.lodge(session, citizen, "road", "Pothole")
        grievances.resolve(session, grievance, "Filled", actor="secretary")
        number = grievance.number
    assert "1 to 5" in rate("9", dispatcher, make_tracker, domain, seed.DEMO_CITIZEN)
    assert number in rate("৪ দিলাম", dispatcher, make_tracker, domain, seed.DEMO_CITIZEN)
    with db.session_scope(sqlite_database) as session:
        assert grievances.find(session, number).rating == 4
    assert "no resolved complaint" in rate("5", dispatcher, make_tracker, domain, seed.DEMO_CITIZEN)


def test_nobody_rates_someone_elses_complaint(sqlite_database, dispatcher, make_tracker, domain):
    with db.session_scope(sqlite_database) as session:
        owner = citizens.get_or_create(session, "demo-applicant-1")
        grievance = grievances.lodge(session, owner, "road", "Pothole")
        grievances.resolve(session, grievance, "Filled", actor="secretary")
        number = grievance.number
    before = snapshot(sqlite_database)
    reply = rate(
        f"{number} 5",
        dispatcher,
        make_tracker,
        domain,
        "stranger-1",
        entities=[{"entity": "grievance_number", "value": number}],
    )
    assert "no resolved complaint" in reply
    assert snapshot(sqlite_database)["grievances"] == before["grievances"]


def test_the_terminal_chat_takes_each_queued_message_once(database):
    with db.session_scope(database) as session:
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        citizen.language = "en"
        grievance = grievances.lodge(session, citizen, "road", "Pothole")
        grievances.resolve(session, grievance, "Filled with gravel", actor="secretary")
        number = grievance.number
    texts = outbox.deliver_pending(seed.DEMO_CITIZEN, database_url=database)
    assert any(number in t and "Filled with gravel" in t for t in texts)
    assert outbox.deliver_pending(seed.DEMO_CITIZEN, database_url=database) == []
    assert outbox.deliver_pending("demo-applicant-1", database_url=database) != []  # others' messages stay theirs


def test_the_category_list_offers_every_category_once():
    from panchayat.journeys.complaining import CATEGORIES
    from panchayat.models import GRIEVANCE_CATEGORIES

    assert sorted(CATEGORIES) == sorted(GRIEVANCE_CATEGORIES)


# --- the bare answer to a notification ---------------------------------------------------------


def bare(text, dispatcher, make_tracker, domain, intent="nlu_fallback", metadata=None):
    from actions.answering_notifications import ActionBareAnswer

    tracker = make_tracker(text, intent=intent, slots={"language": "en"}, metadata=metadata)
    return asyncio.run(ActionBareAnswer().run(dispatcher, tracker, domain))


def test_a_bare_number_rates_the_complaint_the_panchayat_asked_about(sqlite_database, dispatcher, make_tracker, domain):
    assert bare("4", dispatcher, make_tracker, domain) == []
    assert dispatcher.messages[-1]["response"] == "utter_default"
    bare("yes", dispatcher, make_tracker, domain, intent="affirm")
    assert dispatcher.messages[-1]["response"] == "utter_anything_else"
    with db.session_scope(sqlite_database) as session:
        grievance = grievances.lodge(session, citizens.get_or_create(session, seed.DEMO_CITIZEN), "road", "Pothole")
        grievances.resolve(session, grievance, "Filled", actor="secretary")
        number = grievance.number
    bare("9", dispatcher, make_tracker, domain)
    assert "1 to 5" in dispatcher.messages[-1]["text"]
    assert bare("4", dispatcher, make_tracker, domain) == []
    assert dispatcher.messages[-1]["text"] == f"Thank you! Your rating of 4 for complaint {number} is recorded."
    with db.session_scope(sqlite_database) as session:
        assert grievances.find(session, number).rating == 4


def test_a_bare_ok_after_an_approval_downloads_and_a_voice_note_gets_the_menu(
    sqlite_database, dispatcher, make_tracker, domain
):
    from panchayat import applications

    with db.session_scope(sqlite_database) as session:
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        asked_about, newer = (
            applications.submit(session, citizen, service, seed.DEMO_FIELDS[service])
            for service in ("trade_noc", "business_noc")
        )
        # The newer application is approved first: the notification now open is about the older one.
        for application in (newer, asked_about):
            applications.start_review(session, application, actor="clerk")
            applications.approve(session, application, actor="pradhan")
        number = asked_about.number
    assert bare("ok pathan", dispatcher, make_tracker, domain) == []
    (document,) = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert document["filename"].startswith(number) and Path(document["document"]).read_bytes().startswith(b"%PDF")
    dispatcher.messages.clear()
    bare("/inform", dispatcher, make_tracker, domain, intent="inform", metadata={"wa_type": "audio"})
    assert dispatcher.messages[0]["text"].startswith("I cannot understand voice messages")
    menu = dispatcher.messages[1]["buttons"]
    assert (
        len(menu) == 9
        and {"title": "Residence certificate", "payload": '/apply_service{"service": "residence_certificate"}'} in menu
    )
