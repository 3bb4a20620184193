"""A per-tenant token bucket in the database, shared by every mailer instance.

The bucket row is locked for the read-modify-write (an UPDATE first: a row lock
on PostgreSQL, the write lock on SQLite), so N instances together send at most
``rate`` messages per second, with bursts of at most one second's worth.
"""
from __future__ import annotations

import time

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import RateBucket


def acquire(session: Session, tenant_id: int, rate: float, sleep=time.sleep) -> float:
    """Take one token, waiting as long as needed; -> seconds waited."""
    if rate <= 0:
        return 0.0
    burst = max(1.0, rate)
    waited = 0.0
    while True:
        t = time.time()
        locked = session.execute(update(RateBucket).where(RateBucket.tenant_id == tenant_id)
                                 .values(tokens=RateBucket.tokens)).rowcount
        if not locked:
            session.add(RateBucket(tenant_id=tenant_id, tokens=burst - 1, updated=t))
            try:
                session.commit()
                return waited
            except IntegrityError:
                session.rollback()
                continue
        bucket = session.get(RateBucket, tenant_id, populate_existing=True)
        tokens = min(burst, bucket.tokens + max(0.0, t - bucket.updated) * rate)
        if tokens >= 1.0:
            bucket.tokens, bucket.updated = tokens - 1.0, t
            session.commit()
            return waited
        bucket.tokens, bucket.updated = tokens, t
        session.commit()
        pause = (1.0 - tokens) / rate
        sleep(pause)
        waited += pause
