"""Custom NLU components: normalisation keeps offsets, phonetic keys meet across scripts,
identifiers and values come out in the contract's normalised form."""
from datetime import date

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import BengaliTokenizer, EntityNormalizer, IdentifierExtractor, lgd_index, span_key
from panchayat.bengali import normalize, phonetic_key
from panchayat.periods import financial_year_of, parse_financial_year, parse_month

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize("latin, bengali", [
    ("certificate", "সার্টিফিকেট"), ("abedon", "আবেদন"), ("trade", "ট্রেড"), ("licence", "লাইসেন্স"),
    ("panchayat", "পঞ্চায়েত"), ("chai", "চাই"), ("kokhon", "কখন"), ("nomoskar", "নমস্কার"),
    ("dhonnobad", "ধন্যবাদ"), ("dhanyabad", "ধন্যবাদ"), ("dhonyobad", "ধন্যবাদ"), ("booking", "বুকিং"),
    ("ovijog", "অভিযোগ"), ("beton", "বেতন"), ("bari", "বাড়ি"),
])
def test_a_banglish_word_and_its_bengali_twin_share_a_phonetic_key(latin, bengali):
    assert phonetic_key(latin) == phonetic_key(bengali)


@pytest.mark.parametrize("a, b", [("abedon", "trade"), ("চাই", "নাই"), ("beton", "bari")])
def test_different_words_keep_different_keys(a, b):
    assert phonetic_key(a) != phonetic_key(b)


def test_normalize_unifies_what_looks_the_same():
    composed, decomposed = "\u09df", "\u09af\u09bc"  # য় typed two ways
    assert normalize(composed) == normalize(decomposed)
    assert normalize("\u0985\u09be") == "\u0986"  # অ + া is আ
    assert normalize("ক\u200dখ\u200c") == "কখ"  # joiners go
    assert normalize("২০২৬") == "2026"
    assert normalize("\u09a4\u09cd\u200d") == "\u09ce"  # khanda ta


def tokens(text):
    message = Message.build(text=text)
    tokenizer = BengaliTokenizer(BengaliTokenizer.get_default_config())
    return tokenizer.tokenize(message, "text")


def test_tokens_are_normalised_but_offsets_point_into_the_typed_text():
    text = "আমার টি\u200cএন ২০২৬ ৪৫ চাই।"
    result = tokens(text)
    assert [t.text for t in result] == ["আমার", "টিএন", "2026", "45", "চাই"]
    assert [text[t.start:t.end] for t in result] == ["আমার", "টি\u200cএন", "২০২৬", "৪৫", "চাই"]
    assert result[-1].lemma == phonetic_key("chai")


def test_bengali_words_stay_whole_across_vowel_signs():
    assert [t.text for t in tokens("রাস্তার আলো জ্বলছে না")] == ["রাস্তার", "আলো", "জ্বলছে", "না"]


def extract(text, entities=None):
    message = Message.build(text=text)
    message.set("entities", list(entities or []))
    IdentifierExtractor().process([message])
    return message.get("entities")


@pytest.mark.parametrize("text, entity, value", [
    ("tn/2026/45 er status", "application_number", "TN-2026-000045"),
    ("আমার আবেদন টিএন ২০২৬ ৪৫ এর কী হল", "application_number", "TN-2026-000045"),
    ("cancel gh 2026 7", "booking_number", "GH-2026-000007"),
    ("অভিযোগ জিআর-২০২৬-৩", "grievance_number", "GR-2026-000003"),
    ("BP2026000012 download", "application_number", "BP-2026-000012"),
])
def test_identifier_extractor(text, entity, value):
    (found,) = extract(text)
    assert (found["entity"], found["value"]) == (entity, value)
    assert text[found["start"]:found["end"]].replace(" ", "")[:2].lower() in ("tn", "টি", "gh", "জি", "bp")


def test_identifier_replaces_an_overlapping_guess_of_another_extractor():
    guessed = [{"entity": "date", "start": 3, "end": 7, "value": "2026", "extractor": "DIETClassifier"}]
    (found,) = extract("tn 2026 45", guessed)
    assert found["entity"] == "application_number"


