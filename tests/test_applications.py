"""Applying for a certificate: field parsing, the generic draft machinery, and the form's actions."""
import asyncio
from pathlib import Path

import pytest

from actions.applying import ActionAskApplicationAnswer, ActionDownloadCertificate, ValidateApplicationForm
from panchayat import db
from panchayat.errors import PanchayatError
from panchayat.fields import parse_area, parse_date, parse_field
from panchayat.journeys import applying
from panchayat.journeys.applying import match_service

PDF_BYTES = b"%PDF-1.4\n% a land deed\n"


@pytest.mark.parametrize("typed, value", [
    ("5 katha", "5 katha (3,600 sq ft)"), ("৫ কাঠা", "5 katha (3,600 sq ft)"),
    ("8 decimal", "8 decimal (3,485 sq ft)"), ("3600 sq ft", "3,600 sq ft"), ("১২০০ বর্গফুট", "1,200 sq ft"),
])
def test_land_area_in_any_unit_and_digits(typed, value):
    assert parse_area(typed) == value


@pytest.mark.parametrize("typed", ["5", "five katha", "-2 katha", "5 hectare-ish"])
def test_land_area_without_a_known_unit_is_refused(typed):
    with pytest.raises(PanchayatError) as error:
        parse_area(typed)
    assert error.value.key == "field_invalid_area"


@pytest.mark.parametrize("typed, value", [
    ("01/04/2026", "2026-04-01"), ("২০২৬-০৪-০১", "2026-04-01"), ("1 april 2026", "2026-04-01"),
    ("১ এপ্রিল ২০২৬", "2026-04-01"),
])
def test_dates(typed, value):
    assert parse_date(typed) == value


def test_field_types_check_what_they_must():
    floors = {"name": "floors", "type": "integer", "min": 1, "max": 4}
    assert parse_field(floors, "২ তলা") == 2
    with pytest.raises(PanchayatError):
        parse_field(floors, "9")
    assert parse_field({"type": "number"}, "dag no ১১২৩/২") == "1123/2"
    with pytest.raises(PanchayatError):
        parse_field({"type": "person_name"}, "R2D2")
    with pytest.raises(PanchayatError):
        parse_field({"type": "address"}, "bagula")


def test_draft_asks_fields_then_documents_then_confirms(tmp_path, monkeypatch):
    monkeypatch.setattr("panchayat.config.VAR_DIR", tmp_path)
    deed = tmp_path / "deed.pdf"
    deed.write_bytes(PDF_BYTES)
    draft = applying.new_draft("trade_noc")
    answers = {"trade_name": "Maa Kali Store", "nature_of_trade": "mudi dokan",
               "premises_address": "Bagula bazar, near the bus stand", "owner_name": "Rahim Sheikh",
               "start_date": "01/12/2026"}
    while applying.next_step(draft)[0] == "field":
        name = applying.next_step(draft)[1]
        draft = applying.answer_field(draft, name, answers[name])
    assert applying.next_step(draft) == ("document", "premises_proof")
    with pytest.raises(PanchayatError) as missing:
        applying.answer_document(draft, "premises_proof", "/nowhere/deed.pdf")
    assert missing.value.key == "document_missing"
    not_a_document = tmp_path / "song.mp3"
    not_a_document.write_bytes(b"ID3 music")
    with pytest.raises(PanchayatError) as wrong:
        applying.answer_document(draft, "premises_proof", str(not_a_document))
    assert wrong.value.key == "document_wrong_type"
    draft = applying.answer_document(draft, "premises_proof", str(deed))
    assert applying.next_step(draft) == ("confirm", None)
    assert Path(draft["documents"]["premises_proof"]["path"]).read_bytes() == PDF_BYTES


@pytest.mark.parametrize("typed, field", [
    ("plot number ta bhul hoyeche", "plot_number"),
    ("দাগ নম্বর ভুল হয়েছে", "plot_number"),
    ("the land area is wrong", "land_area"),
    ("khatian number change korte chai", "khatian_number"),
    ("Rina Biswas", None),
])
def test_corrections_name_the_field(typed, field):
    assert applying.correction_target(applying.new_draft("building_permission"), typed) == field


