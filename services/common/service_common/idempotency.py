"""Idempotency keys: a retried write returns its first result instead of applying twice.

Each service that accepts writes has a table ``idempotency_keys`` (its own
migration creates it with :func:`create_table`):

    tenant_id, key, scope, result_json, created_at     unique (tenant_id, key)

An entrypoint wraps its write::

    return idempotency.once(session, caller.tenant_id, idempotency_key, "create_company",
                            lambda: companies.create(session, ...))

``once`` claims the key, runs ``fn`` and stores its (JSON-safe) result in the
SAME transaction as the write: the write's own ``session.commit()`` calls are
turned into flushes while ``fn`` runs and one commit at the end makes the
write and the key durable together. So after a crash either both are there
(a retry gets the stored result) or neither (a retry applies the write once).
Two concurrent calls with one key: the second waits on the unique index,
then returns the first one's result. A key reused for another operation
(other scope) is refused. No key (``None``/empty): ``fn`` runs as before.

Keys are kept at least :data:`KEEP` (a day); older ones are deleted now and
then by the writes themselves.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import Conflict, ValidationError

KEEP = timedelta(days=1, hours=1)
MAX_KEY = 100
CLEANUP_EVERY = 200  # on average, one write in this many deletes expired keys

TABLE = sa.table(
    "idempotency_keys",
    sa.column("tenant_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("scope", sa.String),
    sa.column("result_json", sa.Text),
    sa.column("created_at", sa.DateTime),
)


def create_table(op) -> None:
    """For a service's alembic migration: ``idempotency.create_table(op)``."""
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(MAX_KEY), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def drop_table(op) -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")


def check_key(key) -> str | None:
    if key is None or key == "":
        return None
    if not isinstance(key, str) or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationError(f"An idempotency key is a string of at most {MAX_KEY} characters",
                              field="idempotency_key")
    return key


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def stored(session: Session, tenant_id: int, key: str):
    """(scope, result) stored for the key, or None."""
    row = session.execute(
        sa.select(TABLE.c.scope, TABLE.c.result_json).where(TABLE.c.tenant_id == tenant_id, TABLE.c.key == key)
    ).first()
    return None if row is None else (row.scope, json.loads(row.result_json))


def _replay(found, scope: str, key: str):
    if found[0] != scope:
        raise Conflict(f"This idempotency key was already used for {found[0]}", field="idempotency_key")
    return found[1]


def once(session: Session, tenant_id: int, key, scope: str, fn: Callable[[], object]):
    """Run ``fn`` once per (tenant, key); on a replay return the first result."""
    key = check_key(key)
    if key is None:
        return fn()
    found = stored(session, tenant_id, key)
    session.rollback()  # end the read: the write below starts a transaction of its own
    if found is not None:
        return _replay(found, scope, key)
    real_commit = session.commit
    session.commit = session.flush  # the write's own commits become flushes of one transaction
    try:
        result = fn()
        session.execute(sa.insert(TABLE).values(tenant_id=tenant_id, key=key, scope=scope,
                                                result_json=json.dumps(result, default=str), created_at=_now()))
        if random.randrange(CLEANUP_EVERY) == 0:
            session.execute(sa.delete(TABLE).where(TABLE.c.created_at < _now() - KEEP))
        session.commit = real_commit
        session.commit()
        return result
    except IntegrityError:
        # a concurrent call with the same key committed first: its result is the answer
        session.commit = real_commit
        session.rollback()
        found = stored(session, tenant_id, key)
        session.rollback()
        if found is None:
            raise
        return _replay(found, scope, key)
    except BaseException:
        session.commit = real_commit
        session.rollback()
        raise
    finally:
        session.__dict__.pop("commit", None)
