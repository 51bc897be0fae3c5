"""The figures of the staff dashboard, for one GP or every GP of a block.

Pure reads over a session and a set of GP codes: open applications by age and by service, the
median time to a decision, complaints open and overdue (the rule of `grievances.list_grievances`),
resolution time and ratings, guest-house bookings this week, and weekly series of the last
twelve weeks. Counts are made in SQL; medians and weekly buckets in Python, where SQLite and
PostgreSQL would need different date functions.

All figures are as of `today` (UTC): as of now when it is not given, else as of the end of
that day, so that tests can fix the day.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Collection, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from panchayat import config
from panchayat.models import Application, ApplicationEvent, Booking, GramPanchayat, Grievance, GuestHouse

# Open applications are counted by days since they were received: 0-7, 8-15, 16-30, over 30.
AGE_BUCKETS: Tuple[str, ...] = ("0_7", "8_15", "16_30", "over_30")
_BUCKET_LIMITS = ((7, "0_7"), (15, "8_15"), (30, "16_30"))
OPEN_APPLICATION_STATUSES = ("submitted", "under_review")
DECISIONS = ("approved", "rejected")
# Medians of decision and resolution times, and ratings, look this far back.
WINDOW_DAYS = 90
WEEKS = 12


@dataclass(frozen=True)
class ApplicationFigures:
    open_total: int
    # Each of AGE_BUCKETS, in that order, with its count (zero included).
    by_age: Tuple[Tuple[str, int], ...]
    # (service code, open applications), most first.
    by_service: Tuple[Tuple[str, int], ...]
    # Days from receipt to approval or rejection, of the decisions of the last WINDOW_DAYS.
    median_days_to_decision: Optional[float]
    decided: int


@dataclass(frozen=True)
class ComplaintFigures:
    open_total: int
    overdue: int
    # Days from lodging to resolution, of the complaints resolved in the last WINDOW_DAYS.
    median_resolution_days: Optional[float]
    resolved: int
    # Ratings given to the complaints resolved in the last WINDOW_DAYS.
    average_rating: Optional[float]
    ratings: int


@dataclass(frozen=True)
class BookingFigures:
    week_start: date  # Monday
    week_end: date  # Sunday
    # Confirmed bookings with at least one night in the week, and their room-nights in it.
    bookings: int
    room_nights: int


@dataclass(frozen=True)
class WeeklySeries:
    # The Monday of each of the last WEEKS weeks, oldest first; the last is the current week.
    weeks: Tuple[date, ...]
    applications_received: Tuple[int, ...]
    applications_decided: Tuple[int, ...]
    complaints_lodged: Tuple[int, ...]
    complaints_resolved: Tuple[int, ...]


@dataclass(frozen=True)
class GpRow:
    gp_code: int
    name_en: str
    name_bn: Optional[str]
    open_applications: int
    overdue_complaints: int
    average_rating: Optional[float]
    ratings: int


@dataclass(frozen=True)
class Dashboard:
    today: date
    applications: ApplicationFigures
    complaints: ComplaintFigures
    bookings: BookingFigures
    weekly: WeeklySeries


def _moment(today: Optional[date]) -> Tuple[date, datetime]:
    """The day and the moment the figures are taken at."""
    if today is None:
        now = datetime.utcnow()
        return now.date(), now
    return today, datetime.combine(today, time.max)


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def _median(values: Sequence[float]) -> Optional[float]:
    return round(float(median(values)), 1) if values else None


def _average(value: object) -> Optional[float]:
    # AVG is a float on SQLite and a Decimal on PostgreSQL.
    return round(float(value), 1) if value is not None else None  # type: ignore[arg-type]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build(session: Session, gp_codes: Collection[int], today: Optional[date] = None) -> Dashboard:
    """Every figure of the dashboard for the GPs `gp_codes`."""
    day, _ = _moment(today)
    return Dashboard(
        today=day,
        applications=application_figures(session, gp_codes, today),
        complaints=complaint_figures(session, gp_codes, today),
        bookings=booking_figures(session, gp_codes, today),
        weekly=weekly_series(session, gp_codes, today),
    )


def application_figures(
    session: Session, gp_codes: Collection[int], today: Optional[date] = None
) -> ApplicationFigures:
    day, now = _moment(today)
    codes = list(gp_codes)
    # Received on or after this midnight: at most `limit` days old.
    bucket = case(
        *[
            (Application.created_at >= datetime.combine(day - timedelta(days=limit), time.min), name)
            for limit, name in _BUCKET_LIMITS
        ],
        else_="over_30",
    ).label("bucket")
    # Grouped over a subquery: PostgreSQL does not match a GROUP BY expression with bound values.
    open_ones = (
        select(Application.service, bucket)
        .where(Application.gp_code.in_(codes), Application.status.in_(OPEN_APPLICATION_STATUSES))
        .subquery()
    )
    rows = session.execute(
        select(open_ones.c.service, open_ones.c.bucket, func.count()).group_by(open_ones.c.service, open_ones.c.bucket)
    ).all()
    ages: Dict[str, int] = dict.fromkeys(AGE_BUCKETS, 0)
    services: Dict[str, int] = {}
    for service, name, count in rows:
        ages[name] += count
        services[service] = services.get(service, 0) + count
    decided = _decision_days(session, codes, now - timedelta(days=WINDOW_DAYS), now)
    return ApplicationFigures(
        open_total=sum(ages.values()),
        by_age=tuple((name, ages[name]) for name in AGE_BUCKETS),
        by_service=tuple(sorted(services.items(), key=lambda item: (-item[1], item[0]))),
        median_days_to_decision=_median(decided),
        decided=len(decided),
    )


def _decision_days(session: Session, codes: List[int], since: datetime, until: datetime) -> List[float]:
    """Days from receipt to decision of each application decided in [since, until] (its latest decision)."""
    rows = session.execute(
        select(Application.id, Application.created_at, ApplicationEvent.at)
        .join(ApplicationEvent, ApplicationEvent.application_id == Application.id)
        .where(
            Application.gp_code.in_(codes),
            ApplicationEvent.to_status.in_(DECISIONS),
            ApplicationEvent.at >= since,
            ApplicationEvent.at <= until,
        )
    ).all()
    latest: Dict[int, Tuple[datetime, datetime]] = {}
    for application_id, created_at, at in rows:
        if application_id not in latest or at > latest[application_id][1]:
            latest[application_id] = (created_at, at)
    return [max(0.0, _days(at, created_at)) for created_at, at in latest.values()]


def _overdue_condition(now: datetime):
    """The rule of grievances.list_grievances(overdue=True): not resolved and untouched too long."""
    cutoff = now - timedelta(days=config.GRIEVANCE_OVERDUE_DAYS)
    return and_(Grievance.status != "resolved", Grievance.updated_at < cutoff)


def complaint_figures(session: Session, gp_codes: Collection[int], today: Optional[date] = None) -> ComplaintFigures:
    _, now = _moment(today)
    codes = list(gp_codes)
    open_total, overdue = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((_overdue_condition(now), 1), else_=0)), 0),
        ).where(Grievance.gp_code.in_(codes), Grievance.status != "resolved")
    ).one()
    resolved = _resolved_since(codes, now)
    durations = [
        max(0.0, _days(resolved_at, created_at))
        for created_at, resolved_at in session.execute(
            select(Grievance.created_at, Grievance.resolved_at).where(*resolved)
        ).all()
    ]
    average, ratings = session.execute(
        select(func.avg(Grievance.rating), func.count(Grievance.rating)).where(*resolved)
    ).one()
    return ComplaintFigures(
        open_total=int(open_total),
        overdue=int(overdue),
        median_resolution_days=_median(durations),
        resolved=len(durations),
        average_rating=_average(average),
        ratings=int(ratings),
    )


def _resolved_since(codes: List[int], now: datetime) -> tuple:
    return (
        Grievance.gp_code.in_(codes),
        Grievance.status == "resolved",
        Grievance.resolved_at.isnot(None),
        Grievance.resolved_at >= now - timedelta(days=WINDOW_DAYS),
        Grievance.resolved_at <= now,
    )


def guest_houses_condition(gp_codes: Collection[int]):
    """The guest houses of the GPs: each GP's own, and the block-level ones of their blocks."""
    codes = list(gp_codes)
    blocks = select(GramPanchayat.block_code).where(GramPanchayat.lgd_code.in_(codes))
    return or_(
        GuestHouse.gp_code.in_(codes),
        and_(GuestHouse.gp_code.is_(None), GuestHouse.block_code.in_(blocks.scalar_subquery())),
    )


