"""Districts, blocks and gram panchayats: the LGD reference data and finding a GP by name."""

import csv
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat.db import transaction
from panchayat.errors import PanchayatError
from panchayat.models import Block, District, GramPanchayat, Official

LGD_DIR = Path(__file__).resolve().parent / "data" / "lgd"

# Bengali names of the 23 districts (LGD code -> name); LGD's files carry none.
DISTRICT_NAMES_BN = {
    303: "উত্তর ২৪ পরগনা",
    304: "দক্ষিণ ২৪ পরগনা",
    305: "বাঁকুড়া",
    306: "পূর্ব বর্ধমান",
    307: "বীরভূম",
    308: "কোচবিহার",
    309: "দার্জিলিং",
    310: "দক্ষিণ দিনাজপুর",
    311: "উত্তর দিনাজপুর",
    312: "হুগলি",
    313: "হাওড়া",
    314: "জলপাইগুড়ি",
    315: "কলকাতা",
    316: "মালদা",
    317: "পূর্ব মেদিনীপুর",
    318: "পশ্চিম মেদিনীপুর",
    319: "মুর্শিদাবাদ",
    320: "নদিয়া",
    321: "পুরুলিয়া",
    664: "আলিপুরদুয়ার",
    702: "কালিম্পং",
    703: "ঝাড়গ্রাম",
    704: "পশ্চিম বর্ধমান",
}

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"}


def title_case(name: str) -> str:
    """'BARASAT-I' -> 'Barasat-I', keeping Roman numerals in capitals."""

    def word(match: "re.Match") -> str:
        token = match.group(0)
        return token.upper() if token.lower() in _ROMAN else token.capitalize()

    return re.sub(r"[A-Za-z]+", word, name.strip())


