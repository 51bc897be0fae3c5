"""The complaint journey and the bare answer to a notification, on SQLite and PostgreSQL:
lodging with and without a photo and a place, reading one's own complaints, rating once."""
import pytest
from sqlalchemy import select

from panchayat import applications, citizens, db, grievances, seed
from panchayat.errors import PanchayatError
from panchayat.journeys import Reply, answering_notifications, complaining, my_records
from panchayat.models import Attachment, Grievance, GrievanceUpdate
from tests.conftest import snapshot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
STRANGER = "stranger-1"


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "light.png"
    path.write_bytes(PNG)
    return path


def texts(replies, language):
    return [one.text(language) for one in replies]


def filed(url, number):
    with db.session_scope(url) as session:
        grievance = session.execute(select(Grievance).where(Grievance.number == number)).scalar_one()
        attachments = session.execute(select(Attachment).where(Attachment.grievance_id == grievance.id)).scalars()
        updates = session.execute(select(GrievanceUpdate).where(GrievanceUpdate.grievance_id == grievance.id))
        return {"wa_id": grievance.citizen.wa_id, "category": grievance.category, "status": grievance.status,
                "description": grievance.description, "place": grievance.location_text,
                "pin": (grievance.latitude, grievance.longitude), "photos": [a.mime_type for a in attachments],
                "updates": [u.to_status for u in updates.scalars()]}


def lodge_resolved(url, wa_id, description="Pothole"):
    with db.session_scope(url) as session:
        grievance = grievances.lodge(session, citizens.get_or_create(session, wa_id), "road", description)
        grievances.resolve(session, grievance, "Filled", actor="secretary")
        return grievance.number


# --- lodging ---------------------------------------------------------------------------------

def test_a_complaint_with_its_photo_and_a_pin(database, photo):
    opening = complaining.Opening("রাস্তার আলো জ্বলছে না", ("road", "street_light"), str(photo))
    asked = complaining.ask(seed.DEMO_CITIZEN, None, "bn", opening)
    draft = asked.draft
    assert (draft["category"], draft["description"]) == ("street_light", "রাস্তার আলো জ্বলছে না")
    assert draft["photo"]["mime_type"] == "image/png" and "pending_media" not in draft
    assert [r.key for r in asked.replies] == ["grievance_ask_place"]
    assert [b.payload for b in asked.replies[0].buttons] == ["/deny"]

    pin = {"location": {"latitude": 22.61, "longitude": 88.52, "name": "School gate"}}
    answered = complaining.answer(seed.DEMO_CITIZEN, draft, "/inform", "bn", metadata=pin)
    draft = answered.draft
    assert draft["place"] == {"latitude": 22.61, "longitude": 88.52, "text": "School gate"}

    (summary,) = complaining.ask(seed.DEMO_CITIZEN, draft, "en").replies
    assert "street light" in summary.text("en") and "School gate, location shared (22.61000, 88.52000)" in \
        summary.text("en") and "Bagula-I" in summary.text("en") and "attached" in summary.text("en")
    assert [b.payload for b in summary.buttons] == ["/affirm", "/deny"]

    done = complaining.answer(seed.DEMO_CITIZEN, draft, "haan", "bn", intent="affirm")
    assert done.draft is None and done.filed.startswith("GR-") and done.filed in texts(done.replies, "bn")[0]
    assert filed(database, done.filed) == {
        "wa_id": seed.DEMO_CITIZEN, "category": "street_light", "status": "open",
        "description": "রাস্তার আলো জ্বলছে না", "place": "School gate", "pin": (22.61, 88.52),
        "photos": ["image/png"], "updates": ["open"]}


