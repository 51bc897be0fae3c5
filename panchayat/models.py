"""SQLAlchemy models of the panchayat's books.

Integrity lives in the database: identifiers are unique, states are checked,
and a room can hold one booking per night (primary key of ``room_nights``).
Money is kept in paise (integers) so sums never drift.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship

# Stable constraint names, so that Alembic migrations work on SQLite and PostgreSQL alike.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


# A declared class, not `Base = declarative_base()`, so that type checkers see a class to derive from.
@registry(metadata=metadata).as_declarative_base()
class Base:
    if TYPE_CHECKING:
        # The declarative constructor takes the mapped columns as keywords.
        def __init__(self, **columns: Any) -> None: ...


LANGUAGES = ("bn", "en")
APPLICATION_STATUSES = ("submitted", "under_review", "approved", "rejected")
BOOKING_STATUSES = ("confirmed", "cancelled")
GRIEVANCE_STATUSES = ("open", "assigned", "resolved")
GRIEVANCE_CATEGORIES = (
    "street_light",
    "drinking_water",
    "tube_well",
    "drainage",
    "road",
    "sanitation",
    "other",
)
# "sending": claimed by a notification worker, which holds it until claimed_at + its lease.
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed")
# A WhatsApp message sent: "accepted" is what the Graph API answered; the rest arrive later as
# delivery receipts.
OUTBOUND_STATUSES = ("accepted", "sent", "delivered", "read", "failed")
OFFICIAL_ROLES = ("pradhan", "upa_pradhan", "secretary", "executive_assistant", "nirman_sahayak")
PAY_KINDS = ("earning", "deduction")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def utcnow() -> datetime:
    return datetime.utcnow()


class District(Base):
    __tablename__ = "districts"
    lgd_code = Column(Integer, primary_key=True, autoincrement=False)
    name_en = Column(String(100), nullable=False, unique=True)
    name_bn = Column(String(100), nullable=False)
    # Spelling used by older LGD exports ("24 PARAGANAS NORTH"), kept for matching.
    name_lgd = Column(String(100), nullable=False)

    blocks = relationship("Block", back_populates="district", order_by="Block.name_en")


class Block(Base):
    __tablename__ = "blocks"
    lgd_code = Column(Integer, primary_key=True, autoincrement=False)
    district_code = Column(ForeignKey("districts.lgd_code"), nullable=False, index=True)
    name_en = Column(String(100), nullable=False)
    name_bn = Column(String(100))
    # The 2026 sub-district spelling ("Barasat - I"), a second spelling for matching.
    alt_name_en = Column(String(100))

    district = relationship("District", back_populates="blocks")
    gram_panchayats = relationship("GramPanchayat", back_populates="block")


class GramPanchayat(Base):
    __tablename__ = "gram_panchayats"
    lgd_code = Column(Integer, primary_key=True, autoincrement=False)
    block_code = Column(ForeignKey("blocks.lgd_code"), nullable=False, index=True)
    name_en = Column(String(120), nullable=False)
    name_bn = Column(String(120))
    # Demo rows carry invented codes and details; never show them as official.
    is_sample = Column(Boolean, nullable=False, default=False)
    office_hours_en = Column(Text)
    office_hours_bn = Column(Text)
    address_en = Column(Text)
    address_bn = Column(Text)
    phone = Column(String(20))
    email = Column(String(120))

    block = relationship("Block", back_populates="gram_panchayats")
    officials = relationship("Official", back_populates="gram_panchayat", order_by="Official.id")


class Official(Base):
    __tablename__ = "officials"
    __table_args__ = (CheckConstraint(_in("role", OFFICIAL_ROLES), name="role"),)
    id = Column(Integer, primary_key=True)
    gp_code = Column(ForeignKey("gram_panchayats.lgd_code"), nullable=False, index=True)
    role = Column(String(30), nullable=False)
    name_en = Column(String(120), nullable=False)
    name_bn = Column(String(120))
    phone = Column(String(20))

    gram_panchayat = relationship("GramPanchayat", back_populates="officials")


class Citizen(Base):
    __tablename__ = "citizens"
    __table_args__ = (CheckConstraint(_in("language", LANGUAGES), name="language"),)
    id = Column(Integer, primary_key=True)
    wa_id = Column(String(64), nullable=False, unique=True)
    name = Column(String(120))
    language = Column(String(2))
    # True once the citizen chose a language explicitly; detection no longer overrides it.
    language_explicit = Column(Boolean, nullable=False, default=False)
    gp_code = Column(ForeignKey("gram_panchayats.lgd_code"), index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime)

    gram_panchayat = relationship("GramPanchayat")


class ConsentRecord(Base):
    """That the privacy notice (DPDP Act) of a given version was shown to the citizen, and when.

    A new notice version is shown again at the citizen's next message."""

    __tablename__ = "consent_records"
    __table_args__ = (UniqueConstraint("citizen_id", "notice_version"),)
    id = Column(Integer, primary_key=True)
    citizen_id = Column(ForeignKey("citizens.id"), nullable=False, index=True)
    notice_version = Column(String(20), nullable=False)
    language = Column(String(2), nullable=False)
    shown_at = Column(DateTime, nullable=False, default=utcnow)


