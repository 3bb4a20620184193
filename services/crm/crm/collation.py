"""How company names sort: as the tenant's language sorts them (issue 13).

Norwegian and Danish put Æ Ø Å after Z, Swedish Å Ä Ö; English folds them in
with A and O. The overview sorts on a stored column (``companies.sort_name``,
every sort index ends with it), so the name is collated once, when it is
written: ``sort_name`` holds the ICU collation key of the name in the tenant's
language, hex-encoded so that a plain byte-wise string comparison (SQLite's
BINARY, PostgreSQL's ``COLLATE "C"`` on that column) orders rows exactly as
ICU does. Sorting stays an index walk, as fast as before.
"""
from __future__ import annotations

import re
from functools import lru_cache

import icu
from sqlalchemy import select, update
from sqlalchemy.orm import Session

LANGUAGES = ("nb", "da", "sv", "en")
KEY_CHARS = 1000  # column width; a 200-character Latin name needs about 430
_BY_CURRENCY = {"NOK": "nb", "DKK": "da", "SEK": "sv"}
_ALIASES = {"no": "nb", "nn": "nb", "nb": "nb", "da": "da", "sv": "sv", "en": "en"}
_WORD = re.compile(r"\w+")


def language(tenant_language: str | None, currency: str | None = None) -> str:
    """The collation language of a tenant: its default language, else the one of
    the country its currency names (NOK, DKK, SEK), else English."""
    if tenant_language:
        lang = _ALIASES.get(tenant_language.split("-")[0].split("_")[0].lower())
        if lang:
            return lang
    return _BY_CURRENCY.get((currency or "").upper(), "en")


@lru_cache(maxsize=8)
def _collator(lang: str):
    return icu.Collator.createInstance(icu.Locale(lang))


def key(name: str | None, lang: str = "en") -> str:
    """The stored sort key of ``name`` (punctuation ignored, words joined by one space)."""
    words = " ".join(_WORD.findall(name or ""))
    raw = _collator(lang if lang in LANGUAGES else "en").getSortKey(words)
    return raw.rstrip(b"\x00").hex()[:KEY_CHARS]


def tenant_language(session: Session, tenant_id: int) -> str:
    from .models import Tenant

    row = session.execute(select(Tenant.language, Tenant.currency).where(Tenant.id == tenant_id)).first()
    return language(row[0], row[1]) if row else "en"


def rekey_tenant(session: Session, tenant_id: int, lang: str | None = None, batch: int = 2000) -> int:
    """Recompute every company's key of a tenant (its language changed, or a migration)."""
    from .models import Company

    lang = lang or tenant_language(session, tenant_id)
    done, after = 0, 0
    while True:
        rows = session.execute(select(Company.id, Company.name).where(Company.tenant_id == tenant_id, Company.id > after)
                               .order_by(Company.id).limit(batch)).all()
        if not rows:
            return done
        session.execute(update(Company), [{"id": i, "sort_name": key(n, lang)} for i, n in rows])
        done += len(rows)
        after = rows[-1][0]
