"""Two-factor sign-in: TOTP (RFC 6238, pyotp) and one-time recovery codes. Plain logic."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp

ISSUER = "Staffing CRM"
STEP = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def provisioning_uri(secret: str, email: str, tenant_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=f"{ISSUER} ({tenant_name})")


def matching_step(secret: str, code: str, last_step: int | None, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to (this one or one either side, for clock drift),
    or None. A step at or before ``last_step`` is refused: a code works once."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    current = int(now // STEP)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k7qm-x2nd-p4rt`` (12 random letters/digits, about 59 bits each)."""
    out = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        out.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return out


def normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery(code: str) -> str:
    """Recovery codes are random and long, so a plain SHA-256 is enough (no guessable input)."""
    return hashlib.sha256(normalise_recovery(code).encode()).hexdigest()


def looks_like_recovery(code: str) -> bool:
    return len(normalise_recovery(code)) == 12