@pytest.fixture(scope="module")
def normalizer(tmp_path_factory):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    component = EntityNormalizer(storage, Resource("normalizer"))
    examples = [
        Message.build(text="trade licence chai", intent="apply_service",
                      entities=[{"entity": "service", "start": 0, "end": 13, "value": "trade_noc"}]),
        Message.build(text="বাড়ি তৈরির অনুমতি চাই", intent="apply_service",
                      entities=[{"entity": "service", "start": 0, "end": 18, "value": "building_permission"}]),
        Message.build(text="রাস্তার আলো নেই", intent="lodge_grievance",
                      entities=[{"entity": "grievance_category", "start": 0, "end": 11, "value": "street_light"}]),
    ]
    component.train(TrainingData(training_examples=examples))
    return component


@pytest.mark.parametrize("entity, surface, value", [
    ("service", "tred lisens", "trade_noc"),
    ("service", "ট্রেড লাইসেন্স", "trade_noc"),
    ("service", "barir toirir onumoti", "building_permission"),
    ("grievance_category", "rastar alo", "street_light"),
    ("service", "pension", None),
])
def test_closed_values_are_found_by_sound(normalizer, entity, surface, value):
    found = {"entity": entity, "start": 0, "end": len(surface), "value": surface}
    assert normalizer.normalise(found, surface) == value


def test_a_closed_entity_outside_the_contract_is_dropped_not_passed_on(normalizer):
    text = "amar business er jonno NOC dorkar"
    message = Message.build(text=text, intent="apply_service")
    message.set("entities", [{"entity": "service", "start": 5, "end": 13, "value": "business_noc"},
                             {"entity": "service", "start": 23, "end": 26, "value": "NOC"},
                             {"entity": "grievance_category", "start": 0, "end": 4, "value": "khabar"}])
    (processed,) = normalizer.process([message])
    assert [(e["entity"], e["value"]) for e in processed.get("entities")] == [("service", "business_noc")]


def test_the_answer_shape_classifier_overrides_only_closed_class_answers():
    from nlu.components import AnswerShapeClassifier

    component = AnswerShapeClassifier()
    messages = []
    for text, guessed in (("থাক, পরে করব", "inform"), ("৫", "rate_grievance"), ("ফরিদা বিবি", "goodbye"),
                          ("amar trade licence chai", "apply_service")):
        message = Message.build(text=text)
        message.set("intent", {"name": guessed, "confidence": 0.9})
        message.set("intent_ranking", [{"name": guessed, "confidence": 0.9}])
        messages.append(message)
    processed = component.process(messages)
    assert [m.get("intent")["name"] for m in processed] == ["cancel", "inform", "inform", "apply_service"]
    assert processed[0].get("intent_ranking")[0] == {"name": "cancel", "confidence": 1.0}


def test_month_and_year_values_and_lgd_codes(normalizer):
    month = {"entity": "month", "start": 0, "end": 10, "value": "10/2026"}
    assert normalizer.normalise(month, "10/2026 er payslip") == "2026-10"
    year = {"entity": "financial_year", "start": 0, "end": 7, "value": "2025-26"}
    assert normalizer.normalise(year, "2025-26 statement") == "2025-26"
    assert normalizer.normalise({"entity": "district", "value": "Nadia"}, "") == 320
    assert normalizer.normalise({"entity": "district", "value": "নদিয়া"}, "") == 320
    assert normalizer.normalise({"entity": "block", "value": "Hanskhali"}, "") == 3029
    assert span_key("trade licence") == span_key("ট্রেড লাইসেন্স")


def test_lgd_index_covers_every_district_and_block():
    index = lgd_index()
    assert len({code for codes in index["district"].values() for code in codes}) == 23
    assert len({code for codes in index["block"].values() for code in codes}) == 346
    # A name two blocks share is not turned into either code.
    shared = [name for name, codes in index["block"].items() if len(codes) > 1]
    for name in shared:
        assert EntityNormalizer.normalise(EntityNormalizer(None, None), {"entity": "block", "value": name}, "") is None