def test_a_complaint_without_photo_or_place(database):
    asked = complaining.ask(seed.DEMO_CITIZEN, None, "en", complaining.Opening("I have a complaint"))
    assert asked.draft == {"started": True} and len(asked.replies[0].buttons) == 7
    draft = complaining.answer(seed.DEMO_CITIZEN, asked.draft, "3", "en").draft
    assert draft["category"] == "drinking_water"
    draft = complaining.answer(seed.DEMO_CITIZEN, draft, "No water in the tap since Monday", "en").draft
    no_photo = complaining.answer(seed.DEMO_CITIZEN, draft, "No photo", "en", button="/deny")
    assert no_photo.draft["photo"] == "none" and no_photo.replies == []
    draft = complaining.answer(seed.DEMO_CITIZEN, no_photo.draft, "skip", "en", intent="deny").draft
    assert draft["place"] == "none" and complaining.next_step(draft) == "confirm"
    (summary,) = complaining.ask(seed.DEMO_CITIZEN, draft, "en").replies
    assert summary.text("en").count("not given") == 2

    done = complaining.answer(seed.DEMO_CITIZEN, draft, "Submit", "en", button="/affirm")
    assert filed(database, done.filed) == {
        "wa_id": seed.DEMO_CITIZEN, "category": "drinking_water", "status": "open",
        "description": "No water in the tap since Monday", "place": None, "pin": (None, None), "photos": [],
        "updates": ["open"]}


def test_a_citizen_without_a_gp_files_nothing_and_keeps_the_draft(database):
    with db.session_scope(database) as session:
        citizens.get_or_create(session, "new-villager")
    draft = {"started": True, "category": "road", "description": "Big pothole", "photo": "none", "place": "none"}
    before = snapshot(database)
    with pytest.raises(PanchayatError) as raised:
        complaining.answer("new-villager", draft, "yes", "en", intent="affirm")
    assert raised.value.key == "gp_required"
    assert snapshot(database) == before


