"""The console's applications and certificates: the queue of the account's GPs, the detail page
with its documents, review, approval, rejection and revocation through the core (so the applicant
is notified as from the CLI), scope (404) and permissions (403); on SQLite and PostgreSQL."""
import base64
import hashlib
import re

from sqlalchemy import func, select

from panchayat import applications, citizens, db
from panchayat.models import Application, Attachment, AuditLog, Certificate, Notification
from panchayat.seed import DEMO_FIELDS, DEMO_GP, SAMPLE_GPS

OTHER_GP = SAMPLE_GPS[1][0]  # in the same block as DEMO_GP
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n% a land deed\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _links(page: str):
    return re.findall(r'<a class="application-link" href="[^"]+">([^<]+)</a>', page)


def _number(url, status, service="trade_noc", gp_code=DEMO_GP) -> str:
    with db.session_scope(url) as session:
        return session.execute(
            select(Application.number).where(Application.status == status, Application.service == service,
                                             Application.gp_code == gp_code).order_by(Application.id)
        ).scalars().first()


def _state(url, number):
    with db.session_scope(url) as session:
        application = session.execute(select(Application).where(Application.number == number)).scalar_one()
        certificate = application.certificate
        return (application.status, len(application.events),
                certificate is not None, certificate.revoked_at if certificate else None,
                session.execute(select(func.count()).select_from(Notification)).scalar(),
                session.execute(select(func.count()).select_from(AuditLog)).scalar())


def _other_gp_application(url) -> str:
    with db.session_scope(url) as session:
        citizen = citizens.get_or_create(session, "919800000777")
        return applications.submit(session, citizen, "trade_noc", DEMO_FIELDS["trade_noc"], gp_code=OTHER_GP).number


