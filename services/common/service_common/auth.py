"""Signed caller tokens: who is calling a service, proven.

Every RPC call carries a short-lived JWT in the ``nameko.auth`` context header,
signed with Ed25519 (EdDSA, PyJWT). Only the holder of a private key can mint;
services hold public keys only, so a compromised service cannot act for any
tenant anywhere else.

Issuers and their keys live in one directory (``AUTH_KEYS_DIR``):
``<issuer>.pub`` is an issuer every service trusts (plus ``<issuer>.<label>.pub``
while a key is rotated: either verifies), ``<issuer>.key`` its private key
(only the issuer's own process gets it). Issuers:

* ``gateway`` mints the tokens of users (``typ=user``), of API clients that
  exchanged their secret (``typ=api``, scopes such as ``companies:read``) and
  its own identity for calls without a tenant (``typ=gateway``: login, the
  unsubscribe page). Only the gateway's key may claim a user or an API client.
* any service name (``credit_monitor``, ...) mints a *service identity*
  (``typ=service``) for background work. A verifying service accepts it only
  for the scopes its configuration grants that issuer (``AUTH_SERVICE_SCOPES``,
  e.g. ``{"credit_monitor": ["credit:write"]}``): nothing else.

Claims: ``iss``, ``sub``, ``aud`` (the services that may accept it: the
target and the services it forwards to), ``iat``, ``exp``, ``jti``, ``typ``,
``tid`` (tenant), ``uid`` (user), ``role``, ``scp`` (scopes, ``*`` = all the
user's rights), ``ip`` (the client address the gateway saw), ``sv`` (the
user's session version when the token was minted).

    python -m service_common.auth keygen DIR gateway credit_monitor
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import Forbidden, Unauthenticated

ALGORITHM = "EdDSA"
GATEWAY = "gateway"
LEEWAY = 5  # seconds of clock skew accepted
MAX_TTL = 3600  # a token claiming a longer life is refused


def keys_dir(config: dict | None = None) -> Path | None:
    value = (config or {}).get("AUTH_KEYS_DIR") or os.environ.get("AUTH_KEYS_DIR")
    return Path(value) if value else None


def generate(directory: Path, issuer: str) -> None:
    """Write ``<issuer>.key`` (0600) and ``<issuer>.pub`` unless they exist."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = directory / f"{issuer}.key", directory / f"{issuer}.pub"
    if key_path.exists() and pub_path.exists():
        return
    key = Ed25519PrivateKey.generate()
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    pub_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public_keys(directory: Path) -> dict[str, list[Ed25519PublicKey]]:
    """Every issuer's public keys: ``<issuer>.pub`` and, during a rotation,
    ``<issuer>.<label>.pub`` beside it (a token verifies against any of them)."""
    keys: dict[str, list[Ed25519PublicKey]] = {}
    for path in sorted(directory.glob("*.pub")):
        key = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path}: not an Ed25519 public key")
        keys.setdefault(path.name.split(".", 1)[0], []).append(key)
    return keys


class Signer:
    """Mints tokens as ``issuer`` with its private key."""

    def __init__(self, issuer: str, private_key: Ed25519PrivateKey):
        self.issuer = issuer
        self._key = private_key

    @classmethod
    def from_dir(cls, directory: Path, issuer: str) -> "Signer":
        return cls(issuer, load_private_key(directory / f"{issuer}.key"))

    def mint(self, *, audience: list[str] | tuple[str, ...] | str, typ: str, ttl: float = 120,
             tenant_id: int | None = None, user_id: int | None = None, role: str | None = None,
             scopes: list[str] | tuple[str, ...] = ("*",), client_ip: str | None = None,
             session_version: int | None = None, subject: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject or (f"user:{user_id}" if user_id is not None else f"{typ}:{self.issuer}"),
            "aud": [audience] if isinstance(audience, str) else list(audience),
            "iat": now,
            "exp": now + int(min(ttl, MAX_TTL)),
            "jti": uuid.uuid4().hex,
            "typ": typ,
            "scp": list(scopes),
        }
        for name, value in (("tid", tenant_id), ("uid", user_id), ("role", role), ("ip", client_ip),
                            ("sv", session_version)):
            if value is not None:
                claims[name] = value
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class ServiceIdentity(Signer):
    """A service's own identity for background work (``typ=service``)."""

    def token(self, audience: str, scopes: list[str], tenant_id: int | None = None, ttl: float = 300) -> str:
        return self.mint(audience=[audience], typ="service", ttl=ttl, tenant_id=tenant_id, scopes=scopes)


