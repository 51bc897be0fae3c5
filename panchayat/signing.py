"""Signed certificate payloads: what the QR code on a certificate carries.

The payload names the certificate number and its holder, with an HMAC-SHA256
over both under a key only the panchayat system holds (`CERTIFICATE_SIGNING_KEY`;
on a laptop without one, a key is made once in var/). Anyone can ask the
verify endpoint or `python -m panchayat certificates verify` about a payload;
a changed number or name no longer matches its signature.
"""

import base64
import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qs, quote, urlparse

from panchayat import config

VERSION = "P1"


def signing_key() -> bytes:
    key = os.environ.get("CERTIFICATE_SIGNING_KEY")
    if key:
        return key.encode("utf-8")
    path = config.VAR_DIR / "signing.key"
    if not path.exists():
        config.VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def _holder_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name or "").split()).casefold()


def _mac(number: str, holder: str) -> str:
    message = f"{VERSION}|{number}|{_holder_key(holder)}".encode()
    digest = hmac.new(signing_key(), message, hashlib.sha256).digest()[:15]
    return base64.b32encode(digest).decode("ascii")


def sign(number: str, holder: str) -> str:
    """`P1.<number>.<holder, URL-quoted>.<signature>`: short enough for a small QR code."""
    return f"{VERSION}.{number}.{quote(holder, safe='')}.{_mac(number, holder)}"


@dataclass
class Payload:
    number: str
    holder: str
    signature_ok: bool


def read(payload_or_url: str) -> Optional[Payload]:
    """Parses a payload (or a verify URL carrying one); None when it is not one of ours."""
    text = (payload_or_url or "").strip()
    if "://" in text:
        query = parse_qs(urlparse(text).query)
        text = (query.get("c") or [""])[0]
    parts = text.split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        return None
    from urllib.parse import unquote

    number, holder, mac = parts[1], unquote(parts[2]), parts[3]
    return Payload(number=number, holder=holder, signature_ok=hmac.compare_digest(mac, _mac(number, holder)))


def verify_url(payload: str) -> str:
    base = os.environ.get("PUBLIC_BASE_URL", "http://localhost:5005").rstrip("/")
    return f"{base}/webhooks/verify/certificate?c={quote(payload, safe='')}"
