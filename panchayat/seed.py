"""Reference data (real LGD districts and blocks) and demo data (clearly marked samples).

Sample gram panchayats carry invented codes from 990001 up, so they can never
collide with a real LGD local-body code imported later.
"""

from datetime import date, datetime, timedelta
from typing import Any, Dict, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from panchayat import applications, bookings, grievances
from panchayat.directory import load_lgd
from panchayat.models import (
    Block,
    Citizen,
    ConsentRecord,
    Employee,
    GramPanchayat,
    GuestHouse,
    Official,
    PayrollLine,
    Room,
)

DEMO_CITIZEN = "demo-citizen"
SAMPLE_CODE_START = 990001

OFFICE_HOURS_EN = (
    "Monday to Friday 10:30 am to 5:30 pm, Saturday 10:30 am to 2 pm; closed on Sundays and public holidays."
)
OFFICE_HOURS_BN = (
    "সোমবার থেকে শুক্রবার সকাল ১০:৩০ থেকে বিকেল ৫:৩০, শনিবার সকাল ১০:৩০ থেকে দুপুর ২টো; রবিবার ও সরকারি ছুটির দিন বন্ধ।"
)

# Bengali names of the blocks that hold sample GPs.
SAMPLE_BLOCK_NAMES_BN = {3029: "হাঁসখালি", 2723: "আমডাঙা", 2893: "গোঘাট-১", 2749: "বিষ্ণুপুর-১"}

# (code, block, English name, Bengali name, village for the address, pradhan en/bn, secretary en/bn)
SAMPLE_GPS = [
    (990001, 3029, "Bagula-I", "বগুলা-১", ("Bagula", "বগুলা"), ("Rina Biswas", "রিনা বিশ্বাস"), ("Subrata Ghosh", "সুব্রত ঘোষ")),
    (
        990002,
        3029,
        "Bagula-II",
        "বগুলা-২",
        ("Bagula", "বগুলা"),
        ("Abdul Karim Mondal", "আব্দুল করিম মণ্ডল"),
        ("Mitali Sarkar", "মিতালি সরকার"),
    ),
    (990003, 3029, "Hanskhali", "হাঁসখালি", ("Hanskhali", "হাঁসখালি"), ("Tapas Pal", "তাপস পাল"), ("Sanjay Das", "সঞ্জয় দাস")),
    (990004, 2723, "Amdanga", "আমডাঙা", ("Amdanga", "আমডাঙা"), ("Sabina Khatun", "সাবিনা খাতুন"), ("Pranab Roy", "প্রণব রায়")),
    (990005, 2893, "Radhanagar", "রাধানগর", ("Radhanagar", "রাধানগর"), ("Gopal Bag", "গোপাল বাগ"), ("Ashim Dey", "অসীম দে")),
    (
        990006,
        2749,
        "Radhanagar",
        "রাধানগর",
        ("Radhanagar", "রাধানগর"),
        ("Shefali Naskar", "শেফালি নস্কর"),
        ("Dipak Halder", "দীপক হালদার"),
    ),
]
# The GP of the demo citizen, the demo applications and the console's demo clerk and pradhan.
DEMO_GP = SAMPLE_GPS[0][0]

DEMO_FIELDS: Dict[str, Dict[str, Any]] = {
    "trade_noc": {
        "trade_name": "Maa Tara Bhandar",
        "nature_of_trade": "Grocery",
        "premises_address": "Bagula Bazar, near the bus stand",
        "owner_name": "Sukanta Mondal",
        "start_date": "2026-04-01",
    },
    "business_noc": {
        "business_name": "Bagula Rice Mill",
        "business_type": "agro",
        "business_address": "Station Road, Bagula",
        "owner_name": "Farida Bibi",
        "investment_band": "10_to_50_lakh",
    },
    "building_permission": {
        "applicant_name": "Nirmal Sarkar",
        "guardian_name": "Haripada Sarkar",
        "address": "Purba Para, Bagula, PIN 741502",
        "mouza": "Bagula",
        "jl_number": "45",
        "khatian_number": "1123",
        "plot_number": "2301",
        "land_area": "5 katha",
        "building_use": "residential",
        "floors": 2,
        "built_up_area": "1200 sq ft",
    },
}


def seed_reference(session: Session) -> Dict[str, int]:
    districts, blocks = load_lgd(session)
    return {"districts": districts, "blocks": blocks}