def load_lgd(session: Session, lgd_dir: Path = LGD_DIR) -> Tuple[int, int]:
    """Inserts or updates the real districts and blocks; returns their counts."""
    with open(lgd_dir / "wb_districts.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = int(row["district_code"])
            name_en = row["district_name_lgd_2026"].strip() or title_case(row["district_name"])
            district = session.get(District, code) or District(lgd_code=code)
            district.name_en = name_en
            district.name_lgd = row["district_name"].strip()
            district.name_bn = DISTRICT_NAMES_BN.get(code, name_en)
            session.add(district)
    session.flush()
    # The 2026 sub-district list spells most blocks a second way ("Barasat - I").
    alt_names: Dict[Tuple[int, str], str] = {}
    with open(lgd_dir / "wb_subdistricts_lgd_2026.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            alt_names[(int(row["district_code"]), name_key(row["subdistrict_name"]))] = row["subdistrict_name"].strip()
    with open(lgd_dir / "wb_blocks.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = int(row["block_code"])
            district_code = int(row["district_code"])
            block = session.get(Block, code) or Block(lgd_code=code)
            block.district_code = district_code
            block.name_en = title_case(row["block_name"])
            block.alt_name_en = alt_names.get((district_code, name_key(row["block_name"])))
            session.add(block)
    session.flush()
    districts = session.query(District).count()
    blocks = session.query(Block).count()
    return districts, blocks


# --- Finding a gram panchayat by what a villager types -------------------------------

_NOISE_WORDS = re.compile(
    r"\b(gram|panchayat|panchayet|ponchayet|gp|g\.p\.|block|district|jila|zilla)\b|"
    r"গ্রাম\s*পঞ্চায়েত|পঞ্চায়েত|জিপি|ব্লক|জেলা",
    re.IGNORECASE,
)
_BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


def name_key(name: str) -> str:
    """A spelling-tolerant key: 'Bagula-I', 'bagula 1', 'বগুলা-১' -> 'bagula1' / 'বগুলা1'."""
    text = unicodedata.normalize("NFC", name or "").lower().translate(_BENGALI_DIGITS)
    text = _NOISE_WORDS.sub(" ", text)
    text = re.sub(r"\b(i{1,3}|iv|v|vi)\b", lambda m: _ROMAN[m.group(1)], text)
    # Nukta forms and the chandrabindu are typed inconsistently on phones.
    text = text.replace("\u09bc", "").replace("\u0981", "")
    return re.sub(r"[\W_]+", "", text)


@transaction
def gram_panchayat_names(session: Session) -> Dict[str, List[int]]:
    """Every GP's English and Bengali name, as `name_key` keys -> LGD codes (the NLU's GP gazetteer)."""
    index: Dict[str, List[int]] = {}
    for code, name_en, name_bn in session.execute(
        select(GramPanchayat.lgd_code, GramPanchayat.name_en, GramPanchayat.name_bn)
    ):
        for name in {name_en, name_bn} - {None}:
            index.setdefault(name_key(name), []).append(code)
    return {key: sorted(set(codes)) for key, codes in index.items()}


@dataclass
class GpMatch:
    gp: GramPanchayat
    score: float


def find_gram_panchayats(session: Session, typed: str, limit: int = 5) -> List[GpMatch]:
    """GPs whose English or Bengali name is close to `typed`, best first.

    Several matches with the same best score (the same name in two districts)
    mean the caller must ask which one, never guess.
    """
    key = name_key(typed)
    if len(key) < 3:
        return []
    matches = []
    for gp in session.execute(select(GramPanchayat)).scalars():
        best = 0.0
        for candidate in (gp.name_en, gp.name_bn):
            if not candidate:
                continue
            candidate_key = name_key(candidate)
            if candidate_key == key:
                best = 1.0
                break
            best = max(best, SequenceMatcher(None, key, candidate_key).ratio())
        if best >= 0.8:
            matches.append(GpMatch(gp, best))
    matches.sort(key=lambda m: (-m.score, m.gp.name_en))
    return matches[:limit]


def get_gram_panchayat(session: Session, code: int) -> GramPanchayat:
    gp = session.get(GramPanchayat, code)
    if gp is None:
        raise PanchayatError("unknown_gp", code=code)
    return gp


def gp_profile(gp: GramPanchayat) -> Dict:
    """Facts about a GP's office, in both languages, for replies and documents."""
    block = gp.block
    district = block.district
    return {
        "code": gp.lgd_code,
        "is_sample": gp.is_sample,
        "name": {"en": gp.name_en, "bn": gp.name_bn or gp.name_en},
        "block": {"en": block.name_en, "bn": block.name_bn or block.name_en},
        "district": {"en": district.name_en, "bn": district.name_bn},
        "office_hours": {"en": gp.office_hours_en, "bn": gp.office_hours_bn or gp.office_hours_en},
        "address": {"en": gp.address_en, "bn": gp.address_bn or gp.address_en},
        "phone": gp.phone,
        "email": gp.email,
        "officials": [
            {
                "role": official.role,
                "name": {"en": official.name_en, "bn": official.name_bn or official.name_en},
                "phone": official.phone,
            }
            for official in gp.officials
        ],
    }


# --- Importing LGD's "PRI local bodies" export --------------------------------------

# Header spellings seen in LGD downloads, reduced by _header_key.
_GP_COLUMNS = {
    "code": ("localbodycode", "gpcode", "grampanchayatcode", "lgdcode", "code"),
    "name_en": ("localbodynameinenglish", "localbodyname", "grampanchayatname", "gpname", "nameen", "name"),
    "name_bn": ("localbodynameinlocal", "localbodynameinlocallanguage", "localbodynamelocal", "namelocal", "namebn"),
    "type": ("localbodytypename", "localbodytype", "type"),
    "block_code": ("blockcode", "intermediatepanchayatblockcode"),
    "block_name": ("blockname", "intermediatepanchayatname", "intermediatelocalbodyname", "block"),
    "district_code": ("districtcode", "districtpanchayatcode"),
    "district_name": ("districtname", "districtpanchayatname", "district"),
}


def _header_key(header: str) -> str:
    return re.sub(r"[^a-z]", "", header.lower())


def import_gram_panchayats(session: Session, path: Path) -> int:
    """Adds or updates the GPs of an LGD "PRI local bodies" CSV; returns how many.

    Rows of other local-body types (zilla parishads, panchayat samitis) are
    skipped. A GP is placed in its block by block code or, failing that, by the
    block's (intermediate panchayat's) name within its district. Any bad row
    stops the import with its line number, and nothing is written.
    """
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise PanchayatError("file_unreadable", path=str(path), reason=exc.strerror or str(exc)) from exc
    with handle:
        reader = csv.DictReader(handle)
        headers = {(_header_key(h) if h else ""): h for h in (reader.fieldnames or [])}
        column = {}
        for field, spellings in _GP_COLUMNS.items():
            column[field] = next((headers[s] for s in spellings if s in headers), None)
        if not column["code"] or not column["name_en"] or not (column["block_code"] or column["block_name"]):
            raise PanchayatError("csv_columns", path=str(path), needed="local body code, name, block")
        blocks = list(session.execute(select(Block)).scalars())
        by_code = {b.lgd_code: b for b in blocks}
        # (district or None, spelling key) -> blocks, by code so two spellings don't count twice
        by_name: Dict[Tuple[Optional[int], str], Dict[int, Block]] = {}
        for block in blocks:
            for spelling in (block.name_en, block.alt_name_en):
                if spelling:
                    for district in (block.district_code, None):
                        by_name.setdefault((district, name_key(spelling)), {})[block.lgd_code] = block
        districts = {name_key(d.name_en): d.lgd_code for d in session.execute(select(District)).scalars()}
        districts.update({name_key(d.name_lgd): d.lgd_code for d in session.execute(select(District)).scalars()})

        errors: List[str] = []
        rows = []
        for line, row in enumerate(reader, start=2):
            kind = (row.get(column["type"]) or "") if column["type"] else ""
            if kind and not re.search(r"village|gram", kind, re.IGNORECASE):
                continue
            code_text = (row.get(column["code"]) or "").strip()
            name_en = (row.get(column["name_en"]) or "").strip()
            if not code_text.isdigit():
                errors.append(f"line {line}: local body code {code_text!r} is not a number")
                continue
            if not name_en:
                errors.append(f"line {line}: the name is empty")
                continue
            block = None
            if column["block_code"] and (row.get(column["block_code"]) or "").strip().isdigit():
                block = by_code.get(int(row[column["block_code"]]))
            if block is None and column["block_name"]:
                district_code = None
                if column["district_code"] and (row.get(column["district_code"]) or "").strip().isdigit():
                    district_code = int(row[column["district_code"]])
                elif column["district_name"]:
                    district_code = districts.get(name_key(row.get(column["district_name"]) or ""))
                candidates = list(
                    by_name.get((district_code, name_key(row.get(column["block_name"]) or "")), {}).values()
                )
                block = candidates[0] if len(candidates) == 1 else None
            if block is None:
                errors.append(f"line {line}: block of {name_en!r} not found among West Bengal's LGD blocks")
                continue
            name_bn = (row.get(column["name_bn"]) or "").strip() if column["name_bn"] else ""
            rows.append((int(code_text), block.lgd_code, title_case(name_en), name_bn or None))
        if errors:
            raise PanchayatError("csv_rows", path=str(path), count=len(errors), details="; ".join(errors[:20]))
    for code, block_code, name_en, name_bn in rows:
        gp = session.get(GramPanchayat, code) or GramPanchayat(lgd_code=code, is_sample=False)
        gp.block_code = block_code
        gp.name_en = name_en
        if name_bn:
            gp.name_bn = name_bn
        session.add(gp)
    session.flush()
    return len(rows)


def officials_by_role(gp: GramPanchayat) -> Dict[str, Official]:
    return {official.role: official for official in gp.officials}


def iter_blocks_of(session: Session, district_code: int) -> Iterable[Block]:
    return session.execute(select(Block).where(Block.district_code == district_code).order_by(Block.name_en)).scalars()


def resolve_gram_panchayat(session: Session, typed: str) -> List[GramPanchayat]:
    """What a citizen typed (a name in either script, or an LGD code) -> the GPs it may mean.

    One result is an answer; several mean "ask which"; none means "not found".
    """
    typed = (typed or "").strip().translate(_BENGALI_DIGITS)
    if typed.isdigit():
        gp = session.get(GramPanchayat, int(typed))
        return [gp] if gp else []
    found = find_gram_panchayats(session, typed)
    return [m.gp for m in found if m.score == found[0].score] if found else []


def match_unit(session: Session, typed: str):
    """A district or block that `typed` names unambiguously: ("district", District),
    ("block", Block) or None. Codes are accepted as well as names in either script."""
    typed = (typed or "").strip().translate(_BENGALI_DIGITS)
    if typed.isdigit():
        code = int(typed)
        block = session.get(Block, code)
        if block is not None:
            return "block", block
        district = session.get(District, code)
        return ("district", district) if district is not None else None
    key = name_key(typed)
    if len(key) < 3:
        return None
    for kind, model, spellings in (
        ("district", District, lambda d: (d.name_en, d.name_bn, d.name_lgd)),
        ("block", Block, lambda b: (b.name_en, b.name_bn, b.alt_name_en)),
    ):
        exact, close = [], []
        for unit in session.execute(select(model)).scalars():
            keys = [name_key(s) for s in spellings(unit) if s]
            if key in keys:
                exact.append(unit)
            elif any(SequenceMatcher(None, key, k).ratio() >= 0.85 for k in keys):
                close.append(unit)
        found = exact or close
        if len(found) == 1:
            return kind, found[0]
    return None


def gram_panchayats_of_block(session: Session, block_code: int) -> List[GramPanchayat]:
    return list(
        session.execute(
            select(GramPanchayat).where(GramPanchayat.block_code == block_code).order_by(GramPanchayat.name_en)
        ).scalars()
    )
