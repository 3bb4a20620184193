"""Database engines and the nameko dependency provider.

One SQLite file per service by default (under ``$CRM_DATA_DIR``, default
``./var``); PostgreSQL when ``<PREFIX>_DATABASE_URL`` is set.
"""
from __future__ import annotations

import os
import time
import weakref
from pathlib import Path

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def data_dir() -> Path:
    path = Path(os.environ.get("CRM_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str, env_prefix: str) -> str:
    """The service's database URL: ``<PREFIX>_DATABASE_URL`` or its SQLite file."""
    url = os.environ.get(f"{env_prefix}_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{data_dir() / (service + '.sqlite3')}"


def is_sqlite(engine_or_url) -> bool:
    url = str(getattr(engine_or_url, "url", engine_or_url))
    return url.startswith("sqlite")


def _green_psycopg() -> None:
    """Make psycopg2 cooperative when running under eventlet (nameko run)."""
    try:
        from eventlet import patcher
    except ImportError:  # pragma: no cover
        return
    if patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


def normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg2 (the driver that cooperates with eventlet)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg2://" + url[len(plain):]
    return url


WAL_AUTOCHECKPOINT = int(os.environ.get("SQLITE_WAL_AUTOCHECKPOINT", "10000"))  # pages (4 KiB)


def checkpoint(engine: Engine) -> tuple[int, int, int] | None:
    """SQLite: a PASSIVE checkpoint (never waits for readers or writers) -> (busy, WAL pages,
    pages copied); None on other databases. Run by a background worker so that commits in
    requests rarely reach the automatic checkpoint."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").first()
    return tuple(row) if row else None


def make_engine(url: str, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA mmap_size=268435456")
            cur.execute("PRAGMA temp_store=MEMORY")
            # A commit that finds the WAL over this many pages copies it back into the database
            # file itself (a checkpoint, with an fsync), inside someone's request. Larger than
            # SQLite's 1000 so that a service's background worker checkpoints first, off the
            # request path (checkpoint() below; the crm's bulk worker does it every second).
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
            cur.close()

        return engine
    _green_psycopg()
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )


def ping(engine: Engine) -> float:
    """Run ``SELECT 1``; return the time it took in ms."""
    start = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return (time.perf_counter() - start) * 1000


class DB:
    """What a worker gets: a lazily opened session and the engine."""

    def __init__(self, engine: Engine, factory: sessionmaker):
        self.engine = engine
        self._factory = factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._factory()
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class Database(DependencyProvider):
    """A session per worker, closed (rolled back if uncommitted) after it."""

    def __init__(self, service: str, env_prefix: str):
        self.service = service
        self.env_prefix = env_prefix
        self.engine: Engine | None = None
        self.dbs = weakref.WeakKeyDictionary()

    def setup(self):
        url = self.container.config.get(f"{self.env_prefix}_DATABASE_URL") or database_url(self.service, self.env_prefix)
        workers = int(self.container.config.get("max_workers", 10))
        self.engine = make_engine(url, pool_size=workers)
        self.factory = sessionmaker(self.engine, expire_on_commit=False)

    def stop(self):
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):  # pragma: no cover
        self.stop()

    def get_dependency(self, worker_ctx):
        db = DB(self.engine, self.factory)
        self.dbs[worker_ctx] = db
        return db

    def worker_teardown(self, worker_ctx):
        db = self.dbs.pop(worker_ctx, None)
        if db is not None:
            db.close()
