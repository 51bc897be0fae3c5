"""Files a citizen hands in while filling a draft: a document for an application, a photo for a
complaint. Each is checked (its type by its first bytes, its size) and a copy is kept under
var/media, named by its content, so the draft holds only where the copy is."""

import hashlib
import re
import shutil
from pathlib import Path
from typing import Dict

from panchayat import config
from panchayat.answers import is_payload
from panchayat.errors import PanchayatError
from panchayat.file_types import HEAD_BYTES, sniff

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def store_document(path_text: str) -> Dict:
    """Checks a handed-in file (type by its first bytes, size) and keeps a copy under var/media."""
    path = Path(path_text.strip().strip("'\""))
    if not path.is_file():
        raise PanchayatError("document_missing")
    size = path.stat().st_size
    if size == 0 or size > MAX_DOCUMENT_BYTES:
        raise PanchayatError("document_too_big", max_mb=MAX_DOCUMENT_BYTES // (1024 * 1024))
    with open(path, "rb") as handle:
        kind = sniff(handle.read(HEAD_BYTES))
    if kind is None:
        raise PanchayatError("document_wrong_type")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    media = config.VAR_DIR / "media"
    media.mkdir(parents=True, exist_ok=True)
    stored = media / f"{digest}{kind[1]}"
    if not stored.exists():
        shutil.copyfile(path, stored)
    return {"path": str(stored), "mime_type": kind[0], "size_bytes": size, "sha256": digest}


def looks_like_a_file(typed: str) -> bool:
    """A path typed in the terminal chat; a button's payload (`/deny`) is not one."""
    return not is_payload(typed) and bool(re.match(r"^\s*['\"]?(/|~|\.{1,2}/|[A-Za-z]:\\)", typed or ""))
