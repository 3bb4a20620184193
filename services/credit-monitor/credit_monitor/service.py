"""The credit_monitor nameko service: entrypoints of a few lines over
:mod:`credit_monitor.monitor`. API and events: services/credit-monitor/README.md."""
from __future__ import annotations

import logging
import os
import threading

from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy.orm import Session

from service_common.context import CallerProvider
from service_common.db import Database, ping
from service_common.validation import validate

from . import monitor
from .dependencies import Creditsafe
from .exceptions import EXPECTED, ValidationError
from .schemas import SettingsIn

DATABASE = ("credit_monitor", "CREDIT")
MIGRATIONS = "credit_monitor"
# The timer's interval: CREDIT_POLL_INTERVAL, else 5 s against the local stand-in (make run) and 300 s otherwise.
POLL_INTERVAL = float(os.environ.get("CREDIT_POLL_INTERVAL") or (300 if os.environ.get("CREDITSAFE_URL") else 5))
OUTBOX_INTERVAL = float(os.environ.get("CREDIT_OUTBOX_INTERVAL", "0.5"))
# How often waiting companies are enrolled (in batches) and queued imports confirmed.
ENROL_INTERVAL = float(os.environ.get("CREDIT_ENROL_INTERVAL", "1"))
log = logging.getLogger(__name__)
_polling = threading.Lock()
_enrolling = threading.Lock()
_relaying = threading.Lock()


class CreditMonitorService:
    name = "credit_monitor"

    db = Database(*DATABASE)
    caller = CallerProvider()
    creditsafe = Creditsafe()
    dispatch = EventDispatcher(mandatory=True)

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        """-> {"status": "ok", "service": "credit_monitor", "db_ms": float}"""
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}

    # -- events and timers ------------------------------------------------
    @event_handler("crm", "company_identified")
    def on_company_identified(self, payload):
        """Records the company (with the events arriving at the same time, in one transaction); the
        enrolment timer enrols it with others in a batch."""
        _recorder(self.db.engine, self.creditsafe).record(payload)

    @timer(interval=ENROL_INTERVAL)
    def enrol(self):
        if not _enrolling.acquire(blocking=False):
            return  # the previous pass is still working (it picks up what arrived meanwhile)
        try:
            monitor.enrol_pending(self.db.session, self.creditsafe)
        finally:
            _enrolling.release()

    @timer(interval=POLL_INTERVAL)
    def poll(self):
        if not _polling.acquire(blocking=False):
            return  # the previous poll is still running
        try:
            monitor.poll_all(self.db.session, self.creditsafe)
        finally:
            _polling.release()

    @timer(interval=OUTBOX_INTERVAL)
    def relay_outbox(self):
        if not _relaying.acquire(blocking=False):
            return
        try:
            while monitor.relay(self.db.session, self.dispatch) >= 500:
                pass
        finally:
            _relaying.release()

    # -- the card ------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_company(self, company_id):
        return monitor.company_view(self.db.session, self.creditsafe, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def check_now(self, company_id):
        return monitor.check_now(self.db.session, self.creditsafe, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def stop_monitoring(self, company_id):
        return monitor.stop(self.db.session, self.creditsafe, self.caller.require().tenant_id, _id(company_id))

    @rpc(expected_exceptions=EXPECTED)
    def start_monitoring(self, company_id):
        return monitor.start(self.db.session, self.creditsafe, self.caller.require().tenant_id, _id(company_id))

    # -- settings (admins) -------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_settings(self):
        caller = self.caller.require()
        monitor.require_admin(caller)
        return monitor.get_settings(self.db.session, self.creditsafe, caller.tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def update_settings(self, settings):
        caller = self.caller.require()
        monitor.require_admin(caller)
        return monitor.update_settings(self.db.session, self.creditsafe, caller.tenant_id, validate(SettingsIn, settings))

    @rpc(expected_exceptions=EXPECTED)
    def poll_now(self):
        """Poll the caller's tenant now (what the timer does): enrol waiting companies, read new events."""
        tenant_id = self.caller.require().tenant_id
        session = self.db.session
        with _enrolling:  # not beside the timer's pass: one pass at a time per process
            monitor.enrol_pending(session, self.creditsafe, tenant_id=tenant_id, force=True)
        ts = monitor.tenant_settings(session, tenant_id, self.creditsafe.settings)
        session.commit()
        if not ts.enabled or ts.portfolio_id is None:
            return {"events": 0, "new": 0, "changed": 0}
        return monitor.poll_tenant(session, self.creditsafe, ts)


_recorders: dict[int, monitor.Recorder] = {}


def _recorder(engine, clients) -> monitor.Recorder:
    """One group-commit recorder per database engine (per container)."""
    recorder = _recorders.get(id(engine))
    if recorder is None or recorder.engine is not engine:
        recorder = monitor.Recorder(lambda: Session(engine, expire_on_commit=False), clients)
        recorder.engine = engine
        _recorders[id(engine)] = recorder
    return recorder


def _id(value, field: str = "company_id") -> int:
    if isinstance(value, bool):
        raise ValidationError("Expected an id", field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError("Expected an id", field=field) from None
    if number < 1:
        raise ValidationError("Expected an id", field=field)
    return number
