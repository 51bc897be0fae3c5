"""What a villager's short answer to a question means, in Bengali script, Banglish or English.

Every form asks questions; villagers answer them the way they talk: a number in either
script or in words (`২`, `dui`, `two`, `একটা`), yes or no in many ways, "skip" for an optional
step, "stop, later" for the whole form, or one of the offered options by its number, its
title (in the other script, with a typo) or a natural equivalent (`thakar jonno` for
residential). One place decides all of that, so every form and the channel read answers
alike.
"""

import json
import re
from difflib import SequenceMatcher
from typing import Dict, Iterable, List, Optional, Sequence

from panchayat.bengali import normalize, phonetic_key

# Number words up to ten, as villagers type them (`ekta`, `দুটো`, `two`, `tinti`).
_NUMBER_WORDS: Dict[int, str] = {
    1: "ek ekta ekti akta ekta1 eakta one single এক একটা একটি এক্টা একখানা",
    2: "dui duto duti du dudin two double দুই দুটো দুটি দু দুইটা দুইটি",
    3: "tin tinte tinta tinti three তিন তিনটে তিনটি তিনটা",
    4: "char charte charta charti four চার চারটে চারটি চারটা",
    5: "panch pach pachta panchta five পাঁচ পাচ পাঁচটা পাঁচটি",
    6: "choy chhoy choyta six ছয় ছ ছটা ছয়টা",
    7: "sat saat satta seven সাত সাতটা",
    8: "aat at aatta eight আট আটটা",
    9: "noyta nine নয়টা",  # "noy", "নয়" also mean "not": not numbers alone
    10: "dosh dos doshta ten দশ দশটা",
}
NUMBER_WORDS = {normalize(word): value for value, words in _NUMBER_WORDS.items() for word in words.split()}

# A typed "yes" to a confirmation question, in any register.
YES_WORDS = frozenset(
    normalize(w)
    for w in """
    yes y yeah yep yup ok okay okk k sure fine confirm confirmed submit book done go ahead proceed correct right
    please pls plz it all good alright do
    haan han ha haa hya hyan hae ji jee thik ache achhe acche accha achha thikache korun kore din dao koro
    jama joma din dile hobe sob
    হ্যাঁ হ্যা হ্যাঁ হাঁ হা জি ঠিক আছে করুন করে দিন দাও জমা সব হবে চলবে ওকে
""".split()
)
_STRONG_YES = frozenset(
    normalize(w)
    for w in """
    yes y yeah yep yup ok okay okk sure fine confirm confirmed submit book done proceed correct right alright
    haan han ha haa hya hyan hae ji jee thik thikache accha achha jama joma
    হ্যাঁ হ্যা হাঁ হা জি ঠিক করুন জমা ওকে চলবে
""".split()
)

# A typed "no".
NO_WORDS = frozenset(
    normalize(w)
    for w in """
    no nope nah na naa not dont don't do it leave now never noi chai lagbe thak thaak korben korbo kore
    cancel drop dada didi bhai sir madam ji please
    না নয় নাহ চাই লাগবে থাক করবেন করব
""".split()
)
_NEGATIONS = frozenset(normalize(w) for w in "no nope nah na naa not dont never noi না নয় নাহ".split())

# "Skip this question" to an optional step (a photo, a place).
SKIP_WORDS = frozenset(
    normalize(w)
    for w in """
    skip no na nah nei nai lagbe dibo debo dite parbo parchi parbona chai nahi none nothing later pore
    chobi chhobi photo pic picture image location jayga jaiga place ta ti kono amar dorkar nei without
    koro korun kore dao daw please pls plz i have don't dont do not want to give it a can't cannot send share
    tulte tuli parini parlam hoyni ekhon thak ok
    বাদ না নেই নাই লাগবে দেব দিব দিতে পারব পারছি চাই পরে দরকার ছবি ফটো লোকেশন জায়গা টা কোনো আমার ছাড়া দিন din
    করুন করো দাও তুলতে তুলিনি পারিনি হয়নি এখন থাক
""".split()
)
_SKIP_MARKERS = frozenset(
    normalize(w)
    for w in "skip no na nah nei nai none nothing nahi without later pore parini পারিনি বাদ না নেই নাই ছাড়া পরে".split()
)

