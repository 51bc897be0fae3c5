"""A new certificate service is a YAML file, not code.

A service with a prefix that no code names (ZQ) is written to a folder of its own and made known
through PANCHAYAT_SERVICE_DIRS, as a district would add one: nothing is monkeypatched. It is
applied for through the applying journey, approved with the staff CLI, and its certificate
comes out as a PDF whose QR code verifies.
"""

import io
import json

import pytest
import segno
from pypdf import PdfReader

from panchayat import catalogue, certificates, citizens, config, db, identifiers, services
from panchayat.cli import main as cli
from panchayat.journeys import applying
from panchayat.models import GramPanchayat, Notification

SENDER = "919800000777"
HOME_GP = 990001  # Bagula-I, a sample GP of the demo data
WELL_PERMISSION = """
code: well_permission
order: 9
prefix: ZQ
name: {en: "Well digging permission", bn: "কুয়ো খননের অনুমতি"}
short_name: {en: "well permission", bn: "কুয়োর অনুমতি"}
also: ["kuyo", "কুয়ো", "well"]
fee_rupees: 35
processing_days: 5
validity_years: 2
holder_field: owner_name
fields:
  - name: owner_name
    type: person_name
    label: {en: "Owner", bn: "মালিক"}
    prompt: {en: "Owner's name?", bn: "মালিকের নাম?"}
  - name: depth
    type: integer
    min: 5
    max: 60
    label: {en: "Depth (feet)", bn: "গভীরতা (ফুট)"}
    prompt: {en: "How deep?", bn: "কত গভীর?"}
documents:
  - code: site_plan
    label: {en: "Site plan", bn: "জায়গার নকশা"}
certificate:
  title: {en: "Well Digging Permission", bn: "কুয়ো খননের অনুমতিপত্র"}
  statement:
    en: "{owner_name} may dig a well {depth} feet deep within {gp} Gram Panchayat."
    bn: "{owner_name} {gp} গ্রাম পঞ্চায়েতের মধ্যে {depth} ফুট গভীর কুয়ো খনন করতে পারেন।"
  conditions:
    - {en: "Keep the well covered.", bn: "কুয়োর মুখ ঢেকে রাখতে হবে।"}
"""
PDF_BYTES = b"%PDF-1.4\n% a site plan\n"


@pytest.fixture
def well_service(tmp_path, monkeypatch):
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "well_permission.yml").write_text(WELL_PERMISSION, encoding="utf-8")
    monkeypatch.setenv(services.EXTRA_DIRS_VARIABLE, str(folder))
    return folder


def test_every_shipped_service_is_complete_and_has_a_prefix_of_its_own():
    shipped = services.all_services()
    assert len(shipped) >= 4 and "residence_certificate" in shipped
    prefixes = [service.prefix for service in shipped.values()]
    assert len(set(prefixes)) == len(prefixes)
    assert not set(prefixes) & set(identifiers.FIXED_PREFIXES)
    for service in shipped.values():
        assert service.title("bn") != service.title("en") and service.in_sentence("bn") and service.in_sentence("en")
        assert catalogue.text(f"service_{service.code}", "bn") == service.in_sentence("bn")
        assert service.holder_field in service.field_names
        for field in service.fields:
            assert field["label"]["bn"] and field["label"]["en"] and field["prompt"]["bn"] and field["prompt"]["en"]
        for document in service.documents:
            assert document["label"]["bn"] and document["label"]["en"]
        assert service.certificate["title"]["bn"] and service.certificate["title"]["en"]
        # Typed loosely, in either script, every prefix is found and read as an application number.
        bengali = identifiers.bengali_spelling(service.prefix)
        assert identifiers.parse_application_number(f"{bengali} ২০২৬ ৭") == f"{service.prefix}-2026-000007"
        typed = f"{service.prefix.lower()}/2026/7"
        assert identifiers.parse_application_number(typed) == f"{service.prefix}-2026-000007"
        assert services.service_for_number(f"{service.prefix}-2026-000007") is service


