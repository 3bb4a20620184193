"""Runs one export job: claim it, read the selection from the crm page by page
on the user's behalf (their token, a client with a timeout), write the file,
store it, mark it done. Memory stays bounded: one page being written, the next
one in flight (prefetched while this one is written, so the crm's work overlaps
the writing and the total time is about the writing time).

Under eventlet (the service runs patched) the page fetch is a green thread;
writing yields every few hundred rows so the instance keeps answering RPC
(progress polls) while it writes.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Callable

import eventlet

from service_common import errors
from service_common.rpc_client import CallTimeout, ServiceDown

from . import jobs, writer

log = logging.getLogger(__name__)

EXPIRED_TOKEN = ("The sign-in this export was started with has expired (an export must finish within 15 minutes "
                 "of being started). Start it again.")


@dataclass
class Settings:
    amqp_uri: str
    worker: str  # this instance's id (the lease owner)
    lease: float = 15.0  # seconds; renewed with every page
    page_size: int = 2000
    first_page: int = 200  # a small first page: the first progress shows within a second
    crm_timeout: float = 10.0
    tmp_dir: str | None = None
    max_rows: int = writer.SHEET_MAX_ROWS
    yield_every: int = 250


class Stop(Exception):
    """The job is no longer ours: cancelled, or taken over after our lease expired."""


def run(session_factory: Callable, client_factory: Callable, settings: Settings, job_id: int) -> str:
    """Run job ``job_id`` if it can be claimed. Returns the outcome: skipped, done, cancelled, failed."""
    with session_factory() as session:
        job = jobs.claim(session, job_id, settings.worker, settings.lease)
        if job is None:
            return "skipped"
        spec = {"selection": json.loads(job.selection), "columns": json.loads(job.columns),
                "contacts": bool(job.contacts), "format": job.format, "title": job.title, "token": job.token}
    if not spec["token"]:
        return _fail(session_factory, job_id, settings, "This export has no sign-in to read the companies with. "
                                                        "Start it again.")
    fd, path = tempfile.mkstemp(prefix=f"export-{job_id}-", suffix="." + spec["format"], dir=settings.tmp_dir)
    os.close(fd)
    try:
        with client_factory(spec["token"]) as client:
            rows = _write(session_factory, client, settings, job_id, spec, path)
        with session_factory() as session:
            if not jobs.finish(session, job_id, settings.worker, path, rows):
                return "cancelled"
        return "done"
    except Stop:
        return "cancelled"
    except errors.Unauthenticated:
        return _fail(session_factory, job_id, settings, EXPIRED_TOKEN)
    except errors.ValidationError as exc:
        return _fail(session_factory, job_id, settings, f"The crm refused this export: {exc}")
    except (errors.NotFound, errors.Forbidden) as exc:
        return _fail(session_factory, job_id, settings, f"The crm refused this export: {exc}")
    except (CallTimeout, ServiceDown) as exc:
        return _fail(session_factory, job_id, settings,
                     f"The crm service did not answer ({exc}). Try the export again in a moment.")
    except eventlet.greenlet.GreenletExit:
        # this instance is being stopped: hand the job back for another one
        with session_factory() as session:
            jobs.release(session, job_id, settings.worker)
        raise
    except Exception:  # noqa: BLE001 - any other failure ends the job with a message, never stuck running
        log.exception("export %s failed", job_id)
        return _fail(session_factory, job_id, settings,
                     "The export failed unexpectedly. Try again; if it persists, tell your administrator.")
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def _fail(session_factory, job_id: int, settings: Settings, message: str) -> str:
    with session_factory() as session:
        jobs.fail(session, job_id, message, worker=settings.worker)
    return "failed"


def _write(session_factory, client, settings: Settings, job_id: int, spec: dict, path: str) -> int:
    attempts = 3

    def fetch(after: int, limit: int = settings.page_size) -> dict:
        for attempt in range(attempts):
            try:
                return client.call("crm", "export_rows", spec["selection"], spec["columns"], after, limit,
                                   spec["contacts"])
            except CallTimeout:
                if attempt == attempts - 1:
                    raise
                log.warning("export %s: crm page after %s timed out, retrying", job_id, after)

    page = fetch(0, min(settings.first_page, settings.page_size))
    total = page.get("total")
    with session_factory() as session:
        if not jobs.heartbeat(session, job_id, settings.worker, settings.lease, 0, total):
            raise Stop()
    out = writer.open_writer(spec["format"], path, spec["title"], page["currency"], settings.max_rows)
    out.start(page["columns"], page.get("contact_columns") if spec["contacts"] else None)
    done = 0
    pending = None
    try:
        while True:
            pending = eventlet.spawn(fetch, page["last_id"]) if page["more"] else None
            eventlet.sleep(0)  # let the request go out before writing (the crm works meanwhile)
            rows = page["rows"]
            step = settings.yield_every
            for i in range(0, len(rows), step):
                out.write_rows([r[1:] for r in rows[i:i + step]])
                eventlet.sleep(0)
            if spec["contacts"]:
                out.write_contacts(page.get("contacts") or [])
            done += len(rows)
            with session_factory() as session:
                if not jobs.heartbeat(session, job_id, settings.worker, settings.lease, done):
                    raise Stop()
            if pending is None:
                break
            page, pending = pending.wait(), None
    finally:
        if pending is not None:  # never leave a reader on the client's socket behind
            pending.kill()
    out.close()
    return done
