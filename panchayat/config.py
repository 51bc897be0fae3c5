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


def int_setting(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


# Complaints untouched for longer than this are listed as overdue.
GRIEVANCE_OVERDUE_DAYS = int_setting("GRIEVANCE_OVERDUE_DAYS", 7)
# Longest guest-house stay one booking may cover.
BOOKING_MAX_NIGHTS = int_setting("BOOKING_MAX_NIGHTS", 7)