# "Not now, later": pauses a whole form, keeping what was answered.
_STOP_PHRASES = tuple(
    normalize(p)
    for p in (
        "thak",
        "thaak",
        "thako",
        "thak ekhon",
        "ekhon thak",
        "pore korbo",
        "pore krbo",
        "pore kore",
        "pore janabo",
        "pore asbo",
        "pore abar",
        "abar pore",
        "pore dekhchi",
        "pause",
        "later",
        "do it later",
        "will do later",
        "will come later",
        "come back later",
        "not now",
        "থাক",
        "এখন থাক",
        "পরে করব",
        "পরে করবো",
        "পরে জানাব",
        "পরে জানাবো",
        "পরে আসব",
        "পরে আবার",
        "আবার পরে",
        "পরে দেখছি",
        "থামুন",
        "থামো",
    )
)


def words(text: str) -> List[str]:
    return re.findall(r"[\w\u0980-\u09ff']+", normalize(text or "").lower())


def is_payload(text: str) -> bool:
    """A button's payload (`/affirm`, `/inform{...}`), not words a person typed."""
    return bool(re.match(r"^/[A-Za-z_]+(\{.*\})?$", (text or "").strip(), re.S))


def payload_value(text: str) -> Optional[str]:
    """The value a button's payload carries (`/inform{"choice": "residential"}` -> residential), or None."""
    match = re.match(r"^/[A-Za-z_]+(\{.*\})$", (text or "").strip(), re.S)
    if not match:
        return None
    try:
        values = list(json.loads(match.group(1)).values())
    except (ValueError, AttributeError):
        return None
    return str(values[0]) if len(values) == 1 else None


def number_in(text: str) -> Optional[int]:
    """The first whole number in digits (either script) or number words (`2`, `২`, `dui`, `two`, `একটা`)."""
    cleaned = normalize(text or "")
    match = re.search(r"\d+", cleaned)
    if match:
        return int(match.group(0))
    for word in words(cleaned):
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
        # "2ta", "dui-ta", "দুটো" glued to a classifier
        stem = re.sub(r"(ta|ti|te|khana|টা|টি|টে|খানা)$", "", word)
        if stem in NUMBER_WORDS:
            return NUMBER_WORDS[stem]
    return None


def _spelt(vocabulary: frozenset) -> frozenset:
    """The sounds of a vocabulary's longer words, so that "submitt" or "confrim" still count."""
    return frozenset(phonetic_key(w) for w in vocabulary if len(w) >= 4 and len(phonetic_key(w)) >= 3)


_YES_SOUNDS, _STRONG_YES_SOUNDS = _spelt(YES_WORDS), _spelt(_STRONG_YES)


def _among(word: str, vocabulary: frozenset, sounds: frozenset) -> bool:
    if word in vocabulary or (len(word) >= 4 and phonetic_key(word) in sounds):
        return True
    # Two letters swapped in a long word ("sumbit", "confrim").
    return len(word) >= 6 and any(
        len(known) >= 6
        and abs(len(known) - len(word)) <= 1
        and known[0] == word[0]
        and SequenceMatcher(None, word, known).ratio() >= 0.8
        for known in vocabulary
    )


def is_yes(text: str) -> bool:
    found = words(text)
    return (
        bool(found)
        and len(found) <= 5
        and all(_among(w, YES_WORDS, _YES_SOUNDS) for w in found)
        and any(_among(w, _STRONG_YES, _STRONG_YES_SOUNDS) for w in found)
        and not any(w in _NEGATIONS for w in found)
    )


def is_no(text: str) -> bool:
    found = words(text)
    return (
        bool(found)
        and len(found) <= 5
        and all(w in NO_WORDS for w in found)
        and (any(w in _NEGATIONS for w in found) or found in (["thak"], ["থাক"]))
    )


def is_skip(text: str) -> bool:
    """A short answer that declines an optional step: `skip`, `na`, `chobi nei`, `ছবি নেই`, `বাদ দিন`."""
    found = words(text)
    return (
        bool(found)
        and len(found) <= 7
        and all(w in SKIP_WORDS for w in found)
        and any(w in _SKIP_MARKERS for w in found)
    )


# Alone, or nearly: "stop", "wait", "ruko" pause too; in a longer message they may mean anything.
_SHORT_STOPS = frozenset(normalize(w) for w in "stop wait pause hold ruko ruk dara darao দাঁড়াও দাঁড়ান রুকো থামো".split())


