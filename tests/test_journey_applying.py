"""The applying journey and the citizen's own records, on a real database of each kind: starting an
application, answering and correcting it, filing it, its status for the applicant and for a
stranger, and downloading the certificate before and after approval."""
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from panchayat import applications, db
from panchayat.errors import PanchayatError
from panchayat.journeys import applying, my_records
from panchayat.models import Application, Attachment, Citizen
from panchayat.seed import DEMO_CITIZEN

TRADE_ANSWERS = {"trade_name": "Maa Kali Store", "nature_of_trade": "mudi dokan",
                 "premises_address": "Bagula bazar, bus stand er pashe", "owner_name": "Rahim Sheikh",
                 "start_date": "১/১২/২০২৬"}


@pytest.fixture
def var_dir(tmp_path, monkeypatch):
    monkeypatch.setattr("panchayat.config.VAR_DIR", tmp_path / "var")
    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "a-test-key")
    return tmp_path / "var"


@pytest.fixture
def deed(tmp_path):
    path = tmp_path / "deed.pdf"
    path.write_bytes(b"%PDF-1.4\n% a land deed\n")
    return path


def keys(replies):
    return [one.key for one in replies]


def count(url, model, **where):
    with db.session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model).filter_by(**where)).scalar_one()


def own_application(url, wa_id, status):
    with db.session_scope(url) as session:
        return session.execute(select(Application.number).join(Citizen).where(
            Citizen.wa_id == wa_id, Application.status == status).order_by(Application.id)).scalars().first()


def filled_trade_noc(deed):
    draft = applying.choose_service("trade licence", None, "en").draft
    for answer in [*TRADE_ANSWERS.values(), str(deed)]:
        draft = applying.answer(DEMO_CITIZEN, draft, answer, "en").draft
    return draft


def test_starting_names_the_service_or_resumes_its_draft_or_asks_again():
    started = applying.choose_service("ট্রেড লাইসেন্স", None, "bn")
    assert started.service == "trade_noc" and started.draft["fields"] == {}
    assert keys(started.replies) == ["draft_start"]
    begun = dict(started.draft, fields={"trade_name": "Maa Kali Store"})
    resumed = applying.choose_service("trade_noc", begun, "en")
    assert resumed.draft == begun and keys(resumed.replies) == ["draft_resume"]
    other = applying.choose_service("building permission", begun, "en")
    assert other.service == "building_permission" and other.draft["fields"] == {}
    unknown = applying.choose_service("pension", begun, "en")
    assert unknown.service is None and keys(unknown.replies) == ["draft_unknown_service"]
    assert applying.service_meant("let me finish my application", begun) == "trade_noc"
    assert applying.service_meant("let me finish my application", None) is None


def test_answers_are_read_in_order_and_a_wrong_one_changes_nothing(deed, var_dir):
    draft = applying.choose_service("trade_noc", None, "bn").draft
    assert applying.question(draft, "bn").text("bn") == "ব্যবসা বা দোকানের নাম কী?"
    for name, typed in TRADE_ANSWERS.items():
        assert applying.next_step(draft) == ("field", name)
        draft = applying.answer(DEMO_CITIZEN, draft, typed, "bn").draft
    assert draft["fields"]["start_date"] == "2026-12-01"
    assert applying.next_step(draft) == ("document", "premises_proof")
    with pytest.raises(PanchayatError) as missing:
        applying.answer(DEMO_CITIZEN, draft, "/nowhere/deed.pdf", "bn")
    assert missing.value.key == "document_missing"
    draft = applying.answer(DEMO_CITIZEN, draft, "/inform", "bn", attachment=str(deed)).draft
    assert applying.next_step(draft) == ("confirm", None)
    summary = applying.question(draft, "en")
    assert "Maa Kali Store" in summary.text("en")
    assert [b.payload for b in summary.buttons] == ["/affirm", "/deny", "/cancel"]
    with pytest.raises(PanchayatError) as wrong:
        applying.answer(DEMO_CITIZEN, dict(draft, editing="start_date"), "next monsoon", "en")
    assert wrong.value.key == "field_invalid_date"


def test_a_correction_goes_back_to_the_field_it_names_and_the_summary_offers_a_choice(deed, var_dir):
    draft = filled_trade_noc(deed)
    corrected = applying.answer(DEMO_CITIZEN, draft, "malik er naam ta bhul hoyeche", "en")
    assert keys(corrected.replies) == ["draft_correcting"] and "Owner" in corrected.replies[0].text("en")
    assert applying.next_step(corrected.draft) == ("field", "owner_name")
    draft = applying.answer(DEMO_CITIZEN, corrected.draft, "Rahima Bibi", "en").draft
    assert draft["fields"]["owner_name"] == "Rahima Bibi" and applying.next_step(draft) == ("confirm", None)
    changing = applying.answer(DEMO_CITIZEN, draft, "/deny", "en", intent="deny", button="/deny").draft
    assert applying.question(changing, "en").key == "draft_ask_which_field"
    assert keys(applying.answer(DEMO_CITIZEN, changing, "ok", "en").replies) == ["draft_ask_which_field"]
    second = applying.answer(DEMO_CITIZEN, changing, "2", "en").draft
    assert applying.next_step(second) == ("field", "nature_of_trade") and not second["choosing_field"]
    paused = applying.answer(DEMO_CITIZEN, draft, "/cancel", "en", button="/cancel")
    assert paused.paused and paused.draft == draft and paused.number is None