def booking_figures(session: Session, gp_codes: Collection[int], today: Optional[date] = None) -> BookingFigures:
    day, _ = _moment(today)
    start = monday_of(day)
    end = start + timedelta(days=6)
    rows = session.execute(
        select(Booking.check_in, Booking.check_out, Booking.rooms_count)
        .join(GuestHouse, GuestHouse.id == Booking.guest_house_id)
        .where(
            guest_houses_condition(gp_codes),
            Booking.status == "confirmed",
            # The nights of a stay are check_in .. check_out - 1.
            Booking.check_in <= end,
            Booking.check_out > start,
        )
    ).all()
    room_nights = sum(
        rooms * ((min(check_out, end + timedelta(days=1)) - max(check_in, start)).days)
        for check_in, check_out, rooms in rows
    )
    return BookingFigures(week_start=start, week_end=end, bookings=len(rows), room_nights=room_nights)


def _per_week(moments: Iterable[Optional[datetime]], first: date) -> Tuple[int, ...]:
    counts = [0] * WEEKS
    for moment in moments:
        if moment is None:
            continue
        index = (moment.date() - first).days // 7
        if 0 <= index < WEEKS:
            counts[index] += 1
    return tuple(counts)


def weekly_series(session: Session, gp_codes: Collection[int], today: Optional[date] = None) -> WeeklySeries:
    """Counts per week (Monday to Sunday) of the last WEEKS weeks, the current one last."""
    day, now = _moment(today)
    codes = list(gp_codes)
    first = monday_of(day) - timedelta(weeks=WEEKS - 1)
    since = datetime.combine(first, time.min)
    received = session.execute(
        select(Application.created_at).where(
            Application.gp_code.in_(codes), Application.created_at >= since, Application.created_at <= now
        )
    ).scalars()
    decided = session.execute(
        select(ApplicationEvent.at)
        .join(Application, Application.id == ApplicationEvent.application_id)
        .where(
            Application.gp_code.in_(codes),
            ApplicationEvent.to_status.in_(DECISIONS),
            ApplicationEvent.at >= since,
            ApplicationEvent.at <= now,
        )
    ).scalars()
    lodged = session.execute(
        select(Grievance.created_at).where(
            Grievance.gp_code.in_(codes), Grievance.created_at >= since, Grievance.created_at <= now
        )
    ).scalars()
    resolved = session.execute(
        select(Grievance.resolved_at).where(
            Grievance.gp_code.in_(codes),
            Grievance.resolved_at.isnot(None),
            Grievance.resolved_at >= since,
            Grievance.resolved_at <= now,
        )
    ).scalars()
    return WeeklySeries(
        weeks=tuple(first + timedelta(weeks=index) for index in range(WEEKS)),
        applications_received=_per_week(received, first),
        applications_decided=_per_week(decided, first),
        complaints_lodged=_per_week(lodged, first),
        complaints_resolved=_per_week(resolved, first),
    )


