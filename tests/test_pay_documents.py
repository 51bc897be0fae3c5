"""Pay slips and annual salary statements: figures, words, totals and names in the PDF text; no PDF
for a month or year without pay. Database tests run on SQLite and PostgreSQL."""
import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from panchayat import db, pay_documents, payroll
from panchayat.cli import main
from panchayat.employees import find_by_code
from panchayat.errors import PanchayatError
from tests.conftest import ROOT, snapshot

BIKASH = "DEMO-EMP-002"
# One month with paise and a zero component, in a year the demo data does not reach.
PAYROLL_CSV = (
    "employee_code,month,basic_pay,dearness_allowance,house_rent_allowance,medical_allowance,other_allowance,"
    "provident_fund,professional_tax,income_tax,other_deduction\n"
    "DEMO-EMP-002,2030-04,\"30,000.50\",4200,3600,500,0,3600,200,1234.25,0\n"
    "DEMO-EMP-002,2030-06,30000,4200,3600,500,1000,3600,200,0,0\n"
)
# 2030-04: gross 38,300.50, deductions 5,034.25, net 33,266.25; 2030-06: gross 39,300.00, deductions 3,800.00,
# net 35,500.00. The year 2030-31: gross 77,600.50, deductions 8,834.25, net 68,766.25.


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def bengali(text: str) -> str:
    """The Bengali letters only: text extraction of shaped Bengali scatters spaces and control
    characters inside words, but keeps the letters in order."""
    return "".join(re.findall(r"[\u0980-\u09ff]", unicodedata.normalize("NFC", text)))


@pytest.fixture
def pay_2030(database, tmp_path):
    path = tmp_path / "payroll.csv"
    path.write_text(PAYROLL_CSV, encoding="utf-8")
    with db.session_scope(database) as session:
        payroll.import_payroll(session, path, "test")
    return database


def facts_for(url, builder, code, period):
    with db.session_scope(url) as session:
        return builder(session, find_by_code(session, code), period)


def test_payslip_shows_names_components_totals_and_net_pay_in_figures_and_words(pay_2030):
    facts = facts_for(pay_2030, pay_documents.payslip_facts, BIKASH, "2030-04")
    assert (facts["gross_paise"], facts["deductions_paise"], facts["net_paise"]) == (3830050, 503425, 3326625)
    data = pay_documents.render_payslip(facts)
    assert data.startswith(b"%PDF") and len(data) <= 60 * 1024
    text = pdf_text(data)
    for fragment in ("Bagula-I Gram Panchayat", "Hanskhali Block", "Pay slip", BIKASH, "Bikash Mondal",
                     "Nirman Sahayak", "April 2030", "Basic pay", "30,000.50", "Dearness allowance", "4,200.00",
                     "Income tax (TDS)", "1,234.25", "38,300.50", "5,034.25", "33,266.25",
                     "Thirty-three thousand two hundred sixty-six rupees and twenty-five paise only", "SAMPLE"):
        assert fragment in text, fragment
    # A component recorded as zero is left off.
    assert "Other allowance" not in text and "Other deduction" not in text
    for words in ("তেত্রিশ হাজার দুশো ছেষট্টি টাকা পঁচিশ পয়সা মাত্র", "বিকাশ মণ্ডল", "নির্মাণ সহায়ক",
                  "এপ্রিল", "বগুলা-১"):
        assert bengali(words) in bengali(text), words


def test_statement_covers_april_to_march_with_months_without_pay_and_totals(pay_2030):
    facts = facts_for(pay_2030, pay_documents.statement_facts, BIKASH, "2030-31")
    assert [row["month"] for row in facts["months"]][:1] + [facts["months"][-1]["month"]] == ["2030-04", "2031-03"]
    assert [row["paid"] for row in facts["months"]] == [True, False, True] + [False] * 9
    assert (facts["gross_paise"], facts["deductions_paise"], facts["net_paise"]) == (7760050, 883425, 6876625)
    data = pay_documents.render_statement(facts)
    assert len(data) <= 60 * 1024
    text = pdf_text(data)
    for fragment in ("Annual salary statement", "2030-31 (April 2030 to March 2031)", "Bikash Mondal",
                     "April 2030", "March 2031", "38,300.50", "33,266.25", "39,300.00", "35,500.00",
                     "77,600.50", "8,834.25", "68,766.25", "Months with pay recorded: 2 of 12",
                     "Sixty-eight thousand seven hundred sixty-six rupees and twenty-five paise only",
                     "Seventy-seven thousand six hundred rupees and fifty paise only",
                     "60,000.50", "1,000.00"):  # component totals: basic pay, other allowance
        assert fragment in text, fragment
    assert text.count("no pay recorded") == 10
    assert bengali("আটষট্টি হাজার সাতশো ছেষট্টি টাকা পঁচিশ পয়সা মাত্র") in bengali(text)