class IdentifierCounter(Base):
    """Last number issued per prefix and year (BP-2026-000001 ...)."""

    __tablename__ = "identifier_counters"
    prefix = Column(String(4), primary_key=True)
    year = Column(Integer, primary_key=True, autoincrement=False)
    last_value = Column(Integer, nullable=False, default=0)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (CheckConstraint(_in("status", APPLICATION_STATUSES), name="status"),)
    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    service = Column(String(40), nullable=False, index=True)
    citizen_id = Column(ForeignKey("citizens.id"), nullable=False, index=True)
    gp_code = Column(ForeignKey("gram_panchayats.lgd_code"), nullable=False, index=True)
    status = Column(String(20), nullable=False, default="submitted", index=True)
    # Field values as the service definition names them.
    fields = Column(JSON, nullable=False, default=dict)
    fee_paise = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)

    citizen = relationship("Citizen")
    gram_panchayat = relationship("GramPanchayat")
    events = relationship("ApplicationEvent", order_by="ApplicationEvent.id", back_populates="application")
    attachments = relationship("Attachment", back_populates="application", order_by="Attachment.id")
    certificate = relationship("Certificate", uselist=False, back_populates="application")


class ApplicationEvent(Base):
    __tablename__ = "application_events"
    __table_args__ = (CheckConstraint(_in("to_status", APPLICATION_STATUSES), name="to_status"),)
    id = Column(Integer, primary_key=True)
    application_id = Column(ForeignKey("applications.id"), nullable=False, index=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    actor = Column(String(120), nullable=False)
    from_status = Column(String(20))
    to_status = Column(String(20), nullable=False)
    note = Column(Text)

    application = relationship("Application", back_populates="events")


class Certificate(Base):
    __tablename__ = "certificates"
    id = Column(Integer, primary_key=True)
    application_id = Column(ForeignKey("applications.id"), nullable=False, unique=True)
    number = Column(String(20), nullable=False, unique=True)
    issued_at = Column(DateTime, nullable=False, default=utcnow)
    valid_until = Column(Date)
    signatory_name = Column(String(120), nullable=False)
    signatory_designation = Column(String(120), nullable=False)
    revoked_at = Column(DateTime)
    revoke_reason = Column(Text)

    application = relationship("Application", back_populates="certificate")


class GuestHouse(Base):
    __tablename__ = "guest_houses"
    id = Column(Integer, primary_key=True)
    gp_code = Column(ForeignKey("gram_panchayats.lgd_code"), index=True)
    block_code = Column(ForeignKey("blocks.lgd_code"), nullable=False, index=True)
    name_en = Column(String(120), nullable=False)
    name_bn = Column(String(120))
    address_en = Column(Text)
    address_bn = Column(Text)
    phone = Column(String(20))
    is_sample = Column(Boolean, nullable=False, default=False)

    rooms = relationship("Room", back_populates="guest_house", order_by="Room.label")


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("guest_house_id", "label", name="uq_rooms_guest_house_label"),
        CheckConstraint("tariff_paise >= 0", name="tariff"),
        CheckConstraint("beds > 0", name="beds"),
    )
    id = Column(Integer, primary_key=True)
    guest_house_id = Column(ForeignKey("guest_houses.id"), nullable=False, index=True)
    label = Column(String(20), nullable=False)
    kind = Column(String(30), nullable=False, default="double")
    beds = Column(Integer, nullable=False, default=2)
    tariff_paise = Column(Integer, nullable=False)

    guest_house = relationship("GuestHouse", back_populates="rooms")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(_in("status", BOOKING_STATUSES), name="status"),
        CheckConstraint("check_out > check_in", name="dates"),
        CheckConstraint("rooms_count > 0", name="rooms_count"),
        CheckConstraint("cancelled_by IS NULL OR cancelled_by IN ('guest', 'panchayat')", name="cancelled_by"),
    )
    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    citizen_id = Column(ForeignKey("citizens.id"), nullable=False, index=True)
    guest_house_id = Column(ForeignKey("guest_houses.id"), nullable=False, index=True)
    check_in = Column(Date, nullable=False)
    check_out = Column(Date, nullable=False)
    rooms_count = Column(Integer, nullable=False)
    amount_paise = Column(Integer, nullable=False)
    status = Column(String(20), nullable=False, default="confirmed")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    cancelled_at = Column(DateTime)
    cancelled_by = Column(String(20))
    cancel_reason = Column(Text)

    citizen = relationship("Citizen")
    guest_house = relationship("GuestHouse")
    rooms = relationship("Room", secondary="booking_rooms", order_by="Room.label")