# Words that say something given is wrong and must change ("bhul", "ভুল", "wrong").
CORRECTION_WORDS = (
    "bhul",
    "vul",
    "bul",
    "ভুল",
    "wrong",
    "change",
    "correct",
    "bodlate",
    "bodlao",
    "bodlabo",
    "বদল",
    "পাল্টা",
    "thik koro",
    "সংশোধন",
    "edit",
    "mistake",
    "incorrect",
    "galat",
    "ঠিক করুন",
    "ঠিক করতে",
    "update",
    "modify",
)


def is_correction(text: str) -> bool:
    cleaned = normalize(text or "").lower()
    return any(word in cleaned for word in CORRECTION_WORDS)


def is_stop(text: str) -> bool:
    """ "Not now, later" for the whole form (`থাক, এখন থাক। পরে করব`, `pore korbo`, `stop, I will do it later`);
    "দাঁড়ান, জে এল নম্বরটা ভুল দিয়েছি" is a correction, not a pause."""
    if is_correction(text):
        return False
    found = words(re.sub(r"(?i)thik ?thak|ঠিকঠাক|ঠিক ঠাক", " ", normalize(text or "")))  # "so-so", not "stop"
    if not found or len(found) > 10:
        return False
    joined = " " + " ".join(found) + " "
    if any(f" {phrase} " in joined for phrase in _STOP_PHRASES):
        return True
    return len(found) <= 3 and any(w in _SHORT_STOPS for w in found)


# --- Choosing one of the options offered ---------------------------------------------------


def _key(text: str) -> str:
    return "".join(phonetic_key(w) for w in words(text))


# Case endings and classifiers glued to a word ("অনুমতির", "dokaner", "naam ta"): the word is the same.
_ENDINGS = re.compile(r"(?<=[\w\u0980-\u09ff]{2})(ের|এর|র|কে|তে|টা|টি|er|ke|te|ta|ti|'s)$")


def stem(word: str) -> str:
    return _ENDINGS.sub("", word)


def _word_keys(text: str) -> List[str]:
    """The phonetic keys of a text's words, endings cut ("অনুমতির" and "onumoti" meet)."""
    return [k for k in (phonetic_key(stem(w)) for w in words(text)) if len(k) >= 2]


def match_option(typed: str, options: Sequence[Dict], allow_contained: bool = True) -> Optional[str]:
    """The value of the option a typed answer picks, or None.

    Each option is {"value": ..., "labels": [title, other-script title, natural equivalents ...]}.
    In order: its number (any script or words); a label typed whole, in either script or with a
    small typo; a natural equivalent contained in the answer ("for my family to stay"); words that
    only one option's labels have ("samiti guest house"). An answer that fits two options picks none.
    """
    cleaned = normalize(typed or "").strip()
    if not cleaned or not options:
        return None
    if re.fullmatch(r"\W*(\d+|[^\W\d]+)\W*", cleaned):
        number = number_in(cleaned)
        if number is not None and (cleaned.strip(" .।)").isdigit() or len(words(cleaned)) == 1):
            return options[number - 1]["value"] if 1 <= number <= len(options) else None
    folded = " ".join(words(cleaned))
    typed_key = _key(cleaned)
    for option in options:
        for label in option["labels"]:
            if " ".join(words(label)) == folded or (len(typed_key) >= 3 and _key(label) == typed_key):
                return option["value"]
    if allow_contained:
        # A natural equivalent inside a longer answer: "for my family to stay", "amar dokan er jonno",
        # "mobile and tv repairing", "১০ থেকে ৫০ লাখের মধ্যে".
        typed_words = words(cleaned)
        contained = {
            option["value"]
            for option in options
            for label in option["labels"][2:]
            if _contains(typed_words, words(label))
        }
        if len(contained) == 1:
            return contained.pop()
    # A title with a small typo ("submitt", "Comercial"): close in sound, and closer than any other.
    scores = sorted(
        (
            (SequenceMatcher(None, typed_key, _key(label)).ratio(), option["value"])
            for option in options
            for label in option["labels"][:2]
            if len(_key(label)) >= 4
        ),
        reverse=True,
    )
    if (
        len(typed_key) >= 4
        and scores
        and scores[0][0] >= 0.8
        and (len(scores) == 1 or scores[1][1] == scores[0][1] or scores[1][0] < scores[0][0] - 0.05)
    ):
        return scores[0][1]
    if not allow_contained:
        return None
    # Words that only one option has: "samiti guest house", "the gp one".
    typed_keys = set(_word_keys(cleaned))
    owners: Dict[str, set] = {}
    for option in options:
        for label in option["labels"]:
            for key in _word_keys(label):
                owners.setdefault(key, set()).add(option["value"])
    votes: Dict[str, int] = {}
    for key in typed_keys:
        owning = owners.get(key, set())
        if len(owning) == 1:
            value = next(iter(owning))
            votes[value] = votes.get(value, 0) + 1
    if len(votes) == 1:
        return next(iter(votes))
    return None


