"""Alembic, driven from code: each service keeps ``<package>/alembic/`` and
calls :func:`upgrade` before it starts. On PostgreSQL an advisory lock makes
concurrent starts of several instances safe."""
from __future__ import annotations

import zlib

from alembic import command, context
from alembic.config import Config

from .db import is_sqlite, make_engine


def _config(package: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:alembic")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(package: str, url: str, revision: str = "head") -> None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            if not is_sqlite(engine):
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({zlib.crc32(package.encode())})")
            cfg = _config(package, url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def wait_for_head(package: str, url: str, timeout: float = 600.0, every: float = 0.5) -> None:
    """Wait until the database is at the package's head revision (migrated by another process)."""
    import logging
    import time

    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(_config(package, url)).get_heads())
    deadline = time.monotonic() + timeout
    engine = make_engine(url, pool_size=1)
    said = False
    try:
        while True:
            try:
                with engine.connect() as conn:
                    current = set(MigrationContext.configure(conn).get_current_heads())
            except Exception:  # noqa: BLE001 - not created yet: wait
                current = set()
            if current == heads:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{package}: the database is not migrated to {sorted(heads)} after {timeout:.0f} s")
            if not said:
                logging.getLogger(__name__).info("%s: waiting for the service to migrate the database", package)
                said = True
            time.sleep(every)
    finally:
        engine.dispose()


def run_env(target_metadata) -> None:
    """Body of every service's ``alembic/env.py``."""
    conn = context.config.attributes.get("connection")
    if conn is None:  # alembic CLI use: open our own connection
        engine = make_engine(context.config.get_main_option("sqlalchemy.url"), pool_size=1)
        with engine.begin() as conn:
            _run(conn, target_metadata)
        engine.dispose()
    else:
        _run(conn, target_metadata)


def _run(conn, target_metadata) -> None:
    context.configure(
        connection=conn,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite(conn.engine),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
