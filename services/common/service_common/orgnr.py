"""Organisation numbers per country: normalise and validate.

Norway: 9 digits, mod-11 check digit (Brønnøysund). Sweden: 10 digits, Luhn
(Bolagsverket). Denmark: CVR, 8 digits, mod-11. UK: Companies House company
number, 8 characters (digits, or a two-letter prefix such as SC, NI, OC, FC).
Sub-unit identifiers are looser: a Danish P-number has 10 digits, a UK
establishment is a company number (BR...).
"""
from __future__ import annotations

import re

from stdnum.dk import cvr as dk_cvr
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

COUNTRIES = ("NO", "SE", "DK", "GB")
_UK = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6}|[A-Z]{2}\d{5}[A-Z])$")
_SEP = re.compile(r"[\s.\-]")
_REASONS = {
    "NO": "A Norwegian organisation number has 9 digits with a valid check digit",
    "SE": "A Swedish organisation number has 10 digits with a valid check digit",
    "DK": "A Danish CVR number has 8 digits with a valid check digit",
    "GB": "A UK company number has 8 characters, e.g. 00445790 or SC123456",
}
_MODULES = {"NO": no_orgnr, "SE": se_orgnr, "DK": dk_cvr}


def normalise(country: str, value: str | None) -> str:
    """Return the canonical form, or raise ValueError with a user-facing reason."""
    raw = (value or "").strip()
    if country == "GB":
        compact = _SEP.sub("", raw).upper()
        if compact.isdigit() and 5 <= len(compact) < 8:
            compact = compact.zfill(8)
        if not _UK.match(compact):
            raise ValueError(_REASONS["GB"])
        return compact
    module = _MODULES.get(country)
    if module is None:
        raise ValueError("Unknown country")
    try:
        return module.validate(raw).replace("-", "")
    except StdnumError:
        raise ValueError(_REASONS[country]) from None


def parse(country: str, value: str | None) -> str | None:
    """The canonical number if ``value`` is a valid one for ``country``, else None."""
    try:
        return normalise(country, value)
    except ValueError:
        return None


def normalise_unit(country: str, value: str | None) -> str:
    """A company or sub-unit id: a company number, or a Danish P-number (10 digits)."""
    raw = _SEP.sub("", (value or "").strip())
    if country == "DK" and raw.isdigit() and len(raw) == 10:
        return raw
    return normalise(country, value)


# -- check digits, for the dev data generator ---------------------------
def no_check_digit(first8: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(first8, (3, 2, 7, 6, 5, 4, 3, 2)))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def dk_check_digit(first7: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(first7, (2, 7, 6, 5, 4, 3, 2)))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def luhn_check_digit(digits: str) -> int:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10