class BookingRoom(Base):
    __tablename__ = "booking_rooms"
    booking_id = Column(ForeignKey("bookings.id"), primary_key=True)
    room_id = Column(ForeignKey("rooms.id"), primary_key=True)


class RoomNight(Base):
    """One row per occupied room-night: the primary key forbids a double booking."""

    __tablename__ = "room_nights"
    room_id = Column(ForeignKey("rooms.id"), primary_key=True)
    night = Column(Date, primary_key=True)
    booking_id = Column(ForeignKey("bookings.id"), nullable=False, index=True)


class Grievance(Base):
    __tablename__ = "grievances"
    __table_args__ = (
        CheckConstraint(_in("status", GRIEVANCE_STATUSES), name="status"),
        CheckConstraint(_in("category", GRIEVANCE_CATEGORIES), name="category"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
    )
    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    citizen_id = Column(ForeignKey("citizens.id"), nullable=False, index=True)
    gp_code = Column(ForeignKey("gram_panchayats.lgd_code"), nullable=False, index=True)
    category = Column(String(30), nullable=False)
    description = Column(Text, nullable=False)
    location_text = Column(Text)
    latitude = Column(Float)
    longitude = Column(Float)
    status = Column(String(20), nullable=False, default="open", index=True)
    assigned_to = Column(String(120))
    resolution_note = Column(Text)
    rating = Column(Integer)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    resolved_at = Column(DateTime)

    citizen = relationship("Citizen")
    gram_panchayat = relationship("GramPanchayat")
    updates = relationship("GrievanceUpdate", order_by="GrievanceUpdate.id", back_populates="grievance")
    attachments = relationship("Attachment", back_populates="grievance", order_by="Attachment.id")


class GrievanceUpdate(Base):
    __tablename__ = "grievance_updates"
    __table_args__ = (CheckConstraint(_in("to_status", GRIEVANCE_STATUSES), name="to_status"),)
    id = Column(Integer, primary_key=True)
    grievance_id = Column(ForeignKey("grievances.id"), nullable=False, index=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    actor = Column(String(120), nullable=False)
    from_status = Column(String(20))
    to_status = Column(String(20), nullable=False)
    note = Column(Text)

    grievance = relationship("Grievance", back_populates="updates")


class Attachment(Base):
    """A stored file handed in by a citizen: an application document or a complaint photo."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("(application_id IS NULL) <> (grievance_id IS NULL)", name="one_owner"),
        CheckConstraint("size_bytes >= 0", name="size"),
    )
    id = Column(Integer, primary_key=True)
    application_id = Column(ForeignKey("applications.id"), index=True)
    grievance_id = Column(ForeignKey("grievances.id"), index=True)
    # e.g. "land_deed", "building_plan", "photo"
    purpose = Column(String(40), nullable=False)
    storage_path = Column(Text, nullable=False)
    mime_type = Column(String(80), nullable=False)
    size_bytes = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    application = relationship("Application", back_populates="attachments")
    grievance = relationship("Grievance", back_populates="attachments")


class Employee(Base):
    __tablename__ = "employees"
    id = Column(Integer, primary_key=True)
    code = Column(String(30), nullable=False, unique=True)
    name_en = Column(String(120), nullable=False)
    name_bn = Column(String(120))
    designation = Column(String(120), nullable=False)
    # Registered WhatsApp number (E.164 digits without "+").
    phone = Column(String(20), nullable=False, unique=True)
    gp_code = Column(ForeignKey("gram_panchayats.lgd_code"), nullable=False, index=True)
    active = Column(Boolean, nullable=False, default=True)
    pin_hash = Column(String(200))
    pin_must_change = Column(Boolean, nullable=False, default=True)
    failed_pin_attempts = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    # After a correct PIN the employee's pay documents are open until this moment.
    verified_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)

    gram_panchayat = relationship("GramPanchayat")
    payroll_lines = relationship("PayrollLine", back_populates="employee")


class PayrollLine(Base):
    __tablename__ = "payroll_lines"
    __table_args__ = (
        UniqueConstraint("employee_id", "month", "component", name="uq_payroll_lines_employee_month_component"),
        CheckConstraint(_in("kind", PAY_KINDS), name="kind"),
        CheckConstraint("amount_paise >= 0", name="amount"),
        CheckConstraint("length(month) = 7", name="month"),
    )
    id = Column(Integer, primary_key=True)
    employee_id = Column(ForeignKey("employees.id"), nullable=False, index=True)
    month = Column(String(7), nullable=False, index=True)  # YYYY-MM
    component = Column(String(40), nullable=False)
    kind = Column(String(10), nullable=False)
    amount_paise = Column(Integer, nullable=False)

    employee = relationship("Employee", back_populates="payroll_lines")


class Notification(Base):
    """Outbox: messages to citizens, written in the same transaction as the change they report."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status"),
        CheckConstraint(_in("language", LANGUAGES), name="language"),
    )
    id = Column(Integer, primary_key=True)
    citizen_id = Column(ForeignKey("citizens.id"), index=True)
    recipient = Column(String(64), nullable=False)
    language = Column(String(2), nullable=False)
    # Message key in the catalogue (e.g. "application_approved") and its parameters.
    kind = Column(String(60), nullable=False)
    params = Column(JSON, nullable=False, default=dict)
    document_path = Column(Text)
    status = Column(String(10), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime)
    provider_message_id = Column(String(128))
    last_error = Column(Text)
    # Delivery over WhatsApp (panchayat.outbox, connectors.notifier): the worker that claimed the row writes its
    # token and the time; a claim older than the lease is taken to be from a crashed worker.
    claim_token = Column(String(32))
    claimed_at = Column(DateTime)
    # After a retryable failure the row waits until then (backoff across runs of the worker).
    next_attempt_at = Column(DateTime)