def per_gp(session: Session, gp_codes: Collection[int], today: Optional[date] = None) -> List[GpRow]:
    """One row per GP (for a block officer): open applications, overdue complaints, average rating."""
    _, now = _moment(today)
    codes = list(gp_codes)
    gps = session.execute(
        select(GramPanchayat.lgd_code, GramPanchayat.name_en, GramPanchayat.name_bn)
        .where(GramPanchayat.lgd_code.in_(codes))
        .order_by(GramPanchayat.name_en, GramPanchayat.lgd_code)
    ).all()
    open_applications = dict(
        session.execute(
            select(Application.gp_code, func.count())
            .where(Application.gp_code.in_(codes), Application.status.in_(OPEN_APPLICATION_STATUSES))
            .group_by(Application.gp_code)
        ).all()
    )
    overdue = dict(
        session.execute(
            select(Grievance.gp_code, func.count())
            .where(Grievance.gp_code.in_(codes), _overdue_condition(now))
            .group_by(Grievance.gp_code)
        ).all()
    )
    ratings = {
        gp_code: (average, count)
        for gp_code, average, count in session.execute(
            select(Grievance.gp_code, func.avg(Grievance.rating), func.count(Grievance.rating))
            .where(*_resolved_since(codes, now))
            .group_by(Grievance.gp_code)
        ).all()
    }
    return [
        GpRow(
            gp_code=code,
            name_en=name_en,
            name_bn=name_bn,
            open_applications=int(open_applications.get(code, 0)),
            overdue_complaints=int(overdue.get(code, 0)),
            average_rating=_average(ratings.get(code, (None, 0))[0]),
            ratings=int(ratings.get(code, (None, 0))[1]),
        )
        for code, name_en, name_bn in gps
    ]