def test_the_residence_certificate_states_what_it_certifies():
    residence = services.get_service("residence_certificate")
    statement = residence.certificate_statement(
        {
            "applicant_name": "Mousumi Das",
            "guardian_name": "Tapan Das",
            "address": "Purba Para, Bagula, PIN 741502",
            "years_of_residence": 12,
            "purpose": "college admission",
            "gp": {"en": "Bagula-I", "bn": "বগুলা-১"},
            "block": {"en": "Hanskhali", "bn": "হাঁসখালি"},
            "district": {"en": "Nadia", "bn": "নদিয়া"},
        }
    )
    assert "Mousumi Das" in statement["en"] and "12 years" in statement["en"] and "Bagula-I Gram" in statement["en"]
    assert "বগুলা-১ গ্রাম পঞ্চায়েতের" in statement["bn"] and "college admission" in statement["bn"]


def test_a_new_service_is_known_everywhere_once_its_file_is_there(tmp_path, monkeypatch):
    assert "well_permission" not in services.all_services() and "ZQ" not in identifiers.known_prefixes()
    assert identifiers.parse_application_number("ZQ-2026-000012") is None
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "well_permission.yml").write_text(WELL_PERMISSION, encoding="utf-8")
    monkeypatch.setenv(services.EXTRA_DIRS_VARIABLE, str(folder))
    well = services.get_service("well_permission")
    assert list(services.all_services())[-1] == "well_permission"  # its `order` puts it last
    assert "ZQ" in identifiers.known_prefixes()
    assert identifiers.parse_application_number("জেডকিউ-২০২৬-১২ এর কী হলো") == "ZQ-2026-000012"
    assert identifiers.parse_identifier("GR-2026-3 ZQ 2026 4", ("ZQ",)) == "ZQ-2026-000004"
    assert services.service_for_number("ZQ-2026-000004") is well
    assert catalogue.text("service_well_permission", "en") == "well permission"
    assert "কুয়োর অনুমতি" in services.names_in_a_list("bn")
    assert well.fee_paise == 3500 and well.button_title("en") == "Well permission"
    # The NLU keeps the service entity's value and reads the number as an application's.
    from nlu.components import closed_values, identifier_entity

    assert "well_permission" in closed_values()["service"]
    assert identifier_entity("ZQ-2026-000004") == "application_number"
    assert identifier_entity("GH-2026-000004") == "booking_number"
    # The menu offers it, as a line and as a button that applies for it.
    from actions.menu import menu_items

    line, title, payload = menu_items("bn")[len(services.all_services()) - 1]
    assert line.startswith("কুয়ো খননের অনুমতি") and payload == '/apply_service{"service": "well_permission"}'


def test_a_new_service_from_application_to_a_verified_certificate(
    database, well_service, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(config, "VAR_DIR", tmp_path / "var")
    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "a-test-key")
    with db.session_scope(database) as session:
        citizens.set_gram_panchayat(
            session, citizens.get_or_create(session, SENDER), session.get(GramPanchayat, HOME_GP)
        )
    site_plan = tmp_path / "site_plan.pdf"
    site_plan.write_bytes(PDF_BYTES)

    # Applying: the journey asks what the definition asks, in the definition's words.
    draft = applying.new_draft("well_permission")
    assert applying.question(draft, "bn").text("bn") == "মালিকের নাম?"
    draft = applying.answer(SENDER, draft, "Kalu Sheikh", "bn").draft
    assert applying.question(draft, "bn").text("bn") == "কত গভীর?"
    draft = applying.answer(SENDER, draft, "৩০ ফুট", "bn").draft
    draft = applying.answer(SENDER, draft, "", "bn", attachment=str(site_plan)).draft
    summary = applying.question(draft, "en").text("en")
    assert "Well digging permission" in summary and "30" in summary and "35" in summary
    filed = applying.answer(SENDER, draft, "yes", "en", intent="affirm")
    number = filed.number
    assert number.startswith("ZQ-") and number in filed.replies[0].text("en")

    # Approval by the staff CLI, which finds the number by the service's prefix.
    assert cli(["--json", "applications", "show", number.lower().replace("-", " ")]) == 0
    assert json.loads(capsys.readouterr().out)["service"] == "well_permission"
    assert cli(["applications", "approve", number, "--by", "Secretary"]) == 0
    capsys.readouterr()
    with db.session_scope(database) as session:
        told = (
            session.query(Notification)
            .filter(Notification.recipient == SENDER, Notification.kind == "application_approved")
            .one()
        )
        # The message names the service by its code; the catalogue has its name from the definition.
        assert told.params["service"] == "well_permission" and told.params["number"] == number
        assert catalogue.text(f"service_{told.params['service']}", told.language) == "কুয়োর অনুমতি"
        facts = certificates.facts(certificates.find(session, number))
    assert facts["valid_until"].year == facts["issued"].year + 2

    # The certificate: downloaded by the applicant through the journey, as a PDF.
    download = applying.download(SENDER, f"download {number}", "bn")
    assert download.pdf is not None, [r.key for r in download.replies]
    reader = PdfReader(str(download.pdf))
    page_text = " ".join(reader.pages[0].extract_text().split())
    assert number in page_text and "Well Digging Permission" in page_text
    assert "Kalu Sheikh may dig a well 30 feet deep within Bagula-I Gram Panchayat." in page_text
    assert "Keep the well covered." in page_text

    # Its QR code carries the verification address, and that address checks out as valid.
    (image,) = reader.pages[0].images
    expected = [[bool(module) for module in row] for row in segno.make(facts["verify_url"], error="m").matrix]
    assert qr_modules(image.image) == expected
    assert cli(["--json", "certificates", "verify", facts["verify_url"]]) == 0
    verified = json.loads(capsys.readouterr().out)
    assert (verified["result"], verified["number"], verified["service"], verified["holder"]) == (
        "valid",
        number,
        "well_permission",
        "Kalu Sheikh",
    )


