"""Custom Rasa NLU components for Bengali, English and Banglish.

- BengaliTokenizer: whitespace tokens whose text is normalised (NFC, joiners,
  look-alikes, Bengali digits) and whose lemma is a cross-script phonetic key;
  offsets still point into the original message, so entities stay aligned.
- IdentifierExtractor: application, booking and grievance numbers typed loosely,
  in canonical form.
- AnswerShapeClassifier: answers whose meaning needs no training (a "later" phrase is
  cancel, a bare number is inform; no goodbye without a word of leave-taking), set with
  full confidence over the classifier's guess.
- EntityNormalizer: maps extracted values to the contract's normalised values
  (services, categories, languages, months, financial years, LGD codes).
- OurBusinessGuard: a request that names nothing the panchayat does is an answer, not a
  request (panchayat.our_business).
"""

from __future__ import annotations

import logging
import time
from difflib import SequenceMatcher
from typing import Any, Dict, List, Optional, Text, Tuple

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from panchayat.answers import asks_language_change, corrected_intent, is_payload
from panchayat.bengali import normalize, phonetic_key
from panchayat.grievances import GRIEVANCE_CATEGORIES
from panchayat.identifiers import BOOKING_PREFIX, GRIEVANCE_PREFIX, find_identifiers, prefix_of
from panchayat.our_business import REQUEST_INTENTS, SET_ASIDE_KEY, names_our_business
from panchayat.periods import parse_financial_year, parse_month
from panchayat.services import all_services

logger = logging.getLogger(__name__)

# Numbers that are not applications; every other number found is one (of some service).
IDENTIFIER_ENTITIES = {BOOKING_PREFIX: "booking_number", GRIEVANCE_PREFIX: "grievance_number"}
FIXED_CLOSED_VALUES = {
    "grievance_category": set(GRIEVANCE_CATEGORIES),
    "language": {"bn", "en"},
}


# Closed values found only by their own sound (two values, every spelling known), never loosely.
EXACT_ONLY = {"language"}
# Phonetic keys keep consonants: "তে"/"te", "র"/"er" and "কে"/"ke" glued to a known spelling.
CASE_ENDINGS = ("t", "r", "k")
# A key of fewer letters is matched exactly or not at all; longer ones at this similarity.
MIN_FUZZY_KEY = 4
FUZZY_SIMILARITY = 0.75


def _letters(key: str) -> int:
    return len(key.replace(" ", ""))


def closed_values() -> Dict[str, set]:
    """The contract's closed entity values; the services are those defined (panchayat.services)."""
    return {"service": set(all_services()), **FIXED_CLOSED_VALUES}


def identifier_entity(number: str) -> str:
    return IDENTIFIER_ENTITIES.get(prefix_of(number), "application_number")


def span_key(text: str) -> str:
    return " ".join(filter(None, (phonetic_key(word) for word in normalize(text).split())))


def put_on_top(message: Message, intent: str) -> None:
    """`intent` with full confidence, over whatever the classifier guessed (kept in the ranking)."""
    top = {"name": intent, "confidence": 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != intent]
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)


