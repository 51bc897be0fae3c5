"""A citizen asking about their gram panchayat's office: hours, officials, contact or address."""

from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy.orm import Session

from panchayat import citizens
from panchayat.catalogue import localised, text
from panchayat.db import transaction
from panchayat.directory import gp_profile
from panchayat.info import info_topics
from panchayat.journeys import Reply, reply


@dataclass(frozen=True)
class PanchayatInfo:
    """The answer, or (`gp_known` False) the question for the citizen's GP, none being on record."""

    replies: List[Reply]
    gp_known: bool = True


def panchayat_info(sender: str, question: str, wants_a_person: bool, language: str) -> PanchayatInfo:
    """What the office of the sender's GP is asked about in `question` (everything when it names
    no topic); someone who `wants_a_person` gets the office's contact."""
    topics = ["contact"] if wants_a_person else info_topics(question)
    profile = _own_gp_profile(sender)
    if profile is None:
        return PanchayatInfo([reply("gp_ask")], gp_known=False)
    return PanchayatInfo(describe(profile, topics, language))


@transaction
def _own_gp_profile(session: Session, sender: str) -> Optional[Dict]:
    citizen = citizens.get_or_create(session, sender)
    return gp_profile(citizen.gram_panchayat) if citizen.gram_panchayat else None


def describe(profile: Dict, topics: List[str], language: str) -> List[Reply]:
    """The replies about `topics` of the office in `profile` (directory.gp_profile); a summary of
    it all when no topic is asked; a note when the GP is only a sample."""

    def pick(pair: Dict[str, str]) -> str:
        return localised(pair.get("en"), pair.get("bn"), language) or text("not_available", language)

    gp = pick(profile["name"])
    phone = profile["phone"] or text("not_available", language)
    officials = "\n".join(
        text("info_official_line", language, role=text(f"role_{o['role']}", language), name=pick(o["name"]))
        for o in profile["officials"]
    )
    replies = []
    if not topics:
        replies.append(
            reply(
                "info_summary",
                gp=gp,
                block=pick(profile["block"]),
                district=pick(profile["district"]),
                hours=pick(profile["office_hours"]),
                address=pick(profile["address"]),
                phone=phone,
                officials=officials,
            )
        )
    for topic in topics:
        if topic == "office_hours":
            replies.append(reply("info_office_hours", gp=gp, hours=pick(profile["office_hours"])))
        elif topic == "officials":
            replies.append(
                reply("info_officials", gp=gp, officials=officials) if officials else reply("info_missing", phone=phone)
            )
        elif topic == "contact":
            email = f", {profile['email']}" if profile["email"] else ""
            replies.append(reply("info_contact", gp=gp, phone=phone, email=email, hours=pick(profile["office_hours"])))
        elif topic == "address":
            replies.append(reply("info_address", gp=gp, address=pick(profile["address"])))
    if profile["is_sample"]:
        replies.append(reply("gp_sample_note"))
    return replies
