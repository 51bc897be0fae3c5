"""The dashboard's figures (panchayat.dashboard) over known records with fixed dates, on SQLite
and PostgreSQL: age buckets, medians, overdue complaints, ratings, bookings this week, the
twelve-week series, the per-GP table, and that another GP's records are never counted."""
from datetime import date, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from panchayat import dashboard, db, grievances
from panchayat.models import (
    Application,
    ApplicationEvent,
    Booking,
    Citizen,
    GramPanchayat,
    Grievance,
    GuestHouse,
)
from panchayat.seed import DEMO_GP

TODAY = date(2025, 3, 12)  # a Wednesday; its week runs from 10 to 16 March
GP = 990002  # same block (3029) as the demo GP, and no demo records of its own
OTHER = 990003  # same block, must never count in GP's figures
_numbers = count(1)


def at(days_ago: float, hour: int = 10) -> datetime:
    return datetime.combine(TODAY, time(hour)) - timedelta(days=days_ago)


def _citizen(session, gp_code):
    citizen = Citizen(wa_id=f"91999000{next(_numbers):04d}", gp_code=gp_code, language="en")
    session.add(citizen)
    session.flush()
    return citizen


def _application(session, citizen, gp_code, status, created, service="trade_noc", decided=None):
    application = Application(number=f"TA-2025-{next(_numbers):06d}", service=service, citizen_id=citizen.id,
                              gp_code=gp_code, status=status, fields={}, created_at=created, updated_at=created)
    session.add(application)
    session.flush()
    session.add(ApplicationEvent(application_id=application.id, at=created, actor="citizen", to_status="submitted"))
    if decided is not None:
        session.add(ApplicationEvent(application_id=application.id, at=decided, actor="pradhan",
                                     from_status="under_review", to_status=status))
    return application


def _grievance(session, citizen, gp_code, status, created, updated=None, resolved=None, rating=None):
    grievance = Grievance(number=f"TG-2025-{next(_numbers):06d}", citizen_id=citizen.id, gp_code=gp_code,
                          category="road", description="pothole", status=status, created_at=created,
                          updated_at=updated or resolved or created, resolved_at=resolved, rating=rating)
    session.add(grievance)
    return grievance


def _booking(session, citizen, house, check_in, check_out, rooms=1, status="confirmed"):
    session.add(Booking(number=f"TB-2025-{next(_numbers):06d}", citizen_id=citizen.id, guest_house_id=house.id,
                        check_in=check_in, check_out=check_out, rooms_count=rooms, amount_paise=100, status=status))


APPLICATIONS = [
    # (status, received days ago, service, decided days ago)
    ("submitted", 2, "trade_noc", None),  # 0-7
    ("under_review", 7, "trade_noc", None),  # 0-7 (seven days old)
    ("submitted", 8, "business_noc", None),  # 8-15
    ("submitted", 20, "trade_noc", None),  # 16-30
    ("under_review", 45, "building_permission", None),  # over 30
    ("approved", 10, "trade_noc", 6),  # decided in 4 days
    ("rejected", 30, "trade_noc", 20),  # 10 days
    ("approved", 12, "business_noc", 10),  # 2 days
    ("approved", 200, "trade_noc", 120),  # decided before the 90-day window
]


