"""Start a service: migrate its database, run its bootstrap, then ``nameko run``.

    python -m service_common.run crm.service --config services/crm/config.yml

The service module may define ``MIGRATIONS = "<package>"`` (migrated with
its alembic folder), ``DATABASE = (name, env_prefix)`` and ``bootstrap(url)``
(called after migrating; e.g. the crm's first tenant and demo data).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
import zlib


def quiet_eventlet_warning() -> None:
    # eventlet is deprecated upstream; nameko 2.x needs it. We know, on purpose.
    warnings.filterwarnings("ignore", message=r".*[Ee]ventlet is deprecated.*")
    warnings.filterwarnings("ignore", message=r".*pkg_resources is deprecated.*")
    try:
        from eventlet import EventletDeprecationWarning  # type: ignore
    except Exception:  # pragma: no cover - older eventlet
        return
    warnings.filterwarnings("ignore", category=EventletDeprecationWarning)


class ExpectedErrorsOnOneLine(logging.Filter):
    """nameko logs an entrypoint's *expected* exceptions (a wrong password, a validation
    error: the caller gets a typed error) with a full traceback. They are answers, not
    failures: keep one line saying which worker and what, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("(expected)"):
            exc = record.exc_info[1]
            record.exc_info = None
            record.exc_text = None
            record.msg = "(expected) %s in worker %s: %s"
            record.args = (type(exc).__name__, record.args[0] if record.args else "?", exc)
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_expected_errors() -> None:
    logger = logging.getLogger("nameko.containers")
    if not any(isinstance(f, ExpectedErrorsOnOneLine) for f in logger.filters):
        logger.addFilter(ExpectedErrorsOnOneLine())


def prepare(module_name: str) -> None:
    """Migrate and bootstrap the service defined in ``module_name``."""
    from .db import database_url, is_sqlite, make_engine
    from .migrate import upgrade

    module = importlib.import_module(module_name)
    name, prefix = module.DATABASE
    url = database_url(name, prefix)
    if getattr(module, "WAIT_FOR_MIGRATIONS", False):
        # a second process of a service (e.g. the crm's bulk worker) on the same database:
        # the service itself migrates and bootstraps; this one waits until it has
        from .migrate import wait_for_head

        wait_for_head(module.MIGRATIONS, url)
        return
    boot = getattr(module, "bootstrap", None)
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as lock:
            # Several instances may start at once: one migrates and bootstraps, the others wait.
            key = zlib.crc32(f"prepare:{module.MIGRATIONS}".encode())
            if not is_sqlite(engine):
                lock.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
            try:
                upgrade(module.MIGRATIONS, url)
                if boot is not None:
                    boot(url)
            finally:
                if not is_sqlite(engine):
                    lock.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    quiet_eventlet_warning()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module")
    parser.add_argument("--config", required=True)
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args(argv)
    import eventlet

    eventlet.monkey_patch()  # before the service (and its drivers) are imported
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    prepare(args.module)
    if args.migrate_only:
        return
    from .amqp import tune_rpc_replies

    tune_rpc_replies()
    quiet_expected_errors()
    from nameko.cli.main import main as nameko_main

    sys.argv = ["nameko", "run", "--config", args.config, args.module]
    nameko_main()


if __name__ == "__main__":
    main()
