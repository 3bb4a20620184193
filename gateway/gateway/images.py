"""Logo uploads: what a file is, decided by its content (magic bytes), never
by its name or the browser's claimed type. Plain logic."""
from __future__ import annotations

MAX_LOGO_BYTES = 1024 * 1024  # 1 MiB
ALLOWED = ("image/png", "image/jpeg", "image/webp")


class ImageRejected(ValueError):
    pass


def sniff(data: bytes) -> str | None:
    """The image type by content: image/png, image/jpeg, image/webp, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _looks_like_markup(data: bytes) -> str | None:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in data[:4096].lower()):
        return "svg"
    if head.startswith((b"<!doctype html", b"<html", b"<script", b"<body", b"<head")) or b"<html" in head:
        return "html"
    return None


def check_logo(data: bytes) -> str:
    """The content type to store, or ImageRejected with a message for the user."""
    if not data:
        raise ImageRejected("Choose an image file to upload.")
    if len(data) > MAX_LOGO_BYTES:
        raise ImageRejected(f"The logo is {len(data) / 1024 / 1024:.1f} MiB; the limit is 1 MiB.")
    kind = sniff(data)
    if kind:
        return kind
    markup = _looks_like_markup(data)
    if markup == "svg":
        raise ImageRejected("SVG logos are not accepted (they can carry scripts). Upload a PNG, JPEG or WebP image.")
    if markup == "html":
        raise ImageRejected("That file is a web page, not an image. Upload a PNG, JPEG or WebP image.")
    raise ImageRejected("That file is not a PNG, JPEG or WebP image.")