def qr_modules(picture, scale: int = 4, border: int = 1):
    """The dark/light modules of a QR code drawn as documents.render_certificate draws it (segno,
    `scale` pixels a module, a `border` of one module), read from the image's pixels."""
    grey = picture.convert("L")
    count = grey.width // scale - 2 * border
    return [
        [
            grey.getpixel(((border + col) * scale + scale // 2, (border + row) * scale + scale // 2)) < 128
            for col in range(count)
        ]
        for row in range(count)
    ]


@pytest.mark.parametrize(
    "change, complaint",
    [
        ("prefix: ZQ", "prefix: GH"),  # a booking's prefix
        ("prefix: ZQ", "prefix: TN"),  # another service's prefix
        ("prefix: ZQ", "prefix: Z1"),  # not letters
        ("{depth} feet", "{width} feet"),  # a statement naming no field
    ],
)
def test_a_definition_that_could_not_work_is_refused_when_read(tmp_path, monkeypatch, change, complaint):
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "well_permission.yml").write_text(WELL_PERMISSION.replace(change, complaint), encoding="utf-8")
    monkeypatch.setenv(services.EXTRA_DIRS_VARIABLE, str(folder))
    with pytest.raises(ValueError):
        identifiers.known_prefixes()


def test_a_residence_certificate_is_filed_approved_and_printed_with_its_statement(sqlite_database, monkeypatch):
    from panchayat import applications, documents

    monkeypatch.setenv("CERTIFICATE_SIGNING_KEY", "a-test-key")
    with db.session_scope(sqlite_database) as session:
        citizen = citizens.get_or_create(session, SENDER)
        application = applications.submit(
            session,
            citizen,
            "residence_certificate",
            {
                "applicant_name": "Mousumi Das",
                "guardian_name": "Tapan Das",
                "address": "Purba Para, Bagula, PIN 741502",
                "years_of_residence": 12,
                "purpose": "college admission",
            },
            gp_code=HOME_GP,
        )
        number = application.number
        applications.approve(session, application, "Secretary")
    with db.session_scope(sqlite_database) as session:
        # Found by its number with the prefix typed in Bengali ("আরসি 2026-000001").
        facts = certificates.facts(certificates.find(session, f"আরসি {number[3:]}"))
    assert number.startswith("RC-") and facts["holder"] == "Mousumi Das"
    pdf = PdfReader(io.BytesIO(documents.render_certificate(facts)))
    page = " ".join(pdf.pages[0].extract_text().split())
    assert "Residence Certificate" in page and number in page
    assert "has been residing there for 12 years" in page and "Bagula-I Gram Panchayat" in page