def _same_word(typed: str, known: str) -> bool:
    """The same word give or take an ending or a spelling: "লাখের"/"লাখ", "repairing"/"repair"."""
    if typed == known or stem(typed) == stem(known):
        return True
    if typed[:1] != known[:1] or typed.isdigit() or known.isdigit():
        return False
    key, known_key = phonetic_key(typed), phonetic_key(known)
    return len(known_key) >= 3 and (key == known_key or key.startswith(known_key))


def _contains(typed: List[str], phrase: List[str]) -> bool:
    """Whether the phrase's words stand in a row among the typed words."""
    if not phrase or len(phrase) > len(typed):
        return False
    return any(
        all(_same_word(typed[start + i], word) for i, word in enumerate(phrase))
        for start in range(len(typed) - len(phrase) + 1)
    )


def options_from(choices: Iterable[Dict], value_key: str = "value") -> List[Dict]:
    """Options for match_option from definition choices ({value, en, bn, also: [...]})."""
    return [
        {
            "value": choice[value_key],
            "labels": [
                choice.get("en") or "",
                choice.get("bn") or "",
                *(choice.get("also") or []),
                str(choice[value_key]),
            ],
        }  # a tapped button sends the value itself
        for choice in choices
    ]


def count_of(text: str, nouns: Iterable[str]) -> Optional[int]:
    """The number said with one of `nouns`: "2 rooms", "২টা ঘর", "dui ta room", "one room", "rooms: 2"."""
    nouns = {normalize(n) for n in nouns}
    found = words(text)
    for index, word in enumerate(found):
        if word not in nouns:
            continue
        before = [w for w in found[max(0, index - 2) : index] if w not in ("ta", "ti", "টা", "টি", "khana")]
        for candidate in reversed(before[-1:]):
            number = number_in(candidate)
            if number is not None:
                return number
        if index + 1 < len(found) and found[index + 1].isdigit():
            return int(found[index + 1])
    return None


# Words without which a message is no goodbye, whatever a classifier thinks ("ফরিদা বিবি" is a name).
_GOODBYE_MARKERS = tuple(
    normalize(p)
    for p in (
        "bye",
        "byee",
        "byebye",
        "bai",
        "bidai",
        "take care",
        "end this",
        "i am done",
        "biday",
        "tata",
        "asi",
        "aschi",
        "ashchi",
        "asci",
        "rakhchi",
        "rakhi",
        "rakhlam",
        "goodbye",
        "good night",
        "see you",
        "talk later",
        "kotha hobe",
        "lagbe na",
        "dorkar nei",
        "that's all",
        "thats all",
        "that is all",
        "eituku",
        "etukui",
        "nothing more",
        "bondho",
        "close",
        "exit",
        "done for today",
        "বাই",
        "বিদায়",
        "টাটা",
        "আসি",
        "আসছি",
        "রাখছি",
        "রাখি",
        "গুড নাইট",
        "শুভ রাত্রি",
        "কথা হবে",
        "লাগবে না",
        "দরকার নেই",
        "এটুকুই",
        "এইটুকুই",
        "বন্ধ",
    )
)


def is_goodbye(text: str) -> bool:
    """Whether a message has a word of leave-taking in it (`bye`, `asi`, `আসি`, `রাখছি`, `see you`)."""
    joined = " " + " ".join(words(text)) + " "
    return any(f" {marker} " in joined or (len(marker) > 4 and marker in joined) for marker in _GOODBYE_MARKERS)


