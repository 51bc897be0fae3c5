"""Certificate PDFs and their signed QR payloads: content, shaping, verification, tampering."""
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from panchayat import certificates, db, documents, signing
from panchayat.errors import PanchayatError
from panchayat.models import Certificate


@pytest.fixture
def signing_key(monkeypatch):
    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "a-test-key")


def first_certificate(url, service="trade_noc"):
    with db.session_scope(url) as session:
        from panchayat.models import Application
        certificate = session.execute(select(Certificate).join(Application)
                                      .where(Application.service == service)).scalars().first()
        return certificate.number, certificates.facts(certificate)


@pytest.mark.parametrize("service", ["trade_noc", "building_permission", "business_noc"])
def test_certificate_pdf_carries_number_names_and_both_languages(sqlite_database, signing_key, tmp_path, service):
    number, facts = first_certificate(sqlite_database, service)
    data = documents.render_certificate(facts)
    assert data.startswith(b"%PDF") and len(data) <= 60 * 1024
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    reader = PdfReader(str(path))
    page = reader.pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((595.28, 841.89), abs=0.5)
    text = page.extract_text()
    assert number in text
    assert facts["holder"] in text
    assert facts["service"].certificate["title"]["en"] in text
    assert "Bagula-I Gram Panchayat" in text and "SAMPLE" in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (Debian poppler-utils)")
def test_rendered_page_shows_real_glyphs(sqlite_database, signing_key, tmp_path):
    _number, facts = first_certificate(sqlite_database)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(documents.render_certificate(facts))
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    (image,) = tmp_path.glob("page*.pgm")
    raw = image.read_bytes()
    pixels = raw[raw.index(b"255\n") + 4:]
    dark = sum(1 for p in pixels if p < 128)
    # Text and the QR code ink a real share of the page; missing glyphs (tofu) or an empty page would not.
    assert 0.01 < dark / len(pixels) < 0.5
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True).stdout
        # Shaped Bengali maps back to its characters: the conjunct in "অনাপত্তি" and the pre-base vowel in "শংসাপত্র".
        assert "অনাপ" in text and "শংসাপ" in text
        assert "।" in text  # the danda comes from the Bengali font


def test_qr_payload_verifies_valid_then_revoked(sqlite_database, signing_key):
    number, facts = first_certificate(sqlite_database)
    with db.session_scope(sqlite_database) as session:
        assert certificates.verify(session, facts["qr_payload"])["result"] == "valid"
        assert certificates.verify(session, facts["verify_url"])["result"] == "valid"
        certificates.revoke(session, certificates.find(session, number), "Issued in error", "secretary")
    with db.session_scope(sqlite_database) as session:
        answer = certificates.verify(session, facts["qr_payload"])
    assert answer["result"] == "revoked" and answer["number"] == number


def test_altered_number_or_name_or_key_fails(sqlite_database, signing_key, monkeypatch):
    number, facts = first_certificate(sqlite_database)
    payload = facts["qr_payload"]
    other = number[:-1] + ("1" if number[-1] != "1" else "2")
    altered_number = payload.replace(number, other)
    altered_name = payload.replace("Sukanta", "Sujata")
    with db.session_scope(sqlite_database) as session:
        assert certificates.verify(session, altered_number) == {"result": "unknown"}
        assert certificates.verify(session, altered_name) == {"result": "unknown"}
        assert certificates.verify(session, "not a payload") == {"result": "unknown"}
        # A payload signed with another key (a forger's) is unknown too.
        monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "forger")
        forged = signing.sign(number, facts["holder"])
        monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "a-test-key")
        assert certificates.verify(session, forged) == {"result": "unknown"}


def test_revoking_needs_a_reason_and_happens_once(sqlite_database, signing_key):
    number, _facts = first_certificate(sqlite_database)
    with pytest.raises(PanchayatError):
        with db.session_scope(sqlite_database) as session:
            certificates.revoke(session, certificates.find(session, number), " ", "secretary")
    with db.session_scope(sqlite_database) as session:
        certificates.revoke(session, certificates.find(session, number), "error", "secretary")
    with pytest.raises(PanchayatError) as again:
        with db.session_scope(sqlite_database) as session:
            certificates.revoke(session, certificates.find(session, number), "again", "secretary")
    assert again.value.key == "certificate_revoked_already"


def test_a_laptop_without_a_configured_key_makes_one_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CERTIFICATE_SIGNING_KEY", raising=False)
    monkeypatch.setattr("panchayat.config.VAR_DIR", tmp_path)
    first = signing.sign("TN-2026-000001", "A B")
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600
    assert signing.sign("TN-2026-000001", "A B") == first
