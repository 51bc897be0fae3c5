"""What a log line (or the outbound table's error column) may show of a number, a secret or a message."""

import hashlib
import re
from typing import Any


def mask_number(wa_id: Any) -> str:
    """A phone number fit for logs: country code and last four digits only (91******0001)."""
    value = str(wa_id or "")
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 6) + value[-4:]


def scrub(value: str, *secrets: str) -> str:
    """Removes secrets and long digit runs (phone numbers) from a text bound for the logs."""
    for secret in secrets:
        if secret:
            value = value.replace(secret, "***")
    return re.sub(r"\d{7,}", lambda m: mask_number(m.group(0)), value)


def message_ref(wamid: str) -> str:
    """A short stand-in for a message id in logs: a wamid encodes the sender's number."""
    return "msg:" + hashlib.sha256(str(wamid).encode()).hexdigest()[:12]
