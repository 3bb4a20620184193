"""Write the RabbitMQ definitions file of the suite: its vhost, one user per service and one
for the gateway (permissions from permissions.py), an ``admin`` user for operators, and the
exchanges nameko uses. The format is what ``rabbitmqctl import_definitions`` and the
``load_definitions`` setting read.

    RABBITMQ_CRM_PASSWORD=... RABBITMQ_REGISTRY_LOOKUP_PASSWORD=... RABBITMQ_CREDIT_MONITOR_PASSWORD=... \\
    RABBITMQ_MAILER_PASSWORD=... RABBITMQ_EXPORT_PASSWORD=... RABBITMQ_GATEWAY_PASSWORD=... \\
    RABBITMQ_ADMIN_PASSWORD=... python3 deploy/rabbitmq/definitions.py --output definitions.json

RABBITMQ_PARTNER_PASSWORD, if set, adds the ``partner`` user (other teams' programs calling the
RPC API with API client tokens); unset, there is no such user.
Passwords come from the environment only and are stored as salted SHA-256 hashes
(rabbit_password_hashing_sha256), never in clear. Each run salts anew; importing the file again
changes nothing else. Standard library only (compose runs it in a bare python image).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from permissions import ADMIN, ADMIN_PASSWORD_VARIABLE, PRINCIPALS, RPC_EXCHANGE, VHOST  # noqa: E402

HASHING = "rabbit_password_hashing_sha256"
MIN_LENGTH = 16
# the AMQP_URI carries the password unencoded (compose), so only URL-safe characters
SAFE = re.compile(r"[A-Za-z0-9._~-]+")
SUGGEST = "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"


class DefinitionsError(Exception):
    pass


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode("ascii")


def check_password(variable: str, value: str | None) -> str:
    if not value:
        raise DefinitionsError(f"{variable} is not set ({SUGGEST})")
    if len(value) < MIN_LENGTH:
        raise DefinitionsError(f"{variable} is shorter than {MIN_LENGTH} characters ({SUGGEST})")
    if not SAFE.fullmatch(value):
        raise DefinitionsError(f"{variable} may hold only letters, digits and . _ ~ - "
                               f"(it goes into an amqp:// URL unencoded; {SUGGEST})")
    if "CHANGE-ME" in value.upper():
        raise DefinitionsError(f"{variable} is still the placeholder")
    return value


def passwords_from(env) -> dict[str, str]:
    """{user: password} for every principal and the admin, or one error naming every problem.
    An optional principal (partner) without a password is left out."""
    wanted = {p.user: p.password_variable for p in PRINCIPALS if not (p.optional and not env.get(p.password_variable))}
    wanted[ADMIN] = ADMIN_PASSWORD_VARIABLE
    out, problems = {}, []
    for user, variable in wanted.items():
        try:
            out[user] = check_password(variable, env.get(variable))
        except DefinitionsError as exc:
            problems.append(str(exc))
    if problems:
        raise DefinitionsError("\n".join(problems))
    if len(set(out.values())) != len(out):
        raise DefinitionsError("every broker user needs a password of its own")
    return out


def _exchange(name: str, vhost: str) -> dict:
    # exactly as nameko declares them (topic, durable), so their re-declarations agree
    return {"name": name, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
            "internal": False, "arguments": {}}


def definitions(passwords: dict[str, str], vhost: str = VHOST, hasher=password_hash) -> dict:
    principals = [p for p in PRINCIPALS if p.user in passwords]
    missing = [p.user for p in PRINCIPALS if not p.optional and p.user not in passwords]
    if missing:
        raise DefinitionsError(f"no password for {', '.join(missing)}")
    users = [{"name": p.user, "password_hash": hasher(passwords[p.user]), "hashing_algorithm": HASHING,
              "tags": []} for p in principals]
    users.append({"name": ADMIN, "password_hash": hasher(passwords[ADMIN]), "hashing_algorithm": HASHING,
                  "tags": ["administrator"]})
    permissions = [{"user": p.user, "vhost": vhost, "configure": p.configure(), "write": p.write(),
                    "read": p.read()} for p in principals]
    topic_permissions = [{"user": p.user, "vhost": vhost, "exchange": RPC_EXCHANGE, "write": p.topic_write(),
                          "read": p.topic_read()} for p in principals]
    exchanges = [_exchange(RPC_EXCHANGE, vhost)]
    exchanges += [_exchange(f"{p.user}.events", vhost) for p in PRINCIPALS if p.dispatches]
    return {
        "users": users,
        "vhosts": [{"name": vhost}],
        "permissions": permissions,
        "topic_permissions": topic_permissions,
        "exchanges": exchanges,
        "queues": [],
        "bindings": [],
        "policies": [],
        "parameters": [],
        "global_parameters": [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="definitions.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", "-o", type=Path, help="file to write (mode 0600); default: stdout")
    parser.add_argument("--vhost", default=os.environ.get("RABBITMQ_VHOST") or VHOST,
                        help=f"the suite's vhost (RABBITMQ_VHOST, default {VHOST})")
    args = parser.parse_args(argv)
    try:
        passwords = passwords_from(os.environ)
    except DefinitionsError as exc:
        print(f"definitions.py: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(definitions(passwords, args.vhost), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    tmp = args.output.with_name(args.output.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, args.output)
    users = ", ".join(sorted(passwords))
    print(f"definitions.py: {args.output} (users {users}; vhost {args.vhost})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
