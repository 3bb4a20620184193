"""The crm's bulk worker (issue 7): a second nameko service, ``crm_bulk``, on the crm's
database, that runs the big bulk edits (crm/bulk.py) in a process of its own.

Why a process of its own: a chunk is a blocking SQLite/PostgreSQL transaction, and a nameko
service is one eventlet process, so chunks run inside the crm would hold up every search,
card and save of that process while a job runs. Here they only share the machine's CPU,
and ``make run`` starts this line under ``nice`` so that the interactive processes come
first. Readers are never blocked by the chunks (WAL / MVCC), so live search stays fast
while 100,000 companies are tagged.

- ``bulk_requested`` (dispatched by the crm's bulk RPCs for selections above
  ``bulk.INLINE_LIMIT``) runs a job; the queue is durable and the handler acks after the
  job, so a job whose worker is killed is redelivered, and the job's lease and ``last_id``
  make the rerun continue where the last committed chunk stopped.
- a timer resumes jobs nobody runs (a lease that ran out, an event that was lost).
- on SQLite, a timer checkpoints the WAL (passive) every ``CRM_CHECKPOINT_SECONDS``, so that
  commits made inside requests rarely have to (service_common.db.WAL_AUTOCHECKPOINT).

Scale it on its own: more instances share the event queue; a job's lease lets one of them
run it at a time. It answers no RPC (it runs as the crm's broker user, deploy/rabbitmq).
"""
from __future__ import annotations

import os

from nameko.events import SERVICE_POOL, event_handler
from nameko.timer import timer

from service_common.db import Database, checkpoint

from . import bulk

DATABASE = ("crm", "CRM")
MIGRATIONS = "crm"
WAIT_FOR_MIGRATIONS = True  # the crm service migrates and bootstraps; this process waits for it
BULK_RESUME_SECONDS = float(os.environ.get("CRM_BULK_RESUME_SECONDS", "5"))
CHECKPOINT_SECONDS = float(os.environ.get("CRM_CHECKPOINT_SECONDS", "1"))


class CrmBulkWorker:
    name = "crm_bulk"

    db = Database(*DATABASE)

    @event_handler("crm", "bulk_requested", handler_type=SERVICE_POOL, reliable_delivery=True)
    def run_bulk_operation(self, event):
        bulk.run(self.db.session, int(event["operation_id"]))

    @timer(interval=BULK_RESUME_SECONDS)
    def resume_bulk_operations(self):
        """Jobs whose worker died (lease ran out) or that nobody took: run them here."""
        for op_id in bulk.stale(self.db.session):
            bulk.run(self.db.session, op_id)

    @timer(interval=CHECKPOINT_SECONDS)
    def checkpoint_wal(self):
        checkpoint(self.db.engine)