@pytest.fixture
def known(database):
    """Records of GP with fixed dates, and some of OTHER that must not count."""
    with db.session_scope(database) as session:
        citizen = _citizen(session, GP)
        stranger = _citizen(session, OTHER)
        for status, received, service, decided in APPLICATIONS:
            _application(session, citizen, GP, status, at(received), service,
                         at(decided) if decided is not None else None)
        _application(session, stranger, OTHER, "submitted", at(40))
        _application(session, stranger, OTHER, "approved", at(50), decided=at(1))

        _grievance(session, citizen, GP, "open", at(3))  # open, recent
        _grievance(session, citizen, GP, "assigned", at(20), updated=at(9))  # overdue
        _grievance(session, citizen, GP, "open", at(10))  # overdue
        _grievance(session, citizen, GP, "resolved", at(15), resolved=at(10), rating=4)  # 5 days
        _grievance(session, citizen, GP, "resolved", at(8), resolved=at(6), rating=2)  # 2 days
        _grievance(session, citizen, GP, "resolved", at(5), resolved=at(4.5))  # half a day, not rated
        _grievance(session, citizen, GP, "resolved", at(200), resolved=at(150), rating=1)  # before the window
        _grievance(session, stranger, OTHER, "open", at(30))  # overdue, another GP
        _grievance(session, stranger, OTHER, "resolved", at(30), resolved=at(3), rating=5)

        block_house = session.execute(
            select(GuestHouse).where(GuestHouse.block_code == 3029, GuestHouse.gp_code.is_(None))
        ).scalars().first()
        demo_house = session.execute(select(GuestHouse).where(GuestHouse.gp_code == DEMO_GP)).scalars().first()
        far_house = GuestHouse(block_code=2723, gp_code=None, name_en="Amdanga block house")
        session.add(far_house)
        session.flush()
        monday = date(2025, 3, 10)
        _booking(session, citizen, block_house, monday - timedelta(days=1), monday + timedelta(days=1))  # 1 night in
        _booking(session, citizen, block_house, date(2025, 3, 15), date(2025, 3, 18), rooms=2)  # 2 nights x 2 rooms
        _booking(session, citizen, block_house, date(2025, 3, 17), date(2025, 3, 18))  # next week
        _booking(session, citizen, block_house, date(2025, 3, 8), monday)  # leaves on Monday morning
        _booking(session, citizen, block_house, date(2025, 3, 12), date(2025, 3, 13), status="cancelled")
        _booking(session, citizen, demo_house, date(2025, 3, 11), date(2025, 3, 12))  # Bagula-I's own house
        _booking(session, citizen, far_house, date(2025, 3, 11), date(2025, 3, 12))  # another block
    return database


def test_open_applications_by_age_and_service(known):
    with db.session_scope(known) as session:
        figures = dashboard.application_figures(session, {GP}, TODAY)
    assert figures.open_total == 5
    assert figures.by_age == (("0_7", 2), ("8_15", 1), ("16_30", 1), ("over_30", 1))
    assert figures.by_service == (("trade_noc", 3), ("building_permission", 1), ("business_noc", 1))


def test_median_days_to_a_decision_counts_the_last_90_days(known):
    with db.session_scope(known) as session:
        figures = dashboard.application_figures(session, {GP}, TODAY)
        both = dashboard.application_figures(session, {GP, OTHER}, TODAY)
    assert figures.decided == 3 and figures.median_days_to_decision == 4.0
    # OTHER's one decision took 49 days: with it the median is the mean of 4 and 10.
    assert both.decided == 4 and both.median_days_to_decision == 7.0
    assert both.open_total == 6


def test_complaints_open_overdue_resolution_and_ratings(known):
    with db.session_scope(known) as session:
        figures = dashboard.complaint_figures(session, {GP}, TODAY)
        listed = grievances.list_grievances(session, overdue=True, now=datetime.combine(TODAY, time.max))
        overdue_by_the_list = len([g for g in listed if g.gp_code == GP])
    assert figures.open_total == 3
    assert figures.overdue == 2 == overdue_by_the_list
    assert figures.resolved == 3 and figures.median_resolution_days == 2.0
    assert figures.ratings == 2 and figures.average_rating == 3.0


def test_overdue_follows_the_configured_days(known, monkeypatch):
    monkeypatch.setattr(dashboard.config, "GRIEVANCE_OVERDUE_DAYS", 10)
    with db.session_scope(known) as session:
        assert dashboard.complaint_figures(session, {GP}, TODAY).overdue == 1


