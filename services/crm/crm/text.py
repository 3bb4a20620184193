"""Folding text for search: case- and accent-insensitive, Nordic letters included
("Østfold" -> "ostfold", "Ærø" -> "aero", "Göteborg" -> "goteborg")."""
from __future__ import annotations

import re

from unidecode import unidecode

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT_GAP = re.compile(r"(?<=\d)[\s.\-]+(?=\d)")


def fold(text: str) -> str:
    return unidecode(text or "").lower()


def words(text: str) -> list[str]:
    """The folded words of ``text``; digit groups like "976 030 788" join up."""
    return _WORD.findall(_DIGIT_GAP.sub("", fold(text)))


def sort_key(name: str) -> str:
    return " ".join(words(name))[:200]


def company_words(name: str, org_number: str | None) -> set[str]:
    found = {w[:64] for w in words(name)}
    if org_number:
        found.add(org_number.lower()[:64])
    return found


def prefix_range(prefix: str) -> tuple[str, str]:
    """[low, high) covering every word starting with ``prefix`` (ASCII a-z0-9)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
