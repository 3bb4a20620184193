"""Logo uploads: what a file is, decided by decoding it (Pillow, through
service_common.images), never by its name or the browser's claimed type.
The gateway re-encodes and scales the logo before it goes to the crm (which
checks it again: other API callers may store logos too)."""
from __future__ import annotations

from service_common.images import MAX_BYTES, ImageRejected, process_logo, sniff, thumbnail  # noqa: F401

MAX_LOGO_BYTES = MAX_BYTES  # 1 MiB
ALLOWED = ("image/png", "image/jpeg", "image/webp")


def check_logo(data: bytes) -> tuple[str, bytes]:
    """(content type, re-encoded bytes) to store, or ImageRejected with a message for the user."""
    return process_logo(data)