@pytest.mark.parametrize("typed, code", [
    ("trade_noc", "trade_noc"), ("2", "trade_noc"), ("ট্রেড এনওসি", "trade_noc"),
    ("building permission", "building_permission"), ("বাড়ি তৈরির অনুমতি", "building_permission"),
    ("pension", None),
])
def test_service_is_found_from_code_number_or_name(typed, code):
    assert match_service(typed) == code


# --- the form's actions ------------------------------------------------------------------


def validate(slot, value, dispatcher, tracker, domain):
    validator = ValidateApplicationForm()
    return asyncio.run(getattr(validator, f"validate_{slot}")(value, dispatcher, tracker, domain))


def test_a_draft_kept_for_a_service_no_longer_defined_is_set_aside(dispatcher, make_tracker, domain):
    """A definition file removed while a citizen's draft waited: they are told, and asked which
    service, instead of getting "try again" at every answer."""
    draft = {"service": "pension_certificate", "fields": {"applicant_name": "Rina Das"}, "documents": {},
             "editing": None}
    tracker = make_tracker("Rina Das", intent="inform", slots={"language": "en", "application_draft": draft})
    result = validate("application_answer", "Rina Das", dispatcher, tracker, domain)
    assert result == {"service": None, "application_draft": None, "application_answer": None}
    assert dispatcher.messages[-1]["text"].startswith("That service is no longer offered here")


def test_the_form_fills_a_trade_noc_in_banglish_and_submits(sqlite_database, dispatcher, make_tracker, domain,
                                                             tmp_path, monkeypatch):
    monkeypatch.setattr("panchayat.config.VAR_DIR", tmp_path)
    deed = tmp_path / "deed.pdf"
    deed.write_bytes(PDF_BYTES)
    slots = {"language": "bn", "gp_known": True}
    result = validate("service", "trade_noc", dispatcher, make_tracker("trade licence", slots=slots), domain)
    draft = result["application_draft"]
    assert result["service"] == "trade_noc" and draft["fields"] == {}
    for typed in ("Maa Kali Store", "mudi dokan", "Bagula bazar, bus stand er pashe", "Rahim Sheikh", "১/১২/২০২৬",
                  str(deed)):
        tracker = make_tracker(typed, intent="inform", slots=dict(slots, application_draft=draft))
        result = validate("application_answer", typed, dispatcher, tracker, domain)
        assert result["application_answer"] is None
        draft = result["application_draft"]
    assert draft["fields"]["start_date"] == "2026-12-01"
    dispatcher.messages.clear()
    tracker = make_tracker("", slots=dict(slots, application_draft=draft))
    asyncio.run(ActionAskApplicationAnswer().run(dispatcher, tracker, domain))
    (summary,) = dispatcher.messages
    assert "Maa Kali Store" in summary["text"] and [b["payload"] for b in summary["buttons"]] == [
        "/affirm", "/deny", "/cancel"]
    dispatcher.messages.clear()
    tracker = make_tracker("/affirm", intent="affirm", sender="demo-citizen",
                           slots=dict(slots, application_draft=draft))
    result = validate("application_answer", "/affirm", dispatcher, tracker, domain)
    number = result["application_answer"]
    assert number.startswith("TN-") and result["application_draft"] is None
    assert number in dispatcher.messages[0]["text"]
    from panchayat.models import Application
    with db.session_scope(sqlite_database) as session:
        application = session.query(Application).filter_by(number=number).one()
        assert application.status == "submitted" and application.citizen.wa_id == "demo-citizen"
        assert [a.purpose for a in application.attachments] == ["premises_proof"]


def test_a_bad_answer_is_explained_and_asked_again(sqlite_database, dispatcher, make_tracker, domain):
    draft = applying.new_draft("building_permission")
    for name, value in (("applicant_name", "Nirmal Sarkar"), ("guardian_name", "Haripada Sarkar"),
                        ("address", "Purba para, Bagula, PIN 741502"), ("mouza", "Bagula"), ("jl_number", "45"),
                        ("khatian_number", "1123"), ("plot_number", "2301")):
        draft = applying.answer_field(draft, name, value)
    tracker = make_tracker("5", intent="inform", slots={"language": "bn", "application_draft": draft})
    result = validate("application_answer", "5", dispatcher, tracker, domain)
    assert result["application_answer"] is None and "land_area" not in result["application_draft"]["fields"]
    assert "কাঠা" in dispatcher.messages[0]["text"]


