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
from difflib import SequenceMatcher
from functools import lru_cache
from typing import FrozenSet, List, Tuple

from panchayat.answers import number_in, stem, words
from panchayat.bengali import normalize, phonetic_key
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


def _same(word: Word, known: Word) -> bool:
    """Stricter than answers._same_word, which picks among the few options a question offered:
    here any word of any message is looked up, so a sound must come with most of the letters."""
    typed, typed_key = word
    listed, listed_key = known
    if typed == listed or stem(typed) == listed or _undoubled(typed) == _undoubled(listed):
        return True
    if len(listed) >= MIN_PREFIX_LETTERS and typed.startswith(listed):
        return True
    # Misspelt: the same sound and most of the letters ("sertifiket" and "sertificate"); a sound
    # alone is not enough ("darun", great, and "drain" share theirs).
    return (
        len(listed_key) >= MIN_SOUNDED_KEY
        and typed_key == listed_key
        and SequenceMatcher(None, typed, listed).ratio() >= MISSPELT_SIMILARITY
    )


def _vocabulary(texts: List[str]) -> Tuple[FrozenSet[Word], Tuple[Tuple[Word, ...], ...]]:
    """Single words apart (looked up one by one) from phrases (matched in order)."""
    singles, phrases = set(), set()
    for text in texts:
        keyed = tuple((normalize(word).lower(), key) for word, key in _keyed(text))
        if len(keyed) == 1:
            singles.add(keyed[0])
        elif keyed:
            phrases.add(keyed)
    return frozenset(singles), tuple(sorted(phrases))


@lru_cache(maxsize=8)
def _our_vocabulary(directories: Tuple[str, ...]) -> Tuple[FrozenSet[Word], Tuple[Tuple[Word, ...], ...]]:
    """Worked out once per set of service definition folders (this runs on every request)."""
    texts = [word for block in _WORDS_BY_TOPIC.values() for word in block.split()]
    texts += [phrase for phrases in _PHRASES_BY_TOPIC.values() for phrase in phrases]
    for service in all_services().values():
        for language in ("en", "bn"):
            texts += [service.title(language), service.in_sentence(language)]
        texts += list(service.also)
    return _vocabulary(texts)


_OFFICE_WORDS = _vocabulary(_PANCHAYAT_INFO_WORDS.split())


def _names_any(keyed: List[Word], vocabulary: Tuple[FrozenSet[Word], Tuple[Tuple[Word, ...], ...]]) -> bool:
    singles, phrases = vocabulary
    if any(_same(word, known) for word in keyed for known in singles):
        return True
    for phrase in phrases:
        for start in range(len(keyed) - len(phrase) + 1):
            if all(_same(keyed[start + i], known) for i, known in enumerate(phrase)):
                return True
    return False


def names_our_business(text: str, intent: str) -> bool:
    """True when `text` names something the panchayat does, enough to be read as `intent`.

    A rating needs only its number ("৫ দিলাম"); the office's hours need only a day or "open"."""
    keyed = _keyed(text)
    if _names_any(keyed, _our_vocabulary(tuple(str(folder) for folder in definition_dirs()))):
        return True
    if intent == "rate_grievance" and number_in(text) is not None:
        return True
    return intent == "panchayat_info" and _names_any(keyed, _OFFICE_WORDS)