def test_yes_at_the_summary_files_the_application_with_its_document(database, deed, var_dir):
    draft = filled_trade_noc(deed)
    before = count(database, Application)
    filed = applying.answer(DEMO_CITIZEN, draft, "হ্যাঁ", "bn")
    assert filed.draft is None and filed.number.startswith("TN-") and keys(filed.replies) == ["draft_submitted"]
    assert filed.number in filed.replies[0].text("bn")
    assert count(database, Application) == before + 1
    with db.session_scope(database) as session:
        application = applications.find(session, filed.number)
        assert application.status == "submitted" and application.citizen.wa_id == DEMO_CITIZEN
        assert application.fields["owner_name"] == "Rahim Sheikh"
        assert [(a.purpose, a.mime_type) for a in application.attachments] == [("premises_proof", "application/pdf")]


def test_filing_is_refused_and_nothing_written_without_a_gram_panchayat_or_all_answers(database, deed, var_dir):
    draft = filled_trade_noc(deed)
    before = count(database, Application), count(database, Attachment), count(database, Citizen)
    with pytest.raises(PanchayatError) as no_gp:
        applying.answer("new-villager", draft, "/affirm", "en", intent="affirm", button="/affirm")
    assert no_gp.value.key == "gp_required"
    half = dict(draft, fields={"trade_name": "Maa Kali Store"})
    with pytest.raises(PanchayatError) as missing:
        applying.submit(DEMO_CITIZEN, half)
    assert missing.value.key == "draft_incomplete"
    assert (count(database, Application), count(database, Attachment), count(database, Citizen)) == before


def test_status_of_an_own_number_and_of_someone_elses(database):
    number = own_application(database, "demo-applicant-2", "under_review")
    own = my_records.show(my_records.APPLICATIONS, "demo-applicant-2", f"{number.lower().replace('-', ' ')} er ki holo",
                          "en")
    assert keys(own) == ["application_status"] and own[0].text("en").startswith(f"Application {number}")
    stranger = my_records.show(my_records.APPLICATIONS, DEMO_CITIZEN, f"status of {number}", "en")
    unknown = my_records.show(my_records.APPLICATIONS, DEMO_CITIZEN, "status of TN-2026-999999", "en")
    assert keys(stranger) == ["application_not_found"]
    assert stranger[0].text("en") == unknown[0].text("en").replace("TN-2026-999999", number)
    mine = my_records.show(my_records.APPLICATIONS, "demo-applicant-1", "my applications", "en")
    listed = mine[0].text("en")
    assert keys(mine) == ["my_applications"] and number not in listed
    assert own_application(database, "demo-applicant-1", "submitted") in listed
    assert keys(my_records.show(my_records.APPLICATIONS, "someone-new", "amar abedon", "bn")) == ["no_applications"]


def test_bookings_are_shown_to_their_guest_only(database):
    shown = my_records.show(my_records.BOOKINGS, "demo-applicant-1", "amar booking", "bn")
    assert len(shown) == 1 and shown[0].text("bn").startswith("বুকিং GH-")
    number = shown[0].text("bn").split()[1].rstrip(":")
    assert keys(my_records.show(my_records.BOOKINGS, DEMO_CITIZEN, "booking", "en", number)) == ["booking_not_found"]


def test_download_is_refused_before_approval_and_is_a_real_pdf_after(database, var_dir):
    number = own_application(database, "demo-applicant-1", "submitted")
    pending = applying.download("demo-applicant-1", f"download {number}", "en")
    assert pending.pdf is None and keys(pending.replies) == ["certificate_not_ready", "application_status"]
    stranger = applying.download(DEMO_CITIZEN, f"download {number}", "en")
    assert stranger.pdf is None and keys(stranger.replies) == ["application_not_found"]
    assert not (var_dir / "certificates").exists()

    with db.session_scope(database) as session:
        applications.approve(session, applications.find(session, number), actor="test-pradhan")
    ready = applying.download("demo-applicant-1", f"download {number}", "en")
    assert ready.replies == [] and ready.pdf.parent == var_dir / "certificates"
    assert ready.pdf.read_bytes().startswith(b"%PDF") and number in ready.caption.text("en")
    page = PdfReader(str(ready.pdf)).pages[0].extract_text()
    assert number in page
    assert applying.download(DEMO_CITIZEN, f"download {number}", "en").pdf is None
