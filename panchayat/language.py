"""Which language a message is written in: Bengali script or Banglish gives `bn`, English `en`."""
import re
from typing import Optional

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
    """.split()
)

# Words both kinds of writer use; alone they say nothing about the language.
NEUTRAL_WORDS = frozenset(
    "ok okay okk k hmm hm yes no menu pdf id number cancel apply download status submit stop form noc "
    "certificate licence license trade".split()
)


# A typed "yes" to a confirmation question, in any register (buttons send /affirm instead).
YES_WORDS = frozenset(
    "yes y ok okay submit book confirm haan ha hya ji thik korun jama হ্যাঁ হ্যা হ ঠিক করুন জমা".split()
)


# "Skip this question" to an optional step (a photo, a place), in any register.
SKIP_WORDS = frozenset(
    "skip no na nah nei nai lagbe dibo debo dite parbo parchi parbona chai nahi none nothing later pore "
    "বাদ না নেই নাই লাগবে দেব দিব দিতে পারব পারছি চাই পরে দরকার".split()
)


def _words(text: str) -> list:
    from panchayat.bengali import normalize

    return re.findall(r"[\w\u0980-\u09ff]+", normalize(text or "").lower())


def is_yes(text: str) -> bool:
    words = _words(text)
    return bool(words) and len(words) <= 3 and all(
        w in YES_WORDS or w in ("ache", "আছে", "din", "দিন", "dao", "দাও") for w in words)


def is_skip(text: str) -> bool:
    """A short answer that declines an optional step: `skip`, `na`, `chobi nei`, `ছবি নেই`, `বাদ দিন`."""
    words = [w for w in _words(text) if w not in ("chobi", "chhobi", "photo", "ছবি", "din", "দিন", "ta", "টা",
                                                     "kono", "কোনো", "amar", "আমার", "location", "লোকেশন", "jayga", "জায়গা")]
    negations = {"no", "na", "nah", "nei", "nai", "none", "nothing", "skip", "বাদ", "না", "নেই", "নাই", "nahi"}
    return bool(_words(text)) and len(_words(text)) <= 5 and all(w in SKIP_WORDS for w in words) and (
        not words or bool(set(words) & negations) or "later" in words or "pore" in words or "পরে" in words)


def detect_language(text: str) -> Optional[str]:
    """`bn`, `en`, or None when the text carries no language (a name, digits, an identifier, an emoji)."""
    if not text or text.startswith("/"):
        return None
    if _BENGALI.search(text):
        return "bn"
    from panchayat.identifiers import find_identifiers

    for start, end, _value in reversed(find_identifiers(text)):
        text = text[:start] + " " + text[end:]
    words = [w for w in _LATIN_WORD.findall(text.lower()) if w not in NEUTRAL_WORDS]
    if not words:
        return None
    if any(word in BANGLISH_WORDS for word in words):
        return "bn"
    if any(word in ENGLISH_WORDS for word in words):
        return "en"
    return None
