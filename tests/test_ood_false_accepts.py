"""Real non-panchayat chatter (tests/nlu/ood/heldout.txt, never trained on or tuned against) is
rarely taken for a request (scripts/ood_false_accepts.py): below 3 %.

History of the held-out rate: 17.9 % before change_language needed a request and a country
stopped being a language, 5.4 % after; 1.8 % once a request had to name something of ours
(nlu.components.OurBusinessGuard, panchayat.our_business) with the same trained classifier.
A model trained with out-of-scope negatives had reached 2.4 % at the cost of 1.4 points of
held-out macro-F1, so no negatives are trained on."""

import importlib.util

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.servers  # loads the trained model

MODEL = ROOT / "models" / "panchayat.tar.gz"
MAX_RATE = 0.03


def _script():
    spec = importlib.util.spec_from_file_location("ood_false_accepts", ROOT / "scripts" / "ood_false_accepts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guarded_requests_are_the_transactional_intents_but_the_language_switch():
    from panchayat.our_business import REQUEST_INTENTS

    assert REQUEST_INTENTS == _script().TRANSACTIONAL_INTENTS - {"change_language"}


def test_the_service_intents_are_those_of_the_nlu_evaluation():
    spec = importlib.util.spec_from_file_location("evaluate_nlu", ROOT / "scripts" / "evaluate_nlu.py")
    evaluate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(evaluate)
    assert _script().SERVICE_INTENTS == evaluate.SERVICE_INTENTS


@pytest.mark.skipif(not MODEL.exists(), reason="no trained model")
def test_held_out_chatter_is_rarely_taken_for_a_request():
    script = _script()
    script.quiet()
    heldout = ROOT / "tests" / "nlu" / "ood" / "heldout.txt"
    summary = script.measure(MODEL, [heldout])[heldout.name]
    assert summary["lines"] >= 150
    assert summary["rate"] < MAX_RATE, "\n".join(script.report(heldout.name, summary, examples=5))
    # A country is never a language: talk of Bangladesh never carries a `language` value.
    assert [t for t in summary["language_entities"] if "bangladesh" in t.lower() or "বাংলাদেশ" in t] == []
