"""The bare answer to the panchayat's own notification: a rating ("4", "khub bhalo") for a
resolved complaint, or "pathan" for an approved application's certificate.

Such an answer carries no request of its own, so it is read against the question of the newest
notification still open (panchayat.followups); with none open it means nothing here.
"""

from dataclasses import dataclass, field
from typing import List, Optional

from sqlalchemy.orm import Session

from panchayat import citizens, db, followups, grievances
from panchayat.answers import number_in
from panchayat.errors import PanchayatError
from panchayat.journeys import Reply
from panchayat.journeys.complaining import thanks_for_rating


@dataclass(frozen=True)
class Answered:
    """What a bare answer did: a rating recorded (the thanks are in `replies`), or a wish for the
    certificate of the approved application `download`; neither when it answered nothing."""

    replies: List[Reply] = field(default_factory=list)
    download: Optional[str] = None

    @property
    def understood(self) -> bool:
        return bool(self.replies) or self.download is not None


@db.transaction
def answer(session: Session, sender: str, typed: str, language: str) -> Answered:
    """Reads `typed` as the answer to the citizen's open notification question. A number that is
    no rating from 1 to 5 raises PanchayatError("bad_rating"), as does rating twice."""
    citizen = citizens.get_or_create(session, sender)
    question = followups.open_question(session, citizen)
    if question is None:
        return Answered()
    if question.kind == "rating":
        rating = followups.rating_in(typed)
        if rating is None:
            if number_in(typed) is not None:
                raise PanchayatError("bad_rating")
            return Answered()
        grievance = grievances.find_own(session, question.number, citizen)
        if grievance is None:  # the question was about a complaint that is no longer theirs to rate
            return Answered()
        grievances.rate(session, grievance, citizen, rating)
        return Answered([thanks_for_rating(question.number, rating, language)])
    if followups.wants_download(typed):
        return Answered(download=question.number)
    return Answered()