def test_a_correction_in_the_middle_goes_back_to_that_field(sqlite_database, dispatcher, make_tracker, domain):
    draft = applying.new_draft("building_permission")
    for name, value in (("applicant_name", "Nirmal Sarkar"), ("guardian_name", "Haripada Sarkar"),
                        ("address", "Purba para, Bagula, PIN 741502"), ("mouza", "Bagula"), ("jl_number", "45"),
                        ("khatian_number", "1123"), ("plot_number", "2301")):
        draft = applying.answer_field(draft, name, value)
    tracker = make_tracker("plot number ta bhul hoyeche", intent="inform",
                           slots={"language": "en", "application_draft": draft})
    result = validate("application_answer", "plot number ta bhul hoyeche", dispatcher, tracker, domain)
    draft = result["application_draft"]
    assert applying.next_step(draft) == ("field", "plot_number")
    result = validate("application_answer", "২৩০৫", dispatcher, make_tracker(
        "২৩০৫", intent="inform", slots={"language": "en", "application_draft": draft}), domain)
    assert result["application_draft"]["fields"]["plot_number"] == "2305"
    assert applying.next_step(result["application_draft"]) == ("field", "land_area")


def test_changing_a_detail_from_the_summary(sqlite_database, dispatcher, make_tracker, domain):
    draft = applying.new_draft("business_noc")
    for name, value in (("business_name", "Bagula Rice Mill"), ("business_type", "agro"),
                        ("business_address", "Station Road, Bagula, Nadia"), ("owner_name", "Farida Bibi"),
                        ("investment_band", "1")):
        draft = applying.answer_field(draft, name, value)
    draft["documents"]["ownership_proof"] = {"path": "/x.pdf", "mime_type": "application/pdf", "size_bytes": 1,
                                             "sha256": "0" * 64}
    result = validate("application_answer", "/deny", dispatcher, make_tracker(
        "/deny", intent="deny", slots={"language": "en", "application_draft": draft}), domain)
    assert result["application_draft"]["choosing_field"] is True
    result = validate("application_answer", "4", dispatcher, make_tracker(
        "4", intent="inform", slots={"language": "en", "application_draft": result["application_draft"]}), domain)
    assert applying.next_step(result["application_draft"]) == ("field", "owner_name")


def test_download_gives_the_pdf_to_the_applicant_only(sqlite_database, dispatcher, make_tracker, domain, monkeypatch,
                                                       tmp_path):
    from panchayat.models import Certificate
    monkeypatch.setattr("panchayat.config.VAR_DIR", tmp_path)
    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "k")
    with db.session_scope(sqlite_database) as session:
        certificate = session.query(Certificate).first()
        number, owner = certificate.number, certificate.application.citizen.wa_id
    tracker = make_tracker(f"{number} download", intent="download_certificate", sender=owner,
                           slots={"language": "en"}, entities=[{"entity": "application_number", "value": number}])
    asyncio.run(ActionDownloadCertificate().run(dispatcher, tracker, domain))
    (message,) = dispatcher.messages
    document = message["custom"]
    assert Path(document["document"]).read_bytes().startswith(b"%PDF") and number in document["caption"]
    dispatcher.messages.clear()
    stranger = make_tracker(f"{number} download", intent="download_certificate", sender="demo-citizen",
                            slots={"language": "en"}, entities=[{"entity": "application_number", "value": number}])
    asyncio.run(ActionDownloadCertificate().run(dispatcher, stranger, domain))
    assert [m.get("custom") or None for m in dispatcher.messages] == [None]
    assert dispatcher.messages[0]["text"] == (f"I could not find application {number} among your applications. "
                                              "Please check the number.")


def test_download_of_a_pending_application_tells_its_status(sqlite_database, dispatcher, make_tracker, domain):
    from panchayat.models import Application
    with db.session_scope(sqlite_database) as session:
        pending = session.query(Application).filter_by(status="under_review").first()
        number, owner = pending.number, pending.citizen.wa_id
    tracker = make_tracker(f"download {number}", intent="download_certificate", sender=owner,
                           slots={"language": "bn"}, entities=[{"entity": "application_number", "value": number}])
    asyncio.run(ActionDownloadCertificate().run(dispatcher, tracker, domain))
    assert dispatcher.messages[0]["text"].startswith(f"আবেদন {number} এখনও অনুমোদিত হয়নি")
