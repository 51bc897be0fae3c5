"""Whole villager conversations through the real WhatsApp channel (tests/conversations/).

The suite plays every conversation once (scripts/conversations.py: signed webhooks, the Graph API
fake, the notifier, staff commands) and writes results/conversations.md with the success table
and the transcript of every failed conversation. Task success must reach 98% overall and 95% for
every service and every register.
"""
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.servers
OVERALL, EACH = 0.98, 0.95


@pytest.fixture(scope="module")
def suite():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import conversations

    if not (ROOT / "models" / "panchayat.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does it first)")
    played = conversations.load(sorted(conversations.CONVERSATIONS_DIR.glob("*.yml")))
    results = conversations.run_suite(played)
    report = conversations.report(results)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "conversations.md").write_text(report, encoding="utf-8")
    print("\n" + report.split("\n## Failed")[0])
    return conversations, played, results


def test_the_suite_covers_every_service_in_every_register(suite):
    conversations, played, _results = suite
    assert len(played) >= 80
    covered = {(c["service"], c["register"]) for c in played}
    missing = [(s, r) for s in conversations.SERVICES for r in conversations.REGISTERS if (s, r) not in covered]
    assert not missing
    assert all(c.get("done") for c in played), "every conversation says what success is"


def test_task_success_overall(suite):
    conversations, _played, results = suite
    rate = conversations.rates(results)["overall"]
    failed = [f"{r.name}: {'; '.join(r.failures)}" for r in results if not r.ok]
    assert rate >= OVERALL, f"{rate:.0%} of tasks done; see results/conversations.md\n" + "\n".join(failed)


@pytest.mark.parametrize("group", ["service", "register"])
def test_task_success_by_service_and_by_register(suite, group):
    conversations, _played, results = suite
    low = {name: rate for name, rate in conversations.rates(results).items()
           if name.startswith(group + ":") and rate < EACH}
    assert not low, f"below {EACH:.0%}: {low}; see results/conversations.md"
