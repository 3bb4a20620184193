"""Folding text for search: case- and accent-insensitive, Nordic letters included
("Østfold" -> "ostfold", "Ærø" -> "aero", "Göteborg" -> "goteborg")."""
from __future__ import annotations

import re

from unidecode import unidecode

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT_GAP = re.compile(r"(?<=\d)[\s.\-/]+(?=\d)")
MAX_WORD = 64


def fold(text: str | None) -> str:
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    return unidecode(text).lower()


def words(text: str | None) -> list[str]:
    """The folded words of ``text``; digit groups like "976 030 788" join up."""
    return [w[:MAX_WORD] for w in _WORD.findall(_DIGIT_GAP.sub("", fold(text)))]


def name_key(name: str | None) -> str:
    """What name-prefix search compares against: folded words joined by one space."""
    return " ".join(words(name))[:200]


def search_words(name: str | None, org_number: str | None) -> list[str]:
    """Words an entity is found by: its name's words and its organisation number."""
    found = list(dict.fromkeys(words(name)))
    if org_number:
        found.append(org_number.lower()[:MAX_WORD])
    return found


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``
    (the words are ASCII a-z0-9 and space)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