@pytest.mark.parametrize("text, month", [
    ("last month", "2026-10"), ("gato maser", "2026-10"), ("গত মাসের", "2026-10"), ("অক্টোবর", "2026-10"),
    ("10/2026", "2026-10"), ("october 2025", "2025-10"), ("৯/২০২৬", "2026-09"), ("december", "2025-12"),
    ("this month", "2026-11"), ("may I get my payslip", None), ("hello", None),
])
def test_parse_month(text, month):
    assert parse_month(text, TODAY) == month


@pytest.mark.parametrize("text, year", [
    ("2025-26", "2025-26"), ("২০২৪-২৫", "2024-25"), ("FY 2023-24", "2023-24"), ("gato bochor", "2025-26"),
    ("গত বছরের", "2025-26"), ("this year", "2026-27"), ("2025-2026", "2025-26"), ("2025-27", None),
])
def test_parse_financial_year(text, year):
    assert parse_financial_year(text, TODAY) == year


def test_financial_year_runs_april_to_march():
    assert financial_year_of(date(2026, 3, 31)) == "2025-26"
    assert financial_year_of(date(2026, 4, 1)) == "2026-27"


@pytest.fixture(scope="module")
def trained_normalizer(tmp_path_factory):
    """The normaliser trained on the real training data, as the model has it."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.loading import load_data

    storage = LocalModelStorage(tmp_path_factory.mktemp("trained"))
    component = EntityNormalizer(storage, Resource("normalizer"))
    component.train(load_data("data/nlu"))
    return component


@pytest.mark.parametrize("entity, surface, value", [
    ("grievance_category", "khabar", None),  # "food": no kind of complaint
    ("grievance_category", "bangali", None),  # a skeleton of three letters ("bnl") is no "drain" ("nl")
    ("grievance_category", "khabar jol", "drinking_water"),
    ("grievance_category", "rastar alo", "street_light"),
    ("grievance_category", "tubewell", "tube_well"),
    ("service", "tred lisens", "trade_noc"),
    ("language", "bangla", "bn"),
    ("language", "বাংলাতে", "bn"),
    ("language", "ইংরেজিতে", "en"),
    ("language", "bangladesh", None),
    ("language", "বাংলাদেশের", None),
    ("language", "banglalink", None),
])
def test_a_closed_value_needs_a_spelling_that_sounds_like_it(trained_normalizer, entity, surface, value):
    found = {"entity": entity, "start": 0, "end": len(surface), "value": surface}
    assert trained_normalizer.normalise(found, surface) == value


def test_khabar_is_no_complaint_category_but_a_real_spelling_is(trained_normalizer):
    def categories(text, start, end):
        message = Message.build(text=text, intent="lodge_grievance")
        message.set("entities", [{"entity": "grievance_category", "start": start, "end": end,
                                  "value": text[start:end]}])
        (processed,) = trained_normalizer.process([message])
        return [e["value"] for e in processed.get("entities")]

    assert categories("khabar kharap", 0, 6) == []
    assert categories("amader para te drain bondho", 15, 20) == ["drainage"]


@pytest.mark.parametrize("text, language", [
    ("Bangladesh a price koto?", None),
    ("বাংলাদেশের খেলা দেখলাম", None),
    ("Bangla 2nd paper common ashche", None),
    ("english medium school e fees beshi", None),
    ("bangla te bolun", "bn"),
    ("reply in english", "en"),
    ("ইংরেজিতে লিখুন", "en"),
])
def test_a_language_is_extracted_only_from_a_request_to_change_it(trained_normalizer, text, language):
    first = text.split()[0] if language != "en" or text.startswith("ইং") else "english"
    start = text.index(first)
    message = Message.build(text=text, intent="change_language")
    message.set("entities", [{"entity": "language", "start": start, "end": start + len(first), "value": first}])
    (processed,) = trained_normalizer.process([message])
    assert [e["value"] for e in processed.get("entities")] == ([language] if language else [])


def test_change_language_needs_a_request_not_a_mention():
    from nlu.components import AnswerShapeClassifier

    component = AnswerShapeClassifier()
    messages = []
    for text in ("Spin e durbol bangladesh", "তাই একটা ভালো সুযোগ আছে বাংলাদেশের", "Bangla 2nd paper sajetion koty",
                 "english please", "বাংলায় বলুন", "can you reply in bangla"):
        message = Message.build(text=text)
        message.set("intent", {"name": "change_language", "confidence": 0.9})
        message.set("intent_ranking", [{"name": "change_language", "confidence": 0.9}])
        messages.append(message)
    processed = component.process(messages)
    assert [m.get("intent")["name"] for m in processed] == ["inform"] * 3 + ["change_language"] * 3


def _guessed(text: str, intent: str, entities=()) -> Message:
    message = Message.build(text=text)
    message.set("intent", {"name": intent, "confidence": 0.93})
    message.set("intent_ranking", [{"name": intent, "confidence": 0.93}, {"name": "inform", "confidence": 0.04}])
    message.set("entities", list(entities))
    return message


def test_a_request_that_names_nothing_of_ours_is_an_answer_and_keeps_the_guess_for_the_inbox():
    from nlu.components import OurBusinessGuard
    from panchayat.our_business import SET_ASIDE_KEY

    guard = OurBusinessGuard(None, None)
    chatter, request, numbered, place, payload, greeting = guard.process([
        _guessed("সাকিব ভাই চার তো দিলেন, একটা ছয় দরকার", "lodge_grievance"),
        _guessed("amader parar tubewell ta kharap", "lodge_grievance"),
        # Named only by what was extracted: an application number, a gram panchayat.
        _guessed("TN-2026-000045 ki holo", "check_application_status",
                 [{"entity": "application_number", "start": 0, "end": 14, "value": "TN-2026-000045"}]),
        _guessed("bagula 1", "inform_panchayat",
                 [{"entity": "gram_panchayat", "start": 0, "end": 8, "value": 990001}]),
        _guessed('/lodge_grievance{"grievance_category": "road"}', "lodge_grievance"),
        _guessed("dada kemon achen", "greet"),
    ])
    assert chatter.get("intent") == {"name": "inform", "confidence": 1.0}
    assert [r["name"] for r in chatter.get("intent_ranking")] == ["inform", "lodge_grievance"]
    assert chatter.get(SET_ASIDE_KEY) == {"name": "lodge_grievance", "confidence": 0.93}
    assert SET_ASIDE_KEY in chatter.as_dict(only_output_properties=True)  # reaches the tracker store
    for kept, intent in ((request, "lodge_grievance"), (numbered, "check_application_status"),
                         (place, "inform_panchayat"), (payload, "lodge_grievance"), (greeting, "greet")):
        assert kept.get("intent")["name"] == intent
        assert kept.get(SET_ASIDE_KEY) is None


def test_a_request_labelled_in_training_is_kept_in_either_script(tmp_path):
    """A trainer labels "kobe thik hobe" check_grievance_status from the inbox: after retraining,
    that message (and its Bengali-script twin) is that request although it names nothing of ours."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from nlu.components import OurBusinessGuard
    from panchayat.our_business import SET_ASIDE_KEY

    storage = LocalModelStorage(tmp_path)
    resource = Resource("guard")
    guard = OurBusinessGuard.create({}, storage, resource, None)
    guard.train(TrainingData([Message.build(text="kobe thik hobe", intent="check_grievance_status"),
                              Message.build(text="namaskar", intent="greet")]))
    loaded = OurBusinessGuard.load({}, storage, resource, None)
    twin, other_request, unlabelled = loaded.process([
        _guessed("কবে ঠিক হবে", "check_grievance_status"),
        _guessed("kobe thik hobe", "lodge_grievance"),
        _guessed("kobe jabo bolo", "check_grievance_status"),
    ])
    assert twin.get("intent")["name"] == "check_grievance_status"
    assert other_request.get(SET_ASIDE_KEY) == {"name": "lodge_grievance", "confidence": 0.93}
    assert unlabelled.get("intent")["name"] == "inform"
