"""What a file is, judged by its first bytes rather than by its name or what its sender declared.

The one check of uploaded files: the WhatsApp channel's downloads and the documents handed in
to an application both go through `sniff`.
"""

from typing import Optional, Tuple

# (first bytes, mime type, file extension) of the only kinds taken: JPEG, PNG and PDF.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
# How many first bytes `sniff` needs.
HEAD_BYTES = 8


def sniff(head: bytes) -> Optional[Tuple[str, str]]:
    """(mime type, file extension) from a file's first bytes, for JPEG, PNG and PDF only."""
    for magic, mime, extension in SIGNATURES:
        if head.startswith(magic):
            return mime, extension
    return None