def _with_documents(url, tmp_path):
    """A new application of DEMO_GP from a known phone number, with a photo and a PDF."""
    with db.session_scope(url) as session:
        citizen = citizens.get_or_create(session, "919812345678")
        application = applications.submit(session, citizen, "trade_noc", DEMO_FIELDS["trade_noc"], gp_code=DEMO_GP)
        ids = []
        for name, data, mime, purpose in (("photo.png", PNG, "image/png", "premises_proof"),
                                          ("deed.pdf", PDF, "application/pdf", "premises_proof")):
            path = tmp_path / name
            path.write_bytes(data)
            attachment = Attachment(application_id=application.id, purpose=purpose, storage_path=str(path),
                                    mime_type=mime, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
            session.add(attachment)
            session.flush()
            ids.append(attachment.id)
        return application.number, ids


def test_queue_lists_the_gps_applications_oldest_first_and_filters(console):
    other = _other_gp_application(console.url)
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    answer = browser.get("/applications/")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    numbers = _links(page)
    with db.session_scope(console.url) as session:
        expected = list(session.execute(select(Application.number).where(Application.gp_code == DEMO_GP)
                                        .order_by(Application.created_at, Application.id)).scalars())
    assert numbers == expected and len(numbers) == 12 and other not in page
    assert "days" in page and "Gram panchayat" not in page  # one GP: no GP column

    approved = _links(browser.get("/applications/?status=approved").get_data(as_text=True))
    assert len(approved) == 3
    trade = _links(browser.get("/applications/?service=trade_noc").get_data(as_text=True))
    assert len(trade) == 4 and all(number.startswith("TN-") for number in trade)
    both = _links(browser.get("/applications/?status=rejected&service=trade_noc").get_data(as_text=True))
    assert both == [_number(console.url, "rejected")]
    # An unknown filter value is no filter, never an error.
    assert len(_links(browser.get("/applications/?status=bogus").get_data(as_text=True))) == 12


def test_block_officer_sees_every_gp_of_the_block_read_only(console):
    other = _other_gp_application(console.url)
    officer = console.sign_in("block_officer", block_code=SAMPLE_GPS[0][1])
    page = officer.get("/applications/").get_data(as_text=True)
    assert other in _links(page) and len(_links(page)) == 13 and "Gram panchayat" in page and "Bagula-II" in page
    number = _number(console.url, "submitted")
    detail = officer.get(f"/applications/{number}").get_data(as_text=True)
    assert 'id="review-form"' not in detail and 'id="approve-form"' not in detail
    before = _state(console.url, number)
    assert officer.post(f"/applications/{number}/review").status_code == 403
    assert officer.post(f"/applications/{number}/approve").status_code == 403
    assert _state(console.url, number) == before
    # A block officer of another block sees none of them.
    stranger = console.sign_in("block_officer", block_code=SAMPLE_GPS[3][1])
    assert _links(stranger.get("/applications/").get_data(as_text=True)) == []
    assert stranger.get(f"/applications/{number}").status_code == 404


def test_detail_shows_fields_history_and_documents_inline(console, tmp_path):
    number, (photo, deed) = _with_documents(console.url, tmp_path)
    browser = console.sign_in("clerk", gp_code=DEMO_GP)
    page = browser.get(f"/applications/{number}").get_data(as_text=True)
    assert "Maa Tara Bhandar" in page and "Sukanta Mondal" in page
    assert "submitted" in page and "the applicant (WhatsApp)" in page  # the history
    assert "Proof of premises" in page
    assert f'<img class="photo" src="/applications/{number}/attachments/{photo}"' in page
    assert f'<iframe class="document" src="/applications/{number}/attachments/{deed}"' in page
    # The phone number is masked, and no database id but the attachments' shows.
    assert "919812345678" not in page and "5678" in page
    assert 'id="review-form"' in page and 'id="approve-form"' not in page

    image = browser.get(f"/applications/{number}/attachments/{photo}")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == PNG
    assert image.headers["Content-Disposition"].startswith("inline")
    document = browser.get(f"/applications/{number}/attachments/{deed}")
    assert document.mimetype == "application/pdf" and document.data == PDF
    # An attachment under another application's number, and an unknown one, are not found.
    other = _number(console.url, "submitted")
    assert browser.get(f"/applications/{other}/attachments/{photo}").status_code == 404
    assert browser.get(f"/applications/{number}/attachments/999999").status_code == 404
    assert browser.get("/applications/TN-2026-999999").status_code == 404
    assert browser.get("/applications/not-a-number").status_code == 404


def test_staff_of_another_gp_get_404_on_every_route_and_nothing_changes(console, tmp_path):
    number, (photo, _) = _with_documents(console.url, tmp_path)
    approved = _number(console.url, "approved")
    outsider = console.sign_in("pradhan", gp_code=OTHER_GP)
    clerk = console.sign_in("clerk", gp_code=OTHER_GP)
    before = {n: _state(console.url, n) for n in (number, approved)}
    for browser in (outsider, clerk):
        assert number not in browser.get("/applications/").get_data(as_text=True)
        for url in (f"/applications/{number}", f"/applications/{number}/attachments/{photo}",
                    f"/applications/{approved}", f"/applications/{approved}/certificate.pdf"):
            assert browser.get(url).status_code == 404, url
        for url in (f"/applications/{number}/review", f"/applications/{number}/approve",
                    f"/applications/{number}/reject", f"/applications/{approved}/certificate/revoke"):
            assert browser.post(url, {"reason": "not mine"}).status_code == 404, url
    assert {n: _state(console.url, n) for n in (number, approved)} == before


def test_clerk_reviews_but_may_not_decide_or_revoke(console):
    number = _number(console.url, "submitted")
    approved = _number(console.url, "approved")
    clerk = console.sign_in("clerk", gp_code=DEMO_GP)
    answer = clerk.post(f"/applications/{number}/review")
    assert answer.status_code == 302 and answer.location.endswith(f"/applications/{number}")
    page = clerk.get(answer.location).get_data(as_text=True)
    assert "is now under review; the applicant is notified" in page
    with db.session_scope(console.url) as session:
        application = applications.find(session, number)
        assert application.status == "under_review"
        notice = session.execute(select(Notification).where(Notification.citizen_id == application.citizen_id)
                                 .order_by(Notification.id.desc())).scalars().first()
        assert notice.kind == "application_under_review" and notice.params["number"] == number
        audit = session.execute(select(AuditLog).where(AuditLog.entity_ref == number)
                                .order_by(AuditLog.id.desc())).scalars().first()
        assert audit.action == "application_under_review" and f"({clerk.username})" in audit.actor

    before = {n: _state(console.url, n) for n in (number, approved)}
    assert clerk.post(f"/applications/{number}/approve").status_code == 403
    assert clerk.post(f"/applications/{number}/reject", {"reason": "no"}).status_code == 403
    assert clerk.post(f"/applications/{approved}/certificate/revoke", {"reason": "no"}).status_code == 403
    assert {n: _state(console.url, n) for n in (number, approved)} == before
    detail = clerk.get(f"/applications/{approved}").get_data(as_text=True)
    assert 'id="certificate-pdf"' in detail and 'id="revoke-form"' not in detail


def test_pradhan_approves_and_the_applicant_is_notified_as_from_the_cli(console):
    number = _number(console.url, "under_review")
    pradhan = console.sign_in("pradhan", gp_code=DEMO_GP)
    page = pradhan.get(f"/applications/{number}").get_data(as_text=True)
    assert 'id="approve-form"' in page and 'id="reject-form"' in page and 'id="review-form"' not in page
    answer = pradhan.post(f"/applications/{number}/approve")
    assert answer.status_code == 302
    page = pradhan.get(answer.location).get_data(as_text=True)
    assert "approved; the certificate is issued" in page
    assert 'id="certificate-pdf"' in page and 'id="revoke-form"' in page and 'id="approve-form"' not in page
    with db.session_scope(console.url) as session:
        application = applications.find(session, number)
        assert application.status == "approved" and application.certificate is not None
        notice = session.execute(select(Notification).where(Notification.citizen_id == application.citizen_id)
                                 .order_by(Notification.id.desc())).scalars().first()
        assert notice.kind == "application_approved" and notice.status == "pending"
        assert notice.params == {"number": number, "service": "trade_noc"}
        assert notice.recipient == application.citizen.wa_id
        audit = session.execute(select(AuditLog).where(AuditLog.entity_ref == number,
                                                       AuditLog.action == "application_approved")).scalar_one()
        assert audit.actor == f"Test Pradhan {console.count} ({pradhan.username})"

    pdf = pradhan.get(f"/applications/{number}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")

    # A second approval is the core's wrong-state error, and nothing changes.
    before = _state(console.url, number)
    again = pradhan.post(f"/applications/{number}/approve")
    assert "cannot be moved to approved" in pradhan.get(again.location).get_data(as_text=True)
    assert _state(console.url, number) == before


def test_reject_needs_a_reason_and_tells_the_applicant_why(console):
    number = _number(console.url, "submitted", service="business_noc")
    secretary = console.sign_in("secretary", gp_code=DEMO_GP)
    before = _state(console.url, number)
    refused = secretary.post(f"/applications/{number}/reject", {"reason": "   "})
    assert refused.status_code == 302
    assert "A reason is required." in secretary.get(refused.location).get_data(as_text=True)
    assert _state(console.url, number) == before
    secretary.post(f"/applications/{number}/reject", {"reason": "Trade licence copy missing"})
    with db.session_scope(console.url) as session:
        application = applications.find(session, number)
        assert application.status == "rejected" and application.events[-1].note == "Trade licence copy missing"
        notice = session.execute(select(Notification).where(Notification.citizen_id == application.citizen_id)
                                 .order_by(Notification.id.desc())).scalars().first()
        assert notice.kind == "application_rejected" and notice.params["reason"] == "Trade licence copy missing"
    page = secretary.get(f"/applications/{number}").get_data(as_text=True)
    assert "Trade licence copy missing" in page and 'id="reject-form"' not in page


def test_revoking_a_certificate_needs_a_reason(console):
    number = _number(console.url, "approved")
    pradhan = console.sign_in("pradhan", gp_code=DEMO_GP)
    before = _state(console.url, number)
    refused = pradhan.post(f"/applications/{number}/certificate/revoke", {"reason": ""})
    assert "A reason is required." in pradhan.get(refused.location).get_data(as_text=True)
    assert _state(console.url, number) == before
    done = pradhan.post(f"/applications/{number}/certificate/revoke", {"reason": "Issued on a forged deed"})
    page = pradhan.get(done.location).get_data(as_text=True)
    assert "revoked; its QR code now verifies as revoked" in page and 'id="revoke-form"' not in page
    assert "Issued on a forged deed" in page and 'id="certificate-pdf"' not in page
    with db.session_scope(console.url) as session:
        certificate = session.execute(select(Certificate).where(Certificate.number == number)).scalar_one()
        assert certificate.revoked_at is not None and certificate.revoke_reason == "Issued on a forged deed"
        audit = session.execute(select(AuditLog).where(AuditLog.entity_ref == number,
                                                       AuditLog.action == "certificate_revoked")).scalar_one()
        assert pradhan.username in audit.actor
    assert pradhan.get(f"/applications/{number}/certificate.pdf").status_code == 404
    # Not twice: the core's error.
    again = pradhan.post(f"/applications/{number}/certificate/revoke", {"reason": "again"})
    assert "already revoked" in pradhan.get(again.location).get_data(as_text=True)


def test_pages_in_bengali_for_a_bengali_account(console):
    pradhan = console.sign_in("pradhan", gp_code=DEMO_GP, language="bn")
    page = pradhan.get("/applications/").get_data(as_text=True)
    assert "জমা পড়েছে" in page and "পরিষেবা" in page and "১২টি আবেদন" in page
    number = _number(console.url, "submitted")
    detail = pradhan.get(f"/applications/{number}").get_data(as_text=True)
    assert "দেওয়া তথ্য" in detail and "অনুমোদন করে শংসাপত্র দিন" in detail and "ইতিহাস" in detail
    refused = pradhan.post(f"/applications/{number}/reject", {"reason": ""})
    assert "একটি কারণ লিখতে হবে।" in pradhan.get(refused.location).get_data(as_text=True)


def test_pages_need_a_signed_in_account(console):
    number = _number(console.url, "approved")
    client = console.anonymous()
    for url in ("/applications/", f"/applications/{number}", f"/applications/{number}/certificate.pdf"):
        assert client.get(url).location.startswith("/login")
