"""Folding text for search, shared by the crm and the registry index: case- and
accent-insensitive, Nordic letters included
("Østfold" -> "ostfold", "Ærø" -> "aero", "Göteborg" -> "goteborg")."""
from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT_GAP = re.compile(r"(?<=\d)[\s.\-/]+(?=\d)")
MAX_WORD = 64


@lru_cache(maxsize=262144)
def _fold_token(token: str) -> str:
    return unidecode(token).lower()


def fold(text: str | None) -> str:
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    # word by word through a cache: names repeat their words (AS, Bygg, Østfold) endlessly
    return " ".join(t if t.isascii() and t.islower() else _fold_token(t) for t in text.split())


def words(text: str | None) -> list[str]:
    """The folded words of ``text``; digit groups like "976 030 788" join up."""
    return [w[:MAX_WORD] for w in _WORD.findall(_DIGIT_GAP.sub("", fold(text)))]


def name_key(name: str | None) -> str:
    """What name-prefix search compares against: folded words joined by one space."""
    return " ".join(words(name))[:200]


def search_words(name: str | None) -> list[str]:
    """The distinct words a company is found by (organisation numbers have their own btree)."""
    return list(dict.fromkeys(words(name)))


_NUMBERISH = re.compile(r"^[A-Za-z]{0,2}\d[\d\s.\-]*$")


def number_prefix(q: str) -> str | None:
    """The query as the start of an organisation number ("976 03", "sc1000"), else None."""
    q = q.strip()
    if not _NUMBERISH.match(q):
        return None
    compact = re.sub(r"[\s.\-]", "", q).upper()
    return compact if len(compact) >= 2 else None


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``
    (the words are ASCII a-z0-9 and space)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def sort_key(name: str | None) -> str:
    """How names sort: folded words joined by one space (same as ``name_key``)."""
    return name_key(name)


def company_words(name: str, org_number: str | None) -> set[str]:
    """What a CRM company is found by: its folded name words and its org number."""
    found = set(words(name))
    if org_number:
        found.add(org_number.lower()[:MAX_WORD])
    return found


def prefix_range(prefix: str) -> tuple[str, str]:
    """[low, high) covering every word starting with ``prefix``."""
    return prefix, prefix_end(prefix)
