"""Does a message name something the panchayat does? A request always does.

A villager asking for something names it: a certificate or an application, a service, a
complaint or what is broken, a guest house or a room, a salary, the panchayat or its office,
a person to talk to. Chatter that is not for us ("Share kore dilam vaiya", "সাকিব ভাই চার তো
দিলেন, একটা ছয় দরকার") names none of these, yet the statistical classifier, which has only
ever seen requests, may still read a request into it with high confidence. So a request intent
is kept only when the message names our business; otherwise it is an answer (`inform`), as
`panchayat.answers.corrected_intent` already does for small talk without a word of its own.
Answers to a form's question are not affected: the form takes them as text either way.

The words are listed by topic, in Bengali script, Banglish and English. A service's names
(`panchayat/service_definitions/*.yml`: its name, short name and what villagers call it) count
too, so a new service needs no word here. The NLU adds one more sign the text alone does not
show: an identifier, a service, a complaint category, a month or financial year, or a place
of the LGD directory extracted from the message (nlu.components.OurBusinessGuard).
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Dict, FrozenSet, List, Set, Tuple

from panchayat.answers import number_in, stem, words
from panchayat.bengali import phonetic_key
from panchayat.services import all_services, definition_dirs

# The intents that ask the panchayat for something or change something for the villager.
# (`change_language` has its own, stricter rule: panchayat.answers.asks_language_change.)
REQUEST_INTENTS = frozenset(
    {
        "apply_service",
        "download_certificate",
        "check_application_status",
        "service_info",
        "book_guest_house",
        "cancel_booking",
        "check_booking",
        "lodge_grievance",
        "check_grievance_status",
        "get_payslip",
        "get_salary_statement",
        "talk_to_human",
        "inform_panchayat",
        "rate_grievance",
        "panchayat_info",
    }
)

# Where the NLU keeps a request it set aside for naming nothing of ours (in the parse, and so in the
# tracker store), for the trainers' inbox: a villager's real request in words we lack.
SET_ASIDE_KEY = "request_set_aside"

# Single words (phrases are below); a word also matches with a case ending or a plural glued on
# ("অভিযোগটার", "bookings", "আবেদনগুলো") and, when it has three consonants or more, misspelt
# the way phonetic keys forgive ("sertifiket").
_WORDS_BY_TOPIC = {
    "certificates and applications": """
        certificate sertificate certificet cert sartifiket sartificate সার্টিফিকেট শংসাপত্র
        প্রত্যয়নপত্র সনদ application aplication apply এপ্লাই অ্যাপ্লাই abedon abedan abeden
        আবেদন আবেদনপত্র dorkhasto দরখাস্ত form ফর্ম licence license lisence lisens laisens লাইসেন্স noc এনওসি
        permission parmission onumoti anumoti anumati অনুমতি anumodon onumodon অনুমোদন approval
        approve trade ট্রেড business bebsa byabsa baebsa ব্যবসা ব্যবসায় dokan দোকান status
        স্ট্যাটাস download ডাউনলোড pdf পিডিএফ copy kopi কপি residence basosthan bashosthan বাসস্থান
    """,
    "what a service needs": """
        document documents ডকুমেন্ট kagoj kagojpotro কাগজ কাগজপত্র paper papers fee fees ফি cost
        khoroch খরচ procedure process processing niyom নিয়ম নিয়মকানুন renew nobikoron নবীকরণ
        dolil দলিল aadhaar aadhar আধার khajna খাজনা rosid রসিদ
    """,
    "complaints and what is broken": """
        complaint complain complen grievance obhijog ovijog abhijog অভিযোগ কমপ্লেন কমপ্লেইন nalish
        নালিশ problem somossa সমস্যা report road rasta রাস্তা light alo আলো batti বাতি water jol
        জল pani পানি tubewell tubewel tube kol নলকূপ টিউবওয়েল drain drainage nordoma nodorma
        নর্দমা ড্রেন nala naala নালা garbage moyla ময়লা aborjona আবর্জনা nongra নোংরা toilet শৌচাগার
        bhanga ভাঙা nosto নষ্ট gorto গর্ত kada কাদা gondho durgondho গন্ধ দুর্গন্ধ mosha মশা jongol
        জঙ্গল pukur পুকুর pipe পাইপ current কারেন্ট bidyut বিদ্যুৎ electric ইলেকট্রিক leak লিক
        transformer ট্রান্সফরমার
    """,
    "guest houses": """
        guesthouse অতিথিশালা room rooms rum রুম ghor ঘর booking bukin bukking বুকিং book বুক reservation
        reserve রিজার্ভ cancel batil বাতিল ক্যানসেল
    """,
    "pay documents": """
        salary selary beton বেতন স্যালারি maine mainer মাইনে payslip slip স্লিপ পেস্লিপ statement
        স্টেটমেন্ট employee karmochari কর্মচারী
    """,
    "the panchayat and its people": """
        panchayat panchayet ponchayet ponchayat panchyat পঞ্চায়েত gp pradhan prodhan প্রধান
        upoprodhan উপপ্রধান office offis অফিস block ব্লক bdo secretary sochib সচিব human manush
        মানুষ person staff স্টাফ official officer অফিসার adhikarik আধিকারিক karmi কর্মী agent call
        কল phone fon ফোন jogajog যোগাযোগ
    """,
    "ratings": "rating star স্টার রেটিং",
}
_PHRASES_BY_TOPIC = {
    "complaints and what is broken": ("street light",),
    "guest houses": ("guest house", "atithi nibas", "অতিথি নিবাস", "গেস্ট হাউস", "গেস্ট হাউজ"),
    "pay documents": ("pay slip", "পে স্লিপ"),
    "the panchayat and its people": (
        "talk to",
        "speak to",
        "speak with",
        "kotha bolte",
        "kotha bolbo",
        "কথা বলতে",
        "কথা বলব",
    ),
}
# The office's hours and whereabouts are what "open on saturday?" or "শনিবার খোলা থাকে?" ask
# of the panchayat, after its office was named a message earlier.
_PANCHAYAT_INFO_WORDS = """
    open khola khole kholbe bondho close closed saturday sunday shonibar robibar শনিবার রবিবার
    খোলা খোলে বন্ধ time timing timings hours somoy সময় টাইম contact email address thikana ঠিকানা
