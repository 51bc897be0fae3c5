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


# Words both kinds of writer use; alone they say nothing about the language.
NEUTRAL_WORDS = frozenset("ok okay okk k hmm hm yes no menu pdf id no number".split())


def detect_language(text: str) -> Optional[str]:
    """`bn`, `en`, or None when the text carries no language (digits, an identifier, an emoji)."""
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
    return "en"
