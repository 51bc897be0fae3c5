"""Benchmark: certificate PDF rendering time and size on this machine (prints figures).

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
    from panchayat import certificates, db, documents, migrate, seed
    from panchayat.models import Certificate

    migrate.upgrade()
    with db.session_scope() as session:
        seed.seed_demo(session)
        facts = [certificates.facts(c) for c in session.query(Certificate).order_by(Certificate.id)]
    documents.render_certificate(facts[0])  # warm-up: imports and first font parse
    for item in facts:
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            data = documents.render_certificate(item)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{item['number']} {item['service'].code:<20} median {statistics.median(timings):6.1f} ms  "
              f"p95 {sorted(timings)[int(0.95 * (len(timings) - 1))]:6.1f} ms  size {len(data) / 1024:5.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