"""

# Consonant skeletons this short are shared by unrelated words ("per" and "paper", "main" and
# "maine"): such a word must be spelt as listed.
MIN_SOUNDED_KEY = 3
MISSPELT_SIMILARITY = 0.75
# A listed word of this many letters also matches with an ending glued on ("bookings").
MIN_PREFIX_LETTERS = 4

Word = Tuple[str, str]  # (word, its phonetic key)


def _undoubled(word: str) -> str:
    """A letter held down is the same word ("boook", "bukking")."""
    return re.sub(r"(.)\1+", r"\1", word)


def _keyed(text: str) -> List[Word]:
    return [(word, phonetic_key(stem(word))) for word in words(text)]


@dataclass(frozen=True)
class _Vocabulary:
    """Listed words indexed so that each typed word is looked up, not compared with every entry:
    this runs on every message read as a request."""

    singles: FrozenSet[str]
    phrases: Tuple[Tuple[str, ...], ...]
    listed: FrozenSet[str]  # the single words and the words of the phrases
    by_undoubled: Dict[str, FrozenSet[str]]
    long_listed: FrozenSet[str]  # matched also with an ending glued on
    prefix_lengths: Tuple[int, ...]
    by_sound: Dict[str, Tuple[str, ...]]  # keys of MIN_SOUNDED_KEY letters or more

    @classmethod
    def of(cls, texts: List[str]) -> "_Vocabulary":
        singles: Set[str] = set()
        phrases: Set[Tuple[str, ...]] = set()
        keys: Dict[str, str] = {}
        for text in texts:
            keyed = _keyed(text)
            keys.update(keyed)
            if len(keyed) == 1:
                singles.add(keyed[0][0])
            elif keyed:
                phrases.add(tuple(word for word, _ in keyed))
        by_undoubled: Dict[str, set] = {}
        by_sound: Dict[str, set] = {}
        for word, key in keys.items():
            by_undoubled.setdefault(_undoubled(word), set()).add(word)
            if len(key) >= MIN_SOUNDED_KEY:
                by_sound.setdefault(key, set()).add(word)
        long_listed = frozenset(word for word in keys if len(word) >= MIN_PREFIX_LETTERS)
        return cls(
            singles=frozenset(singles),
            phrases=tuple(sorted(phrases)),
            listed=frozenset(keys),
            by_undoubled={form: frozenset(found) for form, found in by_undoubled.items()},
            long_listed=long_listed,
            prefix_lengths=tuple(sorted({len(word) for word in long_listed})),
            by_sound={key: tuple(sorted(found)) for key, found in by_sound.items()},
        )

    def matches(self, typed: Word) -> Set[str]:
        """The listed words that `typed` is: itself, with an ending cut or glued on, a letter held
        down, or misspelt. Stricter than answers._same_word, which picks among the few options a
        question offered: here any word of any message is looked up, so a sound must come with
        most of the letters ("darun", great, and "drain" share theirs)."""
        word, key = typed
        found = {form for form in (word, stem(word)) if form in self.listed}
        found |= self.by_undoubled.get(_undoubled(word), frozenset())
        found |= {word[:n] for n in self.prefix_lengths if n <= len(word) and word[:n] in self.long_listed}
        found |= {
            listed
            for listed in self.by_sound.get(key, ())
            if SequenceMatcher(None, word, listed).ratio() >= MISSPELT_SIMILARITY
        }
        return found

    def named_in(self, keyed: List[Word]) -> bool:
        matched = [self.matches(word) for word in keyed]
        if any(found & self.singles for found in matched):
            return True
        return any(
            all(phrase[i] in matched[start + i] for i in range(len(phrase)))
            for phrase in self.phrases
            for start in range(len(matched) - len(phrase) + 1)
        )


@lru_cache(maxsize=8)
def _our_vocabulary(directories: Tuple[str, ...]) -> _Vocabulary:
    """Worked out once per set of service definition folders."""
    texts = [word for block in _WORDS_BY_TOPIC.values() for word in block.split()]
    texts += [phrase for phrases in _PHRASES_BY_TOPIC.values() for phrase in phrases]
    for service in all_services().values():
        for language in ("en", "bn"):
            texts += [service.title(language), service.in_sentence(language)]
        texts += list(service.also)
    return _Vocabulary.of(texts)


_OFFICE_WORDS = _Vocabulary.of(_PANCHAYAT_INFO_WORDS.split())


def names_our_business(text: str, intent: str) -> bool:
    """True when `text` names something the panchayat does, enough to be read as `intent`.

    A rating needs only its number ("৫ দিলাম"); the office's hours need only a day or "open"."""
    keyed = _keyed(text)
    if _our_vocabulary(tuple(str(folder) for folder in definition_dirs())).named_in(keyed):
        return True
    if intent == "rate_grievance" and number_in(text) is not None:
        return True
    return intent == "panchayat_info" and _OFFICE_WORDS.named_in(keyed)