class LearnsFromTrainingData(GraphComponent):
    """A trainable component of ours: what `train` learns is one JSON file (FILENAME) in its
    model resource, and `load` hands it back to the constructor as `learned`."""

    FILENAME = ""

    def __init__(self, model_storage: ModelStorage, resource: Resource, learned: Any = None) -> None:
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GraphComponent:
        learned = None
        try:
            with model_storage.read_from(resource) as storage:
                learned = rasa.shared.utils.io.read_json_file(storage / cls.FILENAME)
        except (ValueError, FileNotFoundError):
            logger.debug("%s has nothing stored", cls.__name__)
        return cls(model_storage, resource, learned)

    def store(self, learned: Any) -> Resource:
        with self._model_storage.write_to(self._resource) as storage:
            rasa.shared.utils.io.dump_obj_as_json_to_file(storage / self.FILENAME, learned)
        return self._resource


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerShapeClassifier(GraphComponent):
    """Closed-class answers (panchayat.answers.answer_intent): "থাক, পরে করব" pauses a form and
    "৫" answers a question, however the statistical classifier happened to read them."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerShapeClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            predicted = (message.get(INTENT) or {}).get("name")
            intent = corrected_intent(message.get(TEXT) or "", predicted)
            if intent is not None:
                put_on_top(message, intent)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class BengaliTokenizer(WhitespaceTokenizer):
    """Whitespace tokens (Bengali words stay whole), normalised, with a phonetic-key lemma."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            text = normalize(token.text).replace(" ", "") or token.text
            token.text = text
            token.lemma = phonetic_key(text) or text.lower()
        return tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class IdentifierExtractor(GraphComponent, EntityExtractorMixin):
    """Finds application, booking and complaint numbers in any spelling and returns them canonical."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IdentifierExtractor:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = [
                {
                    "entity": identifier_entity(value),
                    "start": start,
                    "end": end,
                    "value": value,
                    "confidence": 1.0,
                    "extractor": self.__class__.__name__,
                }
                for start, end, value in find_identifiers(text)
            ]
            if not found:
                continue
            # An identifier is never also part of another entity.
            kept = [
                e
                for e in message.get(ENTITIES, [])
                if not any(e["start"] < f["end"] and f["start"] < e["end"] for f in found)
            ]
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class EntityNormalizer(LearnsFromTrainingData, EntityExtractorMixin):
    """Brings every extracted value to the normalised form of the NLU contract.

    Closed sets (service, grievance_category, language) are matched by phonetic
    key against every spelling seen in training, so a spelling never trained on
    ("tred lisens") still finds its value.
    """

    FILENAME = "normalizer.json"
    GP_CACHE_SECONDS = 300

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        learned: Optional[Dict[str, List[Tuple[str, str]]]] = None,
    ) -> None:
        super().__init__(model_storage, resource)
        # Entity kind -> (phonetic key of a spelling, its normalised value).
        self.spellings = learned or {}
        self._gp_cache: Tuple[float, Dict[str, List[int]]] = (0.0, {})

    def train(self, training_data: TrainingData) -> Resource:
        allowed_values = closed_values()
        spellings: Dict[str, Dict[str, str]] = {entity: {} for entity in allowed_values}
        # A service's own names, in both languages, as its definition gives them; training data may add more.
        for code, service in all_services().items():
            for language in ("en", "bn"):
                for name in (service.title(language), service.in_sentence(language)):
                    spellings["service"][span_key(name)] = code
        synonyms = {key.lower(): value for key, value in training_data.entity_synonyms.items()}
        for example in training_data.entity_examples:
            for entity in example.get(ENTITIES, []):
                kind = entity["entity"]
                if kind not in allowed_values:
                    continue
                surface = example.get(TEXT)[entity["start"] : entity["end"]]
                value = str(entity.get("value", surface))
                value = synonyms.get(value.lower(), value)
                if value in allowed_values[kind]:
                    spellings[kind][span_key(surface)] = value
        for surface, value in synonyms.items():
            for kind, allowed in allowed_values.items():
                if value in allowed:
                    spellings[kind][span_key(surface)] = value
        self.spellings = {kind: sorted(table.items()) for kind, table in spellings.items()}
        return self.store(self.spellings)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES, [])
            if not entities:
                continue
            text = message.get(TEXT) or ""
            allowed_values = closed_values()
            kept = []
            # A language is a value only in a request to change the reply language: "Bangla 2nd
            # paper" or "bangali khabar" names one in passing, and nothing should act on it.
            chooses_language = asks_language_change(text)
            for entity in entities:
                if entity["entity"] == "language" and not chooses_language:
                    continue
                normalised = self.normalise(entity, text, allowed_values)
                if normalised is None and entity["entity"] in allowed_values:
                    # Outside the contract's values ("NOC" alone, "shop"): no entity at all, rather
                    # than a value that every reader downstream would have to guess at.
                    continue
                if normalised is not None and normalised != entity.get("value"):
                    entity["value"] = normalised
                    entity.setdefault("processors", []).append(self.__class__.__name__)
                kept.append(entity)
            message.set(ENTITIES, kept, add_to_output=True)
        return messages

    def normalise(
        self, entity: Dict[str, Any], text: str, allowed_values: Optional[Dict[str, set]] = None
    ) -> Optional[Any]:
        kind, value = entity["entity"], str(entity.get("value", ""))
        surface = text[entity["start"] : entity["end"]] if "start" in entity else value
        allowed_values = allowed_values if allowed_values is not None else closed_values()
        if kind in allowed_values:
            return value if value in allowed_values[kind] else self._closest(kind, surface)
        if kind == "month":
            return parse_month(surface) or parse_month(text)
        if kind == "financial_year":
            return parse_financial_year(surface) or parse_financial_year(text)
        if kind in ("district", "block"):
            codes = lgd_index().get(kind, {}).get(_unit_key(surface), [])
            return codes[0] if len(codes) == 1 else None  # a name shared by two blocks stays a name
        if kind == "gram_panchayat":
            codes = self._gram_panchayat_codes(surface)
            return codes[0] if len(codes) == 1 else None
        return None

    def _closest(self, kind: str, surface: str) -> Optional[str]:
        """The value of the known spelling that sounds like `surface`: the same phonetic key, the
        same with a case ending ("bnlt" for বাংলাতে), or - for keys long enough to compare
        loosely, and never for a language - a key at least 75 % alike. A short key is a skeleton
        of two or three consonants that many unrelated words share ("kbr" for khabar against
        "kbr jl", "bnl" for bangali against "nl"), and "bnlds" (Bangladesh) is not a language."""
        key = span_key(surface)
        table = self.spellings.get(kind, [])
        for known, value in table:
            if known == key:
                return value
        for known, value in table:
            if len(key) == len(known) + 1 and key.startswith(known) and key[-1] in CASE_ENDINGS:
                return value
        if kind in EXACT_ONLY or _letters(key) < MIN_FUZZY_KEY:
            return None
        best, best_score = None, 0.0
        for known, value in table:
            if _letters(known) < MIN_FUZZY_KEY:
                continue
            score = SequenceMatcher(None, key, known).ratio()
            if score > best_score:
                best, best_score = value, score
        return best if best_score >= FUZZY_SIMILARITY else None

    def _gram_panchayat_codes(self, surface: str) -> List[int]:
        """GP names -> LGD codes from the panchayat database, refreshed every few minutes."""
        loaded_at, index = self._gp_cache
        if time.time() - loaded_at > self.GP_CACHE_SECONDS:
            index = gram_panchayat_index()
            self._gp_cache = (time.time(), index)
        return index.get(_unit_key(surface), [])


def _unit_key(name: str) -> str:
    from panchayat.directory import name_key

    return name_key(name)


_LGD_INDEX: Dict[str, Dict[str, List[int]]] = {}


def lgd_index() -> Dict[str, Dict[str, List[int]]]:
    """District and block names (English, LGD and Bengali spellings) -> LGD codes, from the shipped CSVs."""
    if not _LGD_INDEX:
        import csv

        from panchayat.directory import DISTRICT_NAMES_BN, LGD_DIR

        districts: Dict[str, set] = {}
        with open(LGD_DIR / "wb_districts.csv", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                code = int(row["district_code"])
                for name in (row["district_name"], row["district_name_lgd_2026"], DISTRICT_NAMES_BN.get(code, "")):
                    if name:
                        districts.setdefault(_unit_key(name), set()).add(code)
        blocks: Dict[str, set] = {}
        with open(LGD_DIR / "wb_blocks.csv", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                blocks.setdefault(_unit_key(row["block_name"]), set()).add(int(row["block_code"]))
        _LGD_INDEX.update(
            district={k: sorted(v) for k, v in districts.items()}, block={k: sorted(v) for k, v in blocks.items()}
        )
    return _LGD_INDEX


def gram_panchayat_index() -> Dict[str, List[int]]:
    from panchayat.directory import gram_panchayat_names

    try:
        return gram_panchayat_names()
    except Exception as error:  # no database here (e.g. while training): keep the typed name
        logger.debug("GP index unavailable: %s", type(error).__name__)
        return {}


# Extracted values that name our business by themselves: "TN-2026-000045 ki holo", "bagula 1",
# "march 2025", "2024-25". Free values (a date, a person's name) do not.
BUSINESS_ENTITIES = frozenset(
    {
        "service",
        "grievance_category",
        "application_number",
        "booking_number",
        "grievance_number",
        "month",
        "financial_year",
        "gram_panchayat",
        "block",
        "district",
    }
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OurBusinessGuard(LearnsFromTrainingData):
    """A request intent is kept only when the message names something the panchayat does (a word
    of panchayat.our_business or a value in BUSINESS_ENTITIES), or is a training example of that
    request (a trainer labelled it from the inbox: "kobe thik hobe" is a complaint's status);
    otherwise the message is an answer (`inform`), which a form takes as typed and which, outside
    a form, gets a question back. The classifier has seen nothing but requests, so chatter about
    cricket or phones can look like one to it; measured on real chatter:
    scripts/ood_false_accepts.py."""

    FILENAME = "requests_in_our_words.json"

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        learned: Optional[Dict[str, List[str]]] = None,
    ) -> None:
        super().__init__(model_storage, resource)
        # The phonetic key of each training example of a request -> its intents: the same words
        # in either script are the same example.
        self.examples = {key: set(intents) for key, intents in (learned or {}).items()}

    def train(self, training_data: TrainingData) -> Resource:
        examples: Dict[str, set] = {}
        for example in training_data.intent_examples:
            intent = example.get(INTENT)
            if intent in REQUEST_INTENTS and example.get(TEXT):
                examples.setdefault(span_key(example.get(TEXT)), set()).add(intent)
        self.examples = examples
        return self.store({key: sorted(intents) for key, intents in sorted(examples.items())})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            guessed = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if guessed.get("name") not in REQUEST_INTENTS or is_payload(text):
                continue
            if any(entity.get("entity") in BUSINESS_ENTITIES for entity in message.get(ENTITIES, [])):
                continue
            if names_our_business(text, guessed["name"]) or guessed["name"] in self.examples.get(span_key(text), ()):
                continue
            message.set(SET_ASIDE_KEY, dict(guessed), add_to_output=True)
            put_on_top(message, "inform")
        return messages