def demo_present(session: Session) -> bool:
    return (
        session.execute(select(GramPanchayat.lgd_code).where(GramPanchayat.is_sample.is_(True)).limit(1)).first()
        is not None
    )


def seed_demo(session: Session, today: Optional[date] = None) -> Dict[str, int]:
    """Loads the samples once; a second call changes nothing."""
    counts = seed_reference(session)
    if demo_present(session):
        return dict(counts, skipped=1)
    today = today or date.today()
    for block_code, name_bn in SAMPLE_BLOCK_NAMES_BN.items():
        session.get(Block, block_code).name_bn = name_bn
    for code, block, name_en, name_bn, village, pradhan, secretary in SAMPLE_GPS:
        suffix = code - SAMPLE_CODE_START + 1
        gp = GramPanchayat(
            lgd_code=code,
            block_code=block,
            name_en=name_en,
            name_bn=name_bn,
            is_sample=True,
            office_hours_en=OFFICE_HOURS_EN,
            office_hours_bn=OFFICE_HOURS_BN,
            address_en=f"{name_en} Gram Panchayat Office, Vill. & P.O. {village[0]} (sample address)",
            address_bn=f"{name_bn} গ্রাম পঞ্চায়েত কার্যালয়, গ্রাম ও ডাকঘর {village[1]} (নমুনা ঠিকানা)",
            phone=f"000-0000-{suffix:04d}",
            email=f"gp{code}@example.org",
        )
        session.add(gp)
        session.add(Official(gp_code=code, role="pradhan", name_en=pradhan[0], name_bn=pradhan[1]))
        session.add(Official(gp_code=code, role="secretary", name_en=secretary[0], name_bn=secretary[1]))
    session.flush()
    home = DEMO_GP

    demo = Citizen(wa_id=DEMO_CITIZEN, name="Demo Citizen", gp_code=home)
    applicants = [
        Citizen(wa_id=f"demo-applicant-{i}", language=lang, gp_code=home)
        for i, lang in enumerate(("bn", "en", "bn"), start=1)
    ]
    session.add_all([demo] + applicants)
    session.flush()
    # The demo citizens have read the privacy notice already; a new number sees it first.
    from panchayat.citizens import PRIVACY_NOTICE_VERSION

    session.add_all(
        [
            ConsentRecord(citizen_id=c.id, notice_version=PRIVACY_NOTICE_VERSION, language=c.language or "bn")
            for c in [demo] + applicants
        ]
    )

    counts["applications"] = _seed_applications(session, applicants, home)
    counts["guest_houses"], counts["bookings"] = _seed_guest_houses(session, demo, applicants, today)
    counts["grievances"] = _seed_grievances(session, applicants, home)
    counts["employees"] = _seed_employees(session, home, today)
    counts["sample_gps"] = len(SAMPLE_GPS)
    return counts


def _seed_applications(session: Session, applicants, gp_code: int) -> int:
    count = 0
    for service, fields in DEMO_FIELDS.items():
        for position, final_state in enumerate(("submitted", "under_review", "approved", "rejected")):
            citizen = applicants[position % len(applicants)]
            application = applications.submit(session, citizen, service, fields, gp_code=gp_code)
            if final_state in ("under_review", "approved"):
                applications.start_review(session, application, actor="demo-clerk")
            if final_state == "approved":
                applications.approve(session, application, actor="demo-pradhan")
            if final_state == "rejected":
                applications.reject(
                    session, application, actor="demo-pradhan", reason="Land record does not match the plot number"
                )
            count += 1
    return count


