"""Benchmark: certificate, pay slip and salary statement PDFs: rendering time and size on this machine.

    DATABASE_URL=... .venv/bin/python scripts/bench_pdf.py [--runs 30]

Uses a throw-away SQLite database with the demo data unless DATABASE_URL is set.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.db")
    os.environ.setdefault("CERTIFICATE_SIGNING_KEY", "benchmark")
    from datetime import date

    from sqlalchemy import select

    from panchayat import certificates, db, documents, migrate, pay_documents, seed
    from panchayat.employees import find_by_code
    from panchayat.models import Certificate, PayrollLine
    from panchayat.periods import financial_year_of

    migrate.upgrade()
    with db.session_scope() as session:
        seed.seed_demo(session)
        facts = [certificates.facts(c) for c in session.query(Certificate).order_by(Certificate.id)]
        employee = find_by_code(session, "DEMO-EMP-001")
        # The latest month with pay, and the last financial year that is complete in the demo data
        # (twelve months with pay) if there is one, else the latest.
        months = sorted(session.execute(select(PayrollLine.month).where(
            PayrollLine.employee_id == employee.id).group_by(PayrollLine.month)).scalars())
        years = [financial_year_of(date.fromisoformat(m + "-01")) for m in months]
        year = max(years, key=lambda y: (years.count(y), y))
        payslip = pay_documents.payslip_facts(session, employee, months[-1])
        statement = pay_documents.statement_facts(session, employee, year)

    def measure(label: str, render, item) -> None:
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            data = render(item)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{label:<35} median {statistics.median(timings):6.1f} ms  "
              f"p95 {sorted(timings)[int(0.95 * (len(timings) - 1))]:6.1f} ms  size {len(data) / 1024:5.1f} KB")

    documents.render_certificate(facts[0])  # warm-up: imports and first font parse
    for item in facts:
        measure(f"{item['number']} {item['service'].code}", documents.render_certificate, item)
    pay_documents.render_payslip(payslip)  # warm-up of the pay documents' own code path
    measure(f"payslip {payslip['month']}", pay_documents.render_payslip, payslip)
    measure(f"statement {statement['financial_year']} ({statement['months_paid']} months)",
            pay_documents.render_statement, statement)
    # The worst case, a year with pay in every month: the demo's paid month copied into all twelve.
    paid = next(row for row in statement["months"] if row["paid"])
    full_year = dict(statement, months_paid=12, months=[
        dict(row, paid=True, gross_paise=paid["gross_paise"], deductions_paise=paid["deductions_paise"],
             net_paise=paid["net_paise"]) for row in statement["months"]])
    measure(f"statement {statement['financial_year']} (12 months)", pay_documents.render_statement, full_year)
    return 0


if __name__ == "__main__":
    sys.exit(main())