_DOWNLOAD = re.compile(r"(?i)download|ডাউনলোড|daunlod|downlod")


def _asks_download(text: str) -> bool:
    """ "download TN-2026-000045" as the approval message tells: the word and an application's number."""
    from panchayat.identifiers import parse_application_number

    return bool(_DOWNLOAD.search(text)) and parse_application_number(text) is not None and len(words(text)) <= 8


_BARE_NUMBER = re.compile(
    r"^\W*(\d{1,3}|" + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True)) + r")"
    r"\s*(ta|ti|টা|টি|dilam|dilaam|dilum|দিলাম|দিলুম|star|stars|তারা|no|nombor|number|নম্বর)?\W*$"
)


def answer_intent(text: str) -> Optional[str]:
    """The intent of an answer whose meaning needs no training: a stop-and-come-back-later
    phrase is `cancel`; a bare number (`৫`, `4 dilam`, `dui`) is `inform`; a short yes (`submit`,
    `হ্যাঁ ঠিক আছে`) is `affirm` and a short no (`না থাক`) `deny`. None for the rest."""
    if not text or is_payload(text):
        return None
    if _asks_download(text):
        return "download_certificate"
    if is_stop(text) and not is_no(text) and not is_goodbye(text) and not is_skip(text):
        return "cancel"
    if _BARE_NUMBER.match(normalize(text).lower()):
        return "inform"
    if is_yes(text):
        return "affirm"
    if is_no(text) and not is_stop(text):
        return "deny"
    return None


# Intents of small talk and of the menu have words of their own; without one, a message so
# classified is an answer ("Laxmi Haldar" is not a greeting, "service" is not the menu).
_MARKERS = {
    "greet": (
        "hello",
        "helo",
        "hallo",
        "hi",
        "hii",
        "hey",
        "namaste",
        "namaskar",
        "nomoskar",
        "nomoshkar",
        "pronam",
        "pranam",
        "assalamu",
        "salam",
        "adab",
        "good morning",
        "good evening",
        "good afternoon",
        "suprobhat",
        "keu achen",
        "ki khobor",
        "kemon achen",
        "kemon acho",
        "হ্যালো",
        "কেমন আছেন",
        "হাই",
        "নমস্কার",
        "নমষ্কার",
        "নমস্তে",
        "প্রণাম",
        "সালাম",
        "আসসালামু",
        "আদাব",
        "শুভ সকাল",
        "সুপ্রভাত",
        "শুভ সন্ধ্যা",
        "কেউ আছেন",
    ),
    "thank_you": (
        "thank",
        "thanks",
        "thnx",
        "thx",
        "tnx",
        "ty",
        "thanku",
        "dhonnobad",
        "dhanyabad",
        "dhonyobad",
        "dhonnyobad",
        "donnobad",
        "dhonnobaad",
        "upokar",
        "ধন্যবাদ",
        "ধইন্যবাদ",
        "উপকার",
        "থ্যাংক",
        "থ্যাঙ্কস",
        "থ্যাঙ্ক",
    ),
    "show_menu": (
        "menu",
        "help",
        "what can you do",
        "can i do",
        "what all",
        "what services",
        "which services",
        "list of services",
        "services are there",
        "options",
        "option",
        "start",
        "seba",
        "subidha",
        "সুবিধা",
        "ki ki",
        "kora jay",
        "korte paren",
        "korte paro",
        "sahajya",
        "sahajyo",
        "shuru",
        "মেনু",
        "সাহায্য",
        "কী কী",
        "কি কি",
        "পরিষেবার",
        "তালিকা",
        "শুরু",
        "অপশন",
        "করা যায়",
        "করতে পারেন",
        "করতে পারো",
        "হেল্প",
    ),
    "bot_challenge": (
        "bot",
        "robot",
        "human",
        "manush",
        "manusher",
        "are you",
        "is this",
        "am i",
        "who are you",
        "apni ke",
        "tumi ke",
        "eta ki",
        "real person",
        "automatic",
        "machine",
        "মানুষ",
        "মানুষের",
        "রোবট",
        "বট",
        "আপনি কে",
        "তুমি কে",
        "এটা কি",
        "যন্ত্র",
        "স্বয়ংক্রিয়",
        "uttor ki",
        "ki computer",
        "auto",
        "auto reply",
        "উত্তর কি",
        "মেশিন",
        "কি কম্পিউটার",
    ),
    # Questions about the office or a service, which rules answer in the middle of a form.
    "panchayat_info": (
        "office",
        "ofis",
        "offis",
        "pradhan",
        "prodhan",
        "prdhan",
        "upoprodhan",
        "sochib",
        "sachib",
        "secretary",
        "phone",
        "contact",
        "jogajog",
        "address",
        "thikana",
        "kothay",
        "kothai",
        "where",
        "located",
        "reach",
        "time",
        "timing",
        "timings",
        "somoy",
        "khola",
        "khole",
        "open",
        "close",
        "bondho",
        "hours",
        "saturday",
        "sunday",
        "shonibar",
        "robibar",
        "email",
        "details",
        "info",
        "information",
        "tothyo",
        "somporke",
        "janan",
        "kotay",
        "obdhi",
        "panchayat er number",
        "পঞ্চায়েতের নম্বর",
        "অফিস",
        "প্রধান",
        "উপপ্রধান",
        "সচিব",
        "ফোন",
        "যোগাযোগ",
        "ঠিকানা",
        "কোথায়",
        "টাইম",
        "সময়",
        "খোলা",
        "খোলে",
        "বন্ধ",
        "শনিবার",
        "রবিবার",
        "ইমেল",
        "তথ্য",
        "সম্পর্কে",
        "কটা",
        "কটায়",
    ),
    "service_info": (
        "fee",
        "fees",
        "taka",
        "cost",
        "khoroch",
        "document",
        "documents",
        "kagoj",
        "kagojpotro",
        "papers",
        "paper",
        "days",
        "din",
        "time",
        "somoy",
        "niyom",
        "rules",
        "procedure",
        "process",
        "how to",
        "kivabe",
        "eligibility",
        "jante",
        "somporke",
        "about",
        "lage",
        "lagbe",
        "needed",
        "need",
        "required",
        "dorkar",
        "aadhaar",
        "deed",
        "online",
        "renew",
        "nobikoron",
        "ফি",
        "টাকা",
        "খরচ",
        "ডকুমেন্ট",
        "কাগজ",
        "কাগজপত্র",
        "দিন",
        "সময়",
        "নিয়ম",
        "নিয়মকানুন",
        "কীভাবে",
        "জানতে",
        "সম্পর্কে",
        "লাগে",
        "লাগবে",
        "দরকার",
        "দলিল",
        "রসিদ",
        "নবীকরণ",
        "কতদিন",
    ),
}
_MARKERS = {intent: tuple(normalize(m) for m in markers) for intent, markers in _MARKERS.items()}