def test_bookings_with_a_night_this_week_in_the_guest_houses_of_the_scope(known):
    with db.session_scope(known) as session:
        figures = dashboard.booking_figures(session, {GP}, TODAY)
        demo = dashboard.booking_figures(session, {DEMO_GP}, TODAY)
    assert (figures.week_start, figures.week_end) == (date(2025, 3, 10), date(2025, 3, 16))
    assert figures.bookings == 2 and figures.room_nights == 5
    # The demo GP sees the block's house and its own.
    assert demo.bookings == 3 and demo.room_nights == 6


def _weekly(days_ago_list, first):
    counts = [0] * 12
    for days_ago in days_ago_list:
        moment = at(days_ago).date()
        index = ((moment - timedelta(days=moment.weekday())) - first).days // 7
        if 0 <= index < 12:
            counts[index] += 1
    return tuple(counts)


def test_weekly_series_of_the_last_twelve_weeks(known):
    with db.session_scope(known) as session:
        series = dashboard.weekly_series(session, {GP}, TODAY)
    first = date(2024, 12, 23)
    assert series.weeks[0] == first and series.weeks[-1] == date(2025, 3, 10) and len(series.weeks) == 12
    assert series.applications_received == _weekly([row[1] for row in APPLICATIONS], first)
    assert sum(series.applications_received) == 8  # the one of 200 days ago is older than the series
    assert series.applications_decided == _weekly([6, 20, 10], first)
    assert series.complaints_lodged == _weekly([3, 20, 10, 15, 8, 5], first)
    assert series.complaints_resolved == _weekly([10, 6, 4.5], first)
    # This week (from Monday 10 March): one application received, nothing decided.
    assert series.applications_received[-1] == 1 and series.applications_decided[-1] == 0


def test_build_gathers_every_figure(known):
    with db.session_scope(known) as session:
        whole = dashboard.build(session, {GP}, TODAY)
    assert whole.today == TODAY
    assert whole.applications.open_total == 5 and whole.complaints.overdue == 2
    assert whole.bookings.bookings == 2 and sum(whole.weekly.complaints_lodged) == 6


def test_a_gp_without_records_shows_zeros(known):
    with db.session_scope(known) as session:
        empty = dashboard.build(session, {990005}, TODAY)
    assert empty.applications.open_total == 0 and empty.applications.median_days_to_decision is None
    assert empty.complaints.average_rating is None and empty.complaints.median_resolution_days is None
    assert empty.bookings.bookings == 0 and sum(empty.weekly.applications_received) == 0


def test_per_gp_table_of_a_block(known):
    with db.session_scope(known) as session:
        block = set(session.execute(select(GramPanchayat.lgd_code).where(GramPanchayat.block_code == 3029)).scalars())
        rows = {row.gp_code: row for row in dashboard.per_gp(session, block, TODAY)}
    assert set(rows) == block
    assert (rows[GP].open_applications, rows[GP].overdue_complaints, rows[GP].average_rating, rows[GP].ratings) \
        == (5, 2, 3.0, 2)
    assert (rows[OTHER].open_applications, rows[OTHER].overdue_complaints, rows[OTHER].average_rating) == (1, 1, 5.0)
    assert rows[GP].name_en == "Bagula-II"


def test_as_of_now_on_the_demo_data(database):
    """Without a day: the demo GP's seeded records, as of now."""
    with db.session_scope(database) as session:
        whole = dashboard.build(session, {DEMO_GP})
        open_now = len(session.execute(select(Application).where(
            Application.gp_code == DEMO_GP, Application.status.in_(("submitted", "under_review")))).all())
    assert whole.applications.open_total == open_now > 0
    assert whole.applications.by_age[0] == ("0_7", open_now)
    assert whole.complaints.overdue == 1  # the seeded road complaint, untouched for 12 days
    assert whole.complaints.ratings == 1 and whole.complaints.average_rating == 4.0
    assert whole.weekly.applications_received[-1] + whole.weekly.applications_received[-2] >= open_now