def _seed_guest_houses(session: Session, demo: Citizen, applicants, today: date):
    houses = [
        GuestHouse(
            block_code=3029,
            gp_code=None,
            name_en="Hanskhali Panchayat Samiti Guest House",
            name_bn="হাঁসখালি পঞ্চায়েত সমিতি অতিথিশালা",
            address_en="Block office campus, Hanskhali (sample)",
            address_bn="ব্লক অফিস চত্বর, হাঁসখালি (নমুনা)",
            phone="000-0000-0101",
            is_sample=True,
        ),
        GuestHouse(
            block_code=3029,
            gp_code=SAMPLE_GPS[0][0],
            name_en="Bagula-I Gram Panchayat Guest House",
            name_bn="বগুলা-১ গ্রাম পঞ্চায়েত অতিথিশালা",
            address_en="Beside the GP office, Bagula (sample)",
            address_bn="পঞ্চায়েত অফিসের পাশে, বগুলা (নমুনা)",
            phone="000-0000-0102",
            is_sample=True,
        ),
    ]
    session.add_all(houses)
    session.flush()
    for label, kind, beds, tariff in (
        ("101", "double", 2, 800),
        ("102", "double", 2, 800),
        ("103", "single", 1, 500),
        ("201", "family", 4, 1200),
    ):
        session.add(Room(guest_house_id=houses[0].id, label=label, kind=kind, beds=beds, tariff_paise=tariff * 100))
    for label, kind, beds, tariff in (("1", "double", 2, 600), ("2", "double", 2, 600)):
        session.add(Room(guest_house_id=houses[1].id, label=label, kind=kind, beds=beds, tariff_paise=tariff * 100))
    session.flush()
    start = today + timedelta(days=10)
    bookings.book(session, applicants[0], houses[0], start, start + timedelta(days=2), 1, today=today)
    bookings.book(session, applicants[1], houses[1], start, start + timedelta(days=1), 1, today=today)
    cancelled = bookings.book(
        session, applicants[2], houses[0], start + timedelta(days=5), start + timedelta(days=6), 2, today=today
    )
    bookings.cancel(session, cancelled, by="guest", actor="citizen", today=today)
    return len(houses), 3


def _seed_grievances(session: Session, applicants, gp_code: int) -> int:
    now = datetime.utcnow()
    lodged = [
        (
            "street_light",
            "Street light near the primary school has not worked for a week.",
            "Bagula Primary School",
            None,
        ),
        ("tube_well", "রায়পাড়ার টিউবওয়েল থেকে জল পড়ছে না।", "রায়পাড়া", "assigned"),
        ("drainage", "Drain beside the market is blocked and overflowing.", "Bagula Bazar", "resolved"),
        ("road", "rastar majhe boro gorto, cycle chalano jacche na", "Station Road", None),
    ]
    for index, (category, text, place, state) in enumerate(lodged):
        # The last one is old and untouched, so that the overdue list has something to show.
        at = now - timedelta(days=12) if index == 3 else now - timedelta(days=2)
        grievance = grievances.lodge(
            session, applicants[index % len(applicants)], category, text, gp_code=gp_code, location_text=place, at=at
        )
        if state in ("assigned", "resolved"):
            grievances.assign(session, grievance, "Ratan Mistri (sample)", actor="demo-secretary")
        if state == "resolved":
            grievances.resolve(session, grievance, "Drain cleaned by the sanitation team", actor="demo-secretary")
            grievances.rate(session, grievance, grievance.citizen, 4)
    return len(lodged)


def _seed_employees(session: Session, gp_code: int, today: date) -> int:
    staff = [
        ("DEMO-EMP-001", "Anita Pramanik", "অনিতা প্রামাণিক", "Executive Assistant", "910000000001", 28900),
        ("DEMO-EMP-002", "Bikash Mondal", "বিকাশ মণ্ডল", "Nirman Sahayak", "910000000002", 25500),
        ("DEMO-EMP-003", "Rahima Khatun", "রহিমা খাতুন", "Secretary", "910000000003", 35400),
    ]
    # Twelve months of pay, ending with last month.
    months = []
    year, month = today.year, today.month
    for _ in range(12):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year:04d}-{month:02d}")
    for code, name_en, name_bn, designation, phone, basic in staff:
        employee = Employee(
            code=code, name_en=name_en, name_bn=name_bn, designation=designation, phone=phone, gp_code=gp_code
        )
        session.add(employee)
        session.flush()
        for ym in months:
            components = {
                "basic_pay": ("earning", basic),
                "dearness_allowance": ("earning", round(basic * 0.14)),
                "house_rent_allowance": ("earning", round(basic * 0.12)),
                "medical_allowance": ("earning", 500),
                "provident_fund": ("deduction", round(basic * 0.12)),
                "professional_tax": ("deduction", 200),
            }
            for component, (kind, rupees) in components.items():
                session.add(
                    PayrollLine(
                        employee_id=employee.id, month=ym, component=component, kind=kind, amount_paise=rupees * 100
                    )
                )
    return len(staff)