def _sounds_like(word: str, word_key: str, marker: str, marker_key: str) -> bool:
    """A word that is the marker misspelt ("thanx", "ধন্নবাদ", "hlw") or with an ending ("মেনুতে"),
    beginning with the same letter ("Islam" is a name, not "salam")."""
    if word == marker:
        return True
    if word[:1] != marker[:1] or len(marker_key) < 2 or len(word_key) < 2:
        return False
    return word_key == marker_key or (len(marker_key) >= 4 and word_key.startswith(marker_key))


# Each marker with its sound, worked out once (this runs on every message).
_MARKER_SOUNDS = {intent: [(m, phonetic_key(m)) for m in markers] for intent, markers in _MARKERS.items()}


def has_marker(intent: str, text: str) -> bool:
    found = words(text)
    joined = " " + " ".join(found) + " "
    keyed = [(word, phonetic_key(stem(word))) for word in found]
    for marker, marker_key in _MARKER_SOUNDS[intent]:
        if " " in marker:
            if f" {marker} " in joined:
                return True
        elif any(_sounds_like(word, key, marker, marker_key) for word, key in keyed):
            return True
    return False


# --- A request to change the reply language -------------------------------------------------
# "bangla", "english" or "বাংলাদেশ" in chatter ("Bangla 2nd paper common ashche", "Bangladesh a
# price koto?") is not a request: `change_language` needs a language (or the word "language")
# together with a word asking for it - a verb of speaking, writing or replying right after it
# ("bangla te bolun", "ইংরেজিতে লিখুন", "english e reply din"), "in"/"to"/"speak"/"use" right
# before it ("reply in english"), a verb of changing next to "language"/"ভাষা" ("ভাষা বদলাও"),
# or the language alone as the whole message ("english please", "বাংলা").
_LANGUAGE_STEMS = tuple(
    normalize(w)
    for w in "bangla bengali bengla english inglish englis engreji ingreji ingriji ingrezi ingraji eng "
    "বাংলা ইংরেজি ইংরেজী ইংরাজি ইংলিশ".split()
)
# Case endings glued to a language ("banglay", "englishe", "বাংলাতে", "ইংলিশে"); never "desh".
_LANGUAGE_ENDINGS = ("",) + tuple(normalize(w) for w in "y e te tei i ay য় য তে তেই ে েই".split())
_LANGUAGE_NOUNS = frozenset(
    normalize(w) for w in "language bhasha bhasa bhashay bhasay bhashar vasha vasay ভাষা ভাষায় ভাষাটা ভাষার".split()
)
# Between a language and the word asking for it: a case ending typed apart, "ভাষায়", "kotha".
_LANGUAGE_LINKS = frozenset(
    normalize(w) for w in "e a te ey y ay ta only language bhashay bhasay kotha এ তে য় ভাষায় ভাষা কথা".split()
)
_ASKING_AFTER = frozenset(
    normalize(w)
    for w in """
    bolo bolun bolben bolen likho likhun likhben likhen lekho lekhen reply replay answer uttor
    din dao den diben deben chai chaii please pls plz
    বলুন বলো বলেন বলবেন লিখুন লিখো লেখো লিখবেন লিখেন উত্তর দিন দাও দেন দিবেন দেবেন চাই প্লিজ
""".split()
)
_ASKING_BEFORE = frozenset(normalize(w) for w in "in into to speak use want need prefer".split())
_CHANGING = frozenset(
    normalize(w)
    for w in """
    change switch bodlao bodlan bodlate bodle bodol poriborton porivartan paltao paltan
    বদলাও বদলান বদলাতে বদল পরিবর্তন পাল্টাও পাল্টান
""".split()
)
_ALONE_WITH_A_LANGUAGE = frozenset(
    normalize(w) for w in "please pls plz only ok okay in e te language bhasha প্লিজ ভাষা ভাষায় শুধু".split()
)