def test_a_file_that_is_no_photo_is_explained_and_the_photo_asked_again(database, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    draft = {"started": True, "category": "road", "description": "Big pothole"}
    answered = complaining.answer(seed.DEMO_CITIZEN, draft, "/inform", "en", metadata={"media_path": str(notes)})
    assert answered.draft == draft and [r.key for r in answered.replies] == ["error_document_wrong_type"]
    assert "JPEG" in answered.replies[0].text("en")


def test_dropping_at_the_summary_files_nothing(database):
    draft = {"started": True, "category": "road", "description": "Big pothole", "photo": "none", "place": "none"}
    before = snapshot(database)
    dropped = complaining.answer(seed.DEMO_CITIZEN, draft, "বাতিল", "bn", button="/deny")
    assert dropped.dropped and dropped.draft is None and dropped.filed is None
    assert snapshot(database)["grievances"] == before["grievances"]


# --- one's own complaints --------------------------------------------------------------------

def test_someone_elses_complaint_reads_like_an_unknown_one(database):
    number = lodge_resolved(database, "demo-applicant-1")
    (own,) = my_records.show(my_records.COMPLAINTS, "demo-applicant-1", "", "en", number)
    assert own.key == "grievance_status" and own.text("en").startswith(f"Complaint {number} (road)")
    assert "Filled" in own.text("en") and "1 (poor) to 5" in own.text("en")

    assert my_records.show(my_records.COMPLAINTS, STRANGER, "", "en", number) == [Reply("grievance_not_found", {"number": number})]
    unknown = "GR-2026-999999"
    assert my_records.show(my_records.COMPLAINTS, STRANGER, "", "en", unknown) == [Reply("grievance_not_found", {"number": unknown})]


def test_the_list_holds_only_ones_own_complaints(database):
    with db.session_scope(database) as session:
        mine = [g.number for g in grievances.list_grievances(
            session, citizen=citizens.get_or_create(session, "demo-applicant-1"))]
        others = [g.number for g in grievances.list_grievances(session) if g.number not in mine]
    mine.append(lodge_resolved(database, "demo-applicant-1"))
    (listed,) = my_records.show(my_records.COMPLAINTS, "demo-applicant-1", "", "bn", None)
    assert listed.key == "my_grievances" and len(mine) >= 2
    assert all(n in listed.text("bn") for n in mine) and not any(n in listed.text("bn") for n in others)
    assert my_records.show(my_records.COMPLAINTS, STRANGER, "", "bn", None) == [Reply("no_grievances")]


# --- rating ----------------------------------------------------------------------------------

def test_a_resolved_complaint_is_rated_once(database):
    number = lodge_resolved(database, seed.DEMO_CITIZEN)
    before = snapshot(database)
    with pytest.raises(PanchayatError) as raised:
        complaining.rate(seed.DEMO_CITIZEN, "9", None, "en")
    assert raised.value.key == "bad_rating" and snapshot(database) == before

    (thanks,) = complaining.rate(seed.DEMO_CITIZEN, "৪ দিলাম", None, "bn")
    assert thanks == Reply("grievance_rated", {"number": number, "rating": "৪"})
    with db.session_scope(database) as session:
        assert grievances.find(session, number).rating == 4

    with pytest.raises(PanchayatError) as raised:
        complaining.rate(seed.DEMO_CITIZEN, f"{number} 5", number, "en")
    assert raised.value.key == "grievance_rated_already"
    assert complaining.rate(seed.DEMO_CITIZEN, "5", None, "en") == [Reply("grievance_nothing_to_rate")]
    with db.session_scope(database) as session:
        assert grievances.find(session, number).rating == 4


def test_the_number_of_the_complaint_is_no_rating(database):
    number = lodge_resolved(database, seed.DEMO_CITIZEN)
    loose = number.lower().replace("-", " ")
    with pytest.raises(PanchayatError) as raised:
        complaining.rate(seed.DEMO_CITIZEN, f"{loose} er rating", None, "en")
    assert raised.value.key == "bad_rating"
    assert complaining.rate(seed.DEMO_CITIZEN, f"{loose} 3", None, "en")[0].params["rating"] == "3"


def test_the_number_of_the_complaint_in_bengali_is_no_rating_either(database):
    number = lodge_resolved(database, seed.DEMO_CITIZEN)
    serial = str(int(number.rsplit("-", 1)[1]))
    bengali = "জিআর ২০২৬ " + serial.translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    (thanks,) = complaining.rate(seed.DEMO_CITIZEN, f"৪ দিলাম, {bengali}", None, "bn")
    assert thanks.params["rating"] == "৪"


def test_nobody_rates_someone_elses_complaint(database):
    number = lodge_resolved(database, "demo-applicant-1")
    assert complaining.rate(STRANGER, f"{number} 5", number, "en") == [Reply("grievance_nothing_to_rate")]
    with db.session_scope(database) as session:
        assert grievances.find(session, number).rating is None


# --- the bare answer to a notification ---------------------------------------------------------

def test_a_bare_rating_answers_the_resolved_complaints_notification(database):
    assert not answering_notifications.answer(seed.DEMO_CITIZEN, "5", "en").understood
    number = lodge_resolved(database, seed.DEMO_CITIZEN)
    before = snapshot(database)
    with pytest.raises(PanchayatError) as raised:
        answering_notifications.answer(seed.DEMO_CITIZEN, "9", "en")
    assert raised.value.key == "bad_rating" and snapshot(database) == before
    assert not answering_notifications.answer(seed.DEMO_CITIZEN, "thik ache", "en").understood

    answered = answering_notifications.answer(seed.DEMO_CITIZEN, "khub bhalo", "bn")
    assert answered.replies == [Reply("grievance_rated", {"number": number, "rating": "৫"})]
    assert answered.download is None
    with db.session_scope(database) as session:
        assert grievances.find(session, number).rating == 5
    # Answered: the question is closed, and another "5" means nothing.
    assert not answering_notifications.answer(seed.DEMO_CITIZEN, "5", "en").understood


def test_ok_pathan_asks_for_the_approved_certificate(database):
    with db.session_scope(database) as session:
        citizen = citizens.get_or_create(session, seed.DEMO_CITIZEN)
        application = applications.submit(session, citizen, "trade_noc", seed.DEMO_FIELDS["trade_noc"])
        applications.start_review(session, application, actor="clerk")
        applications.approve(session, application, actor="pradhan")
        number = application.number
    answered = answering_notifications.answer(seed.DEMO_CITIZEN, "ok pathan", "bn")
    assert answered.download == number and answered.replies == []
    assert not answering_notifications.answer(seed.DEMO_CITIZEN, "na", "bn").understood
