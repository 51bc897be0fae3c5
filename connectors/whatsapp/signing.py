"""The signature Meta puts on every webhook: X-Hub-Signature-256 = "sha256=" + HMAC-SHA256 of the
raw body under the app secret. The one implementation: the channel checks it, and whatever plays
Meta's part (the Graph API fake, the simulator, the load and fault scripts, the tests) makes it.
"""

import hashlib
import hmac
from typing import Dict, Optional

HEADER = "X-Hub-Signature-256"


def signature(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header value Meta sends with `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def valid_signature(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """True when `header` signs exactly these bytes with the app secret (compared in constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(app_secret, body).encode(), header.strip().encode())


def signed_headers(app_secret: str, body: bytes) -> Dict[str, str]:
    """The headers of a webhook POST carrying `body`, as Meta sends them."""
    return {"Content-Type": "application/json", HEADER: signature(app_secret, body)}
