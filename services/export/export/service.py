"""The export nameko service: RPC entrypoints, each a few lines, over plain
modules (``jobs``: the job rows and the lease protocol; ``runner``: one job's
work; ``writer``: XLSX and CSV).

Work moves over the broker: ``start_export`` commits a queued job and
dispatches ``export_requested`` to this service; the SERVICE_POOL handler
(one queue shared by every instance, acked after the work) runs it. A timer
on every instance re-dispatches jobs whose instance died (lease expired) or
whose dispatch was lost, fails a job after three interrupted attempts, and
deletes expired files. The full API is in the README.
"""
from __future__ import annotations

import base64
import os
import uuid

from nameko.events import SERVICE_POOL, EventDispatcher, event_handler
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy.orm import sessionmaker

from service_common.context import CallerProvider
from service_common.db import Database, ping
from service_common.rpc_client import ServiceClient
from service_common.validation import validate

from . import jobs, runner
from .exceptions import EXPECTED, ValidationError
from .schemas import ListIn, StartIn

DATABASE = ("export", "EXPORT")
MIGRATIONS = "export"
SWEEP_SECONDS = float(os.environ.get("EXPORT_SWEEP_SECONDS", "5"))


class Runtime(DependencyProvider):
    """The runner's settings from the container config, a session factory, the crm client."""

    def setup(self):
        c = self.container.config
        self.settings = runner.Settings(
            amqp_uri=c["AMQP_URI"], worker=f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            lease=float(c.get("EXPORT_LEASE_SECONDS", 15)), page_size=int(c.get("EXPORT_PAGE_SIZE", 2000)),
            crm_timeout=float(c.get("EXPORT_CRM_TIMEOUT", 10)), tmp_dir=c.get("EXPORT_TMP_DIR") or None,
            max_rows=int(c.get("EXPORT_SHEET_MAX_ROWS", runner.writer.SHEET_MAX_ROWS)))
        self.requeue_after = float(c.get("EXPORT_REQUEUE_SECONDS", 10))

    def get_dependency(self, worker_ctx):
        return self

    def client(self, token: str, timeout: float | None = None) -> ServiceClient:
        return ServiceClient(self.settings.amqp_uri, token=token, timeout=timeout or self.settings.crm_timeout)


def _id(value, field: str = "export_id") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError("Expected an id", field=field)
    try:
        number = int(value)
    except ValueError:
        raise ValidationError("Expected an id", field=field) from None
    if not 1 <= number <= 2**31 - 1:
        raise ValidationError("Expected an id", field=field)
    return number


class ExportService:
    name = "export"

    db = Database(*DATABASE)
    caller = CallerProvider()
    runtime = Runtime()
    dispatch = EventDispatcher()

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        """-> {"status": "ok", "service": "export", "db_ms": float}"""
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}

    @rpc(expected_exceptions=EXPECTED)
    def start_export(self, request):
        caller = self.caller.require()
        req = validate(StartIn, request)
        # the crm owns the selection and the columns: it checks them now (and counts), so bad input is refused at once
        with self.runtime.client(caller.token, timeout=8.0) as crm:
            first = crm.call("crm", "export_rows", req.selection, req.columns, 0, 1, req.contacts)
        job, created = jobs.create(self.db.session, caller, req, first.get("total"))
        if created:
            self.dispatch("export_requested", {"job_id": job.id})
        return jobs.dump(job)

    @rpc(expected_exceptions=EXPECTED)
    def get_export(self, export_id):
        return jobs.dump(jobs.visible(self.db.session, self.caller.require(), _id(export_id)))

    @rpc(expected_exceptions=EXPECTED)
    def list_exports(self, query=None):
        return jobs.list_jobs(self.db.session, self.caller.require(), validate(ListIn, query))

    @rpc(expected_exceptions=EXPECTED)
    def cancel_export(self, export_id):
        return jobs.cancel(self.db.session, self.caller.require(), _id(export_id))

    @rpc(expected_exceptions=EXPECTED)
    def download_chunk(self, export_id, n):
        if isinstance(n, bool) or not isinstance(n, int):
            raise ValidationError("Expected a chunk number", field="n")
        chunk = jobs.download_chunk(self.db.session, self.caller.require(), _id(export_id), n)
        return {**chunk, "data": base64.b64encode(chunk["data"]).decode("ascii")}

    # -- the work ----------------------------------------------------------------------
    @event_handler("export", "export_requested", handler_type=SERVICE_POOL, reliable_delivery=True)
    def run_export(self, payload):
        factory = sessionmaker(self.db.engine, expire_on_commit=False)
        runner.run(factory, self.runtime.client, self.runtime.settings, _id(payload.get("job_id"), "job_id"))

    @timer(interval=SWEEP_SECONDS)
    def sweep(self):
        result = jobs.sweep(self.db.session, self.runtime.requeue_after)
        for job_id in result["dispatch"]:
            self.dispatch("export_requested", {"job_id": job_id})