def is_language_word(word: str) -> bool:
    """A language named with its case ending ("banglay", "ইংরেজিতে"), not a country ("bangladesh")."""
    return any(word == stem + ending for stem in _LANGUAGE_STEMS for ending in _LANGUAGE_ENDINGS)


def asks_language_change(text: str) -> bool:
    """Whether a message asks for the reply language to change (see above)."""
    found = words(text)
    topics = [i for i, w in enumerate(found) if is_language_word(w) or w in _LANGUAGE_NOUNS]
    if not topics:
        return False
    if all(is_language_word(w) or w in _ALONE_WITH_A_LANGUAGE for w in found):
        return True
    for i in topics:
        after = i + 1
        while after < len(found) and found[after] in _LANGUAGE_LINKS:
            after += 1
        if after < len(found) and found[after] in _ASKING_AFTER:
            return True
        before = i - 1
        if before >= 0 and found[before] == "the":
            before -= 1
        if before >= 0 and found[before] in _ASKING_BEFORE:
            return True
        if found[i] in _LANGUAGE_NOUNS and any(w in _CHANGING for w in found[max(0, i - 2) : i + 3]):
            return True
    return False


def corrected_intent(text: str, predicted: Optional[str]) -> Optional[str]:
    """The intent to use instead of the classifier's `predicted` one, or None to keep it: the
    answers of `answer_intent`, and no goodbye, greeting, thanks or menu without a word of its
    own (a name such as "ফরিদা বিবি" or "Laxmi Haldar" is an answer, not small talk that would
    end or interrupt a form); no change of language without a request for one."""
    found = answer_intent(text)
    if found:
        return found
    if is_payload(text):
        return None
    if predicted == "goodbye" and not is_goodbye(text):
        return "inform"
    if predicted in _MARKERS and not has_marker(predicted, text):
        return "inform"
    if predicted == "change_language" and not asks_language_change(text):
        # A language or a country mentioned in passing: an answer (in a form) or chatter.
        return "inform"
    return None
