"""Which language a message is written in: Bengali script or Banglish gives `bn`, English `en`."""

import re
from typing import Optional, Tuple

_BENGALI = re.compile(r"[\u0980-\u09FF]")
_LATIN_WORD = re.compile(r"[a-z]+")

# Romanised Bengali words that are not also common English words. One of them in
# a Latin-script line marks it as Banglish ("amar trade licence er certificate ta chai").
BANGLISH_WORDS = frozenset(
    """
    ami amar amake amr amra amader apni apnar apnader apnake tumi tomar tomake toma tui tor
    ke ki ki kii keno kobe kokhon kothay kothai kivabe kibhabe kemon koto kato kon konta
    ache achhe acche achi achhi ase ache nai nei na naa hobe hbe hoy hoi hoyeche hoyche holo hocche hochhe
    chai chay chaai chaichi lagbe dorkar dorkaar darkar debe diben dao din dite deben den
    koro korbo korte korun korben kore kora korchi korlam korechi koreche jabe jabo jai jete
    bolo bolun bolben balo janao janan jante janben jana dekhao dekhan dekhte dekhi
    er ta ti tar te theke kache jonno jnno jonyo diye sathe songe aro ebong kintu
    nomoskar nomoshkar nomaskar nomoskaar pronam dhonnobad dhanyabad dhonyobad dhonyabad
    dhonnyobad donnobad thik acha accha achha bhalo valo khub onek bhai dada didi boudi kaku
    haan hya hyan ha hae ji na
    kaj kaaj barir bari barite ghor jomi jami jomir dokan dokaner byabsa byabsar babsa byaboshay
    abedon aabedon abedan sonshapotro songshapotro shongshapotro shonshapotro patro
    ofis offis ophis khola bondho bandho somoy samay ghonta
    sochib sachib sachiv thikana thikanata nombor nambar
    rasta rastar alo batti jol jal joler kol nordoma nodorma moyla
    beton betan maine mayne mashik masher mas maser bochor bochorer bochhor gato gotokal
    kal kalke porshu porsu aaj aj ajke akhon ekhon shuru sesh shesh
    bangla banglay bangla te bangali ingreji ingriji
    """.split()
) - {"a", "i", "to", "he", "we", "me", "be", "do", "go", "so", "no", "on", "in", "at", "us", "ok"}


# Common English words. A Latin-script line needs one of them to count as English, so that
# a bare name ("Hanskhali", "Bagula 1") says nothing about the writer's language.
ENGLISH_WORDS = frozenset(
    """
    a an the i me my mine we our us you your he she it they them their this that these those
    is am are was were be been being do does did have has had will would can could shall should may might must
    what when where who whom whose which why how
    want need get give send show tell help apply check know see find book cancel pay make take get let
    please thanks thank hello hi hey good morning evening night bye goodbye welcome sorry yes no not
    and or but if of to in on at for from with by about as into over under after before up down out
    all any some many much more most other another each every one two three first last next
    today tomorrow yesterday now later day days week month year time hours hour open close closed
    office panchayat certificate licence license application status number download apply form
    booking room guest house complaint problem light water road drain salary slip statement pay
    name address phone contact person human bot language english bengali speak talk reply
    there here again still just only also very well ok okay done
    weather song match ticket train recharge cricket
    business shop trade house building permission plan plot land owner rooms nights night tomorrow
    complain complaint broken working since light lights street tubewell tube well drain garbage
    payslip salary statement my need want apply give details timing timings address phone where
    """.split()
)

# Words both kinds of writer use; alone they say nothing about the language.
NEUTRAL_WORDS = frozenset(
    "ok okay okk k hmm hm yes no menu pdf id number cancel apply download status submit stop form noc "
    "certificate licence license trade".split()
)


def language_evidence(text: str) -> Tuple[Optional[str], bool]:
    """(language, strong): Bengali script or a Banglish word is strong evidence of Bengali; English
    needs two English words and no Banglish one to be strong. A lone "room", "thank you" or a
    Latin-script address ("Hanskhali more, Bagula") is weak evidence, or none."""
    detected = detect_language(text)
    if detected is None:
        return None, False
    if detected == "bn":
        return "bn", True
    latin = [w for w in _LATIN_WORD.findall(_without_identifiers(text).lower()) if w not in NEUTRAL_WORDS]
    english = [w for w in latin if w in ENGLISH_WORDS and w not in _POLITE_WORDS]
    return "en", len(english) >= 2 or (len(english) >= 1 and len(latin) >= 3 and len(english) * 2 >= len(latin))


# Courtesies both kinds of writer type in English: alone they do not switch a Bengali chat.
_POLITE_WORDS = frozenset("thanks thank you ok okay please sorry hello hi bye goodbye welcome good yes no".split())


def _without_identifiers(text: str) -> str:
    from panchayat.identifiers import find_identifiers

    for start, end, _value in reversed(find_identifiers(text)):
        text = text[:start] + " " + text[end:]
    return text


def conversation_language(current: Optional[str], text: str) -> Optional[str]:
    """The language a conversation goes on in after this message: it follows the conversation,
    not each word. A new conversation takes any evidence (a Latin-script request with no Banglish
    word is English); a running one changes only on strong evidence."""
    language, strong = language_evidence(text)
    if current is None:
        if language is None and re.search(r"[A-Za-z]{3}", text or "") and not (text or "").startswith("/"):
            return "en"
        return language
    if language and language != current and strong:
        return language
    return current


def detect_language(text: str) -> Optional[str]:
    """`bn`, `en`, or None when the text carries no language (a name, digits, an identifier, an emoji)."""
    if not text or text.startswith("/"):
        return None
    if _BENGALI.search(text):
        return "bn"
    text = _without_identifiers(text)
    words = [w for w in _LATIN_WORD.findall(text.lower()) if w not in NEUTRAL_WORDS]
    if not words:
        return None
    if any(word in BANGLISH_WORDS for word in words):
        return "bn"
    if any(word in ENGLISH_WORDS for word in words):
        return "en"
    return None
