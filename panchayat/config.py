"""Settings, read from the environment with defaults that suit one laptop."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PANCHAYAT_VAR_DIR", PROJECT_ROOT / "var"))


def database_url() -> str:
    """`DATABASE_URL` selects the database; the default is a SQLite file in the project."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{VAR_DIR / 'panchayat.db'}"


def tracker_database_url() -> str:
    """Rasa's SQL tracker store (its `events` table): `TRACKER_DATABASE_URL`, or the SQLite file
    that `scripts/stack.py` gives the Rasa server of one machine."""
    url = os.environ.get("TRACKER_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{VAR_DIR.resolve() / 'trackers.db'}"


def int_setting(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


# Complaints untouched for longer than this are listed as overdue.
GRIEVANCE_OVERDUE_DAYS = int_setting("GRIEVANCE_OVERDUE_DAYS", 7)
# Conversations, queued messages and files no official record uses are kept this long
# (`python -m panchayat retention purge`); the privacy notice says so.
CONVERSATION_RETENTION_DAYS = int_setting("CONVERSATION_RETENTION_DAYS", 90)
# Longest guest-house stay one booking may cover.
BOOKING_MAX_NIGHTS = int_setting("BOOKING_MAX_NIGHTS", 7)

# Employees' second factor (pay slips go only to a verified employee): wrong PINs in a row
# before the employee is locked out, how long the lock lasts, and how long a correct PIN
# keeps the pay documents open.
EMPLOYEE_MAX_PIN_ATTEMPTS = int_setting("EMPLOYEE_MAX_PIN_ATTEMPTS", 5)
EMPLOYEE_LOCK_MINUTES = int_setting("EMPLOYEE_LOCK_MINUTES", 30)
EMPLOYEE_VERIFIED_MINUTES = int_setting("EMPLOYEE_VERIFIED_MINUTES", 10)

# WhatsApp channel: where downloaded photos and documents are kept, and the largest one taken
# (the same cap as an application document).
WHATSAPP_MEDIA_DIR = Path(os.environ.get("WHATSAPP_MEDIA_DIR", VAR_DIR / "whatsapp-media"))
WHATSAPP_MAX_MEDIA_BYTES = int_setting("WHATSAPP_MAX_MEDIA_BYTES", 5 * 1024 * 1024)

# Notification worker (connectors.notifier): sends of one notification before it is marked
# failed, the first wait between them (doubling up to the cap), and how long a claim holds
# before another worker may take the row over as abandoned by a crash. The lease must outlast
# the slowest delivery (three Graph calls, each with its own retries and timeouts).
NOTIFIER_MAX_ATTEMPTS = int_setting("NOTIFIER_MAX_ATTEMPTS", 5)
NOTIFIER_RETRY_SECONDS = int_setting("NOTIFIER_RETRY_SECONDS", 60)
NOTIFIER_RETRY_MAX_SECONDS = int_setting("NOTIFIER_RETRY_MAX_SECONDS", 3600)
NOTIFIER_LEASE_SECONDS = int_setting("NOTIFIER_LEASE_SECONDS", 900)