class AuditLog(Base):
    """Who changed what, when, from which state to which, and why."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    actor = Column(String(120), nullable=False)
    action = Column(String(60), nullable=False)
    entity_type = Column(String(40), nullable=False)
    entity_ref = Column(String(40), nullable=False)
    old_state = Column(String(30))
    new_state = Column(String(30))
    reason = Column(Text)
    details = Column(JSON)


class WhatsAppInbound(Base):
    """One row per inbound WhatsApp message id, inserted before the message is processed
    (panchayat.channel_records). Numbers are kept as keyed hashes: these tables are telemetry."""

    __tablename__ = "whatsapp_inbound"
    id = Column(Integer, primary_key=True)
    wamid = Column(String(255), nullable=False, unique=True)
    sender_hash = Column(String(64), nullable=False, index=True)
    message_type = Column(String(30), nullable=False)
    received_at = Column(DateTime, nullable=False, default=utcnow)
    processed = Column(Boolean, nullable=False, default=False)
    processed_at = Column(DateTime)


class WhatsAppOutbound(Base):
    """One row per message sent (or given up on) through the Graph API."""

    __tablename__ = "whatsapp_outbound"
    __table_args__ = (CheckConstraint(_in("status", OUTBOUND_STATUSES), name="status"),)
    id = Column(Integer, primary_key=True)
    # Empty when the Graph API refused the message.
    provider_message_id = Column(String(255), unique=True)
    recipient_hash = Column(String(64), nullable=False, index=True)
    # text, buttons, list, text_menu, document, image, template
    kind = Column(String(20), nullable=False)
    status = Column(String(12), nullable=False)
    error = Column(Text)
    # The options of a menu ([[title, payload], ...]): a typed number or title answers it.
    menu = Column(JSON)
    sent_at = Column(DateTime, nullable=False, default=utcnow)
    status_at = Column(DateTime)
    # The outbox notification this message delivers (panchayat.outbox): after a crash, the
    # worker looks here to see what the provider already took before it sends anything again.
    notification_id = Column(ForeignKey("notifications.id"), index=True)


# --- the staff console (console/) ------------------------------------------------------

# clerk: reviews applications, assigns and resolves complaints, cancels bookings, imports payroll;
# pradhan, secretary: all of that, and approves, rejects and revokes; block_officer: reads every GP of
# a block; administrator: staff accounts only; trainer: the NLU inbox (no citizen records).
STAFF_ROLES = ("clerk", "pradhan", "secretary", "block_officer", "administrator", "trainer")


class StaffAccount(Base):
    """A panchayat employee who signs in to the console. The password is kept as a scrypt hash;
    a new or reset account holds a one-time password that must be changed at the first login."""

    __tablename__ = "staff_accounts"
    __table_args__ = (
        CheckConstraint(_in("role", STAFF_ROLES), name="role"),
        CheckConstraint(_in("language", LANGUAGES), name="language"),
    )
    id = Column(Integer, primary_key=True)
    username = Column(String(40), nullable=False, unique=True)
    full_name = Column(String(120), nullable=False)
    role = Column(String(20), nullable=False)
    # The scope of every page and action: one GP (clerk, pradhan, secretary) or one block (block officer).
    gp_code = Column(ForeignKey("gram_panchayats.lgd_code"), index=True)
    block_code = Column(ForeignKey("blocks.lgd_code"), index=True)
    language = Column(String(2), nullable=False, default="bn")
    password_hash = Column(String(200), nullable=False)
    must_change_password = Column(Boolean, nullable=False, default=True)
    # Set only by a reset or `staff add`; the one-time password is refused after this moment.
    one_time_password_expires_at = Column(DateTime)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)

    gram_panchayat = relationship("GramPanchayat")
    block = relationship("Block")


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept here, with the
    form token (CSRF) that every form of this session must send back."""

    __tablename__ = "staff_sessions"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    account_id = Column(ForeignKey("staff_accounts.id"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)
    ended_at = Column(DateTime)

    account = relationship("StaffAccount")


class StaffLoginAttempt(Base):
    """One try at the login form, for rate limiting by client; the address is kept as a keyed hash."""

    __tablename__ = "staff_login_attempts"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    client_hash = Column(String(64), nullable=False, index=True)
    succeeded = Column(Boolean, nullable=False, default=False)


# --- the trainers' inbox (panchayat/nlu_inbox.py) --------------------------------------------------

INBOX_STATUSES = ("new", "labelled", "not_for_us")


class NluInboxItem(Base):
    """A group of citizens' messages the assistant did not understand, gathered from the conversations
    (never a phone number or a conversation id: messages are redacted before they are kept here).

    Messages that read alike in either script share a `key` (their phonetic key), so a group is one
    row with its count; `text` is the newest wording, `variants` a few others."""

    __tablename__ = "nlu_inbox_items"
    __table_args__ = (CheckConstraint(_in("status", INBOX_STATUSES), name="status"),)
    id = Column(Integer, primary_key=True)
    key = Column(String(300), nullable=False, unique=True)
    text = Column(Text, nullable=False)
    variants = Column(JSON, nullable=False, default=list)
    count = Column(Integer, nullable=False, default=1)
    # fallback, low_margin, out_of_scope, corrected, abandoned, repeated
    reason = Column(String(20), nullable=False)
    guess_intent = Column(String(60))
    confidence = Column(Float)
    first_seen_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    status = Column(String(12), nullable=False, default="new", index=True)
    label_intent = Column(String(60))
    # [{"start": 0, "end": 5, "entity": "service", "value": "trade_noc"}, ...] over `text`
    label_entities = Column(JSON)
    labelled_by = Column(String(120))
    labelled_at = Column(DateTime)