@dataclass(frozen=True)
class Caller:
    tenant_id: int | None
    user_id: int | None
    role: str | None = None
    scopes: tuple[str, ...] = ()
    token: str | None = None
    kind: str = "user"  # user | api | service | gateway
    issuer: str = GATEWAY
    client_ip: str | None = None
    session_version: int | None = None
    claims: dict = field(default_factory=dict, repr=False, compare=False)

    def has_scope(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


class Verifier:
    """Checks tokens for one service (the audience). Valid tokens are cached
    until they expire, so a busy service verifies each token once."""

    def __init__(self, audience: str, public_keys: dict[str, Ed25519PublicKey | list[Ed25519PublicKey]],
                 service_scopes: dict[str, list[str]] | None = None, cache_size: int = 4096):
        self.audience = audience
        self.keys = {k: (v if isinstance(v, list) else [v]) for k, v in public_keys.items()}
        self.service_scopes = {k: set(v) for k, v in (service_scopes or {}).items()}
        self._cache: dict[str, tuple[float, Caller]] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def verify(self, token) -> Caller:
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise Unauthenticated("This call needs a valid caller token (nameko.auth header)")
        hit = self._cache.get(token)
        if hit is not None and hit[0] > time.time():
            return hit[1]
        caller = self._verify(token)
        with self._lock:
            if len(self._cache) >= self._cache_size:
                now = time.time()
                for key in [k for k, (exp, _c) in self._cache.items() if exp <= now][: self._cache_size // 2] or \
                        list(self._cache)[: self._cache_size // 2]:
                    self._cache.pop(key, None)
            self._cache[token] = (float(caller.claims["exp"]), caller)
        return caller

    def _verify(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthenticated("Malformed caller token") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("Caller token not signed with EdDSA")
        issuer = unverified.get("iss")
        keys = self.keys.get(issuer) if isinstance(issuer, str) else None
        if not keys:
            raise Unauthenticated("Caller token from an unknown issuer")
        claims = None
        for n, key in enumerate(keys):
            try:
                claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=issuer,
                                    leeway=LEEWAY, options={"require": ["exp", "iat", "iss", "aud", "typ"]})
                break
            except jwt.InvalidSignatureError:
                if n == len(keys) - 1:
                    raise Unauthenticated("Invalid caller token (InvalidSignatureError)") from None
            except jwt.ExpiredSignatureError:
                raise Unauthenticated("Caller token expired") from None
            except jwt.InvalidAudienceError:
                raise Unauthenticated(f"Caller token not meant for {self.audience}") from None
            except jwt.PyJWTError as exc:
                raise Unauthenticated(f"Invalid caller token ({type(exc).__name__})") from None
        if claims["exp"] - claims["iat"] > MAX_TTL + LEEWAY:
            raise Unauthenticated("Caller token lives too long")
        typ = claims["typ"]
        scopes = claims.get("scp") or []
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise Unauthenticated("Malformed caller token scopes")
        if typ in ("user", "api", "gateway"):
            if issuer != GATEWAY:
                raise Unauthenticated("Only the gateway may speak for users and API clients")
            if typ == "api" and "*" in scopes:
                raise Unauthenticated("API client tokens name their scopes")
        elif typ == "service":
            allowed = self.service_scopes.get(issuer, set())
            scopes = [s for s in scopes if s in allowed]
            if not scopes:
                raise Forbidden(f"{issuer} has no rights at {self.audience}")
        else:
            raise Unauthenticated("Unknown caller token type")
        tenant, user = claims.get("tid"), claims.get("uid")
        for value in (tenant, user):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise Unauthenticated("Malformed caller token ids")
        if typ == "user" and (tenant is None or user is None):
            raise Unauthenticated("A user token names its tenant and user")
        if typ == "api" and tenant is None:
            raise Unauthenticated("An API client token names its tenant")
        return Caller(tenant_id=tenant, user_id=user, role=claims.get("role"), scopes=tuple(scopes), token=token,
                      kind=typ, issuer=issuer, client_ip=claims.get("ip"), session_version=claims.get("sv"),
                      claims=claims)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service_common.auth", description="Ed25519 keys for caller tokens")
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="create <issuer>.key/.pub in DIR (kept if present)")
    keygen.add_argument("dir", type=Path)
    keygen.add_argument("issuers", nargs="+")
    args = parser.parse_args(argv)
    for issuer in args.issuers:
        generate(args.dir, issuer)
    print(f"keys in {args.dir}: {', '.join(args.issuers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