def test_a_month_or_year_without_pay_raises_and_writes_nothing(pay_2030, capsys, tmp_path):
    for builder, period, key in ((pay_documents.payslip_facts, "2030-05", "no_payroll_month"),
                                 (pay_documents.statement_facts, "2031-32", "no_payroll_year")):
        with pytest.raises(PanchayatError) as error:
            facts_for(pay_2030, builder, BIKASH, period)
        assert error.value.key == key and period in error.value.message("en")
    before = snapshot(pay_2030)
    for argv in (["employees", "payslip", BIKASH, "2030-05"], ["employees", "statement", BIKASH, "2031-32"],
                 ["employees", "payslip", "NOBODY", "2030-04"], ["employees", "payslip", BIKASH, "someday"]):
        out = tmp_path / "never.pdf"
        assert main(argv + ["--out", str(out)]) != 0
        assert capsys.readouterr().err.startswith("error: ")
        assert not out.exists()
    assert snapshot(pay_2030) == before


@pytest.mark.parametrize("month", ["2030-13", "30-04", "April"])
def test_bad_month_and_year_are_refused(month):
    with pytest.raises(PanchayatError) as error:
        pay_documents.parse_month_key(month)
    assert error.value.key == "bad_month"
    with pytest.raises(PanchayatError) as error:
        pay_documents.financial_year_months("2030-32")
    assert error.value.key == "bad_financial_year"
    assert pay_documents.financial_year_months("২০৩০-৩১")[::11] == ["2030-04", "2031-03"]


def test_file_names_and_captions(pay_2030):
    slip = facts_for(pay_2030, pay_documents.payslip_facts, BIKASH, "2030-04")
    statement = facts_for(pay_2030, pay_documents.statement_facts, BIKASH, "2030-31")
    assert pay_documents.file_name(slip) == "payslip-DEMO-EMP-002-2030-04.pdf"
    assert pay_documents.file_name(statement) == "salary-statement-DEMO-EMP-002-2030-31.pdf"
    assert pay_documents.caption(slip, "en") == "Your pay slip for April 2030. Net pay: ₹ 33,266.25."
    assert pay_documents.caption(slip, "bn") == "এপ্রিল ২০৩০ মাসের আপনার বেতনপত্র। নিট প্রাপ্য: ₹ ৩৩,২৬৬.২৫।"
    assert "2030-31" in pay_documents.caption(statement, "en") and "68,766.25" in pay_documents.caption(statement, "en")
    assert "২০৩০-৩১" in pay_documents.caption(statement, "bn")


def test_cli_writes_payslip_and_statement_pdfs(pay_2030, capsys, tmp_path):
    out = tmp_path / "slip.pdf"
    assert main(["employees", "payslip", BIKASH, "april 2030", "--out", str(out)]) == 0
    assert "33,266.25" in pdf_text(out.read_bytes())
    out = tmp_path / "statement.pdf"
    assert main(["employees", "statement", BIKASH, "2030-31", "--out", str(out)]) == 0
    assert "68,766.25" in pdf_text(out.read_bytes())


def test_the_documented_sample_files_give_a_pay_slip(database, tmp_path):
    with db.session_scope(database) as session:
        payroll.import_employees(session, ROOT / "docs/samples/employees.csv", "test")
        payroll.import_payroll(session, ROOT / "docs/samples/payroll.csv", "test")
    facts = facts_for(database, pay_documents.payslip_facts, "BGL1-EMP-010", "2026-10")
    # 22,100 + 3,094 + 2,652 + 500 earned, 2,652 + 150 deducted.
    assert facts["net_paise"] == 2554400
    text = pdf_text(pay_documents.render_payslip(facts))
    assert "Sima Roy" in text and "25,544.00" in text and "Twenty-five thousand five hundred forty-four rupees only" in text
