"""Organisation numbers per country: normalise and validate.

Norway: 9 digits, mod-11 check digit (Brønnøysund). Sweden: 10 digits, Luhn
(Bolagsverket). Denmark: CVR, 8 digits, mod-11. UK: Companies House company
number, 8 characters (digits, or a two-letter prefix such as SC, NI, OC).
"""
from __future__ import annotations

import re

from stdnum.dk import cvr as dk_cvr
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

COUNTRIES = {"NO": "Norway", "SE": "Sweden", "DK": "Denmark", "GB": "United Kingdom"}
_UK = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6}|[A-Z]{2}\d{5}[A-Z])$")


def normalise(country: str, value: str) -> str:
    """Return the canonical form, or raise ValueError with a user-facing reason."""
    raw = (value or "").strip()
    if country == "GB":
        compact = re.sub(r"\s", "", raw).upper()
        if compact.isdigit() and len(compact) < 8:
            compact = compact.zfill(8)
        if not _UK.match(compact):
            raise ValueError("A UK company number has 8 characters, e.g. 00445790 or SC123456")
        return compact
    validators = {
        "NO": (no_orgnr, "A Norwegian organisation number has 9 digits with a valid check digit"),
        "SE": (se_orgnr, "A Swedish organisation number has 10 digits with a valid check digit"),
        "DK": (dk_cvr, "A Danish CVR number has 8 digits with a valid check digit"),
    }
    if country not in validators:
        raise ValueError("Unknown country")
    module, reason = validators[country]
    try:
        return module.validate(raw).replace("-", "")
    except StdnumError:
        raise ValueError(reason) from None
