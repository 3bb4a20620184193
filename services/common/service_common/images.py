"""Uploaded images (company logos): decoded and checked with Pillow, then re-encoded,
so nothing but the pixels survives (no trailing HTML/SVG of a polyglot, no metadata).

Used by the gateway (to answer the user at once, in plain words) and by the crm's
``set_logo`` (which trusts no caller). Pillow is imported lazily: only the
deployables that handle images depend on it.
"""
from __future__ import annotations

import io
import warnings

MAX_BYTES = 1024 * 1024  # 1 MiB uploaded
MAX_SIDE = 4096  # pixels, either side
MAX_PIXELS = 16_000_000  # width × height, decided from the header before any decoding
STORED_SIDE = 192  # what is kept: twice the card's 96 px box (sharp on high-density screens)
LIST_SIDE = 40  # the overview row shows 20 px
TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class ImageRejected(ValueError):
    """Not an image we keep; the message is for the user."""


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


def _open(data: bytes):
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb check, as a second line
    try:
        return Image.open(io.BytesIO(data), formats=list(TYPES))
    except Image.DecompressionBombError:
        raise ImageRejected(f"The image is larger than {MAX_SIDE} × {MAX_SIDE} pixels. "
                            "Scale it down and upload it again.") from None
    except Exception:  # noqa: BLE001 - any failure to read the header: not an image we take
        raise ImageRejected("The file is damaged or not really a PNG, JPEG or WebP image.") from None


def process_logo(data: bytes) -> tuple[str, bytes]:
    """Check and re-encode an uploaded logo -> (content type, image bytes), scaled to fit
    192 × 192. PNG stays PNG, WebP stays WebP, JPEG stays JPEG. ImageRejected otherwise."""
    if not data:
        raise ImageRejected("Choose an image file to upload.")
    if len(data) > MAX_BYTES:
        raise ImageRejected(f"The logo is {len(data) / 1024 / 1024:.1f} MiB; the limit is 1 MiB.")
    if sniff(data) is None:
        markup = _looks_like_markup(data)
        if markup == "svg":
            raise ImageRejected("SVG logos are not accepted (they can carry scripts). Upload a PNG, JPEG or WebP image.")
        if markup == "html":
            raise ImageRejected("That file is a web page, not an image. Upload a PNG, JPEG or WebP image.")
        raise ImageRejected("That file is not a PNG, JPEG or WebP image.")
    from PIL import Image, ImageOps

    image = _open(data)
    with image:
        width, height = image.size
        if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
            raise ImageRejected(f"The image is {width} × {height} pixels; the limit is {MAX_SIDE} × {MAX_SIDE}. "
                                "Scale it down and upload it again.")
        if width < 1 or height < 1:
            raise ImageRejected("The image has no pixels.")
        fmt = image.format
        if fmt == "JPEG":
            image.draft("RGB", (STORED_SIDE * 2, STORED_SIDE * 2))  # decode at a reduced size: faster, less memory
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image.load()
                picture = ImageOps.exif_transpose(image)
        except ImageRejected:
            raise
        except Exception:  # noqa: BLE001 - truncated, corrupt, a bomb: refuse
            raise ImageRejected("The file is damaged or not really a PNG, JPEG or WebP image.") from None
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    picture = picture.convert("RGBA" if has_alpha and fmt != "JPEG" else "RGB")
    picture.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    return TYPES[fmt], _encode(picture, fmt)


def _encode(picture, fmt: str) -> bytes:
    picture.info = {}  # Pillow would write back a JPEG comment, EXIF, ICC or PNG text from here: pixels only
    out = io.BytesIO()
    if fmt == "PNG":
        picture.save(out, "PNG", optimize=True)
    elif fmt == "WEBP":
        picture.save(out, "WEBP", quality=90, method=4)
    else:
        picture.save(out, "JPEG", quality=88, optimize=True, progressive=True)
    return out.getvalue()


def thumbnail(data: bytes, side: int = LIST_SIDE) -> tuple[str, bytes]:
    """A stored logo scaled down for the overview row -> (content type, bytes)."""
    from PIL import Image

    image = _open(data)
    with image:
        fmt = image.format
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageRejected("The stored logo is too large.")
        picture = image.convert("RGBA" if fmt != "JPEG" and image.mode in ("RGBA", "LA", "P", "PA") else "RGB")
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    return TYPES[fmt], _encode(picture, fmt)
