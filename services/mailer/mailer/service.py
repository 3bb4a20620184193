"""The mailer nameko service: RPC entrypoints, each a few lines, over
``campaigns`` (plain logic). The API is in services/mailer/README.md."""
from __future__ import annotations

import logging
import time

from nameko.events import SERVICE_POOL, event_handler
from nameko.rpc import rpc
from nameko.timer import timer

from service_common.context import CallerProvider
from service_common.db import Database, ping
from service_common.errors import EXPECTED
from service_common.validation import validate

from . import campaigns, devsmtp
from .crm_client import Crm
from .dependencies import RuntimeProvider
from .schemas import (AudienceIn, CampaignIn, EmailIn, MessagesQuery, OutboxQuery, PreviewIn, TemplateIn,
                      UnsubscribeIn)
from .publisher import Publisher
from .smtp import Smtp

DATABASE = ("mailer", "MAILER")
MIGRATIONS = "mailer"
log = logging.getLogger(__name__)


def _id(value, field="campaign_id") -> int:
    from service_common.errors import ValidationError

    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError("must be a positive integer", field=field)
    return value


class MailerService:
    name = "mailer"

    db = Database(*DATABASE)
    caller = CallerProvider()
    smtp = Smtp()
    runtime = RuntimeProvider()
    publish = Publisher()  # the outbox relay's (batches of events in one AMQP transaction)

    def _crm(self, caller):
        return Crm(self.runtime.amqp_uri, caller, timeout=self.runtime.crm_timeout)

    def _anonymous(self):
        """Calls the gateway makes without a logged-in user (unsubscribe page)."""
        require_any = getattr(self.caller, "require_any", None)
        if require_any is not None:
            require_any()

    @rpc(expected_exceptions=EXPECTED)
    def health(self):
        """-> {"status": "ok", "service": "mailer", "db_ms": float}"""
        return {"status": "ok", "service": self.name, "db_ms": round(ping(self.db.engine), 3)}

    # -- compose ----------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def audience(self, audience):
        caller, data = self.caller.require(), validate(AudienceIn, audience)
        with self._crm(caller) as crm:
            entries = list(crm.recipients(data.selection.dump(), data.kinds))
        return campaigns.audience(self.db.session, caller.tenant_id, entries)

    @rpc(expected_exceptions=EXPECTED)
    def preview(self, message):
        caller, data = self.caller.require(), validate(PreviewIn, message)
        with self._crm(caller) as crm:
            sender = crm.me(caller.user_id)
        sender_address = campaigns.sending_address(self.db.session, self.runtime.settings, caller.tenant_id)
        return campaigns.preview(self.runtime.settings, sender, data, sender_address, caller.tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def send_test(self, message):
        caller, data = self.caller.require(), validate(PreviewIn, message)
        with self._crm(caller) as crm:
            sender = crm.me(caller.user_id)
        sender_address = campaigns.sending_address(self.db.session, self.runtime.settings, caller.tenant_id)
        return campaigns.send_test(self.runtime.settings, self.smtp, sender, data, sender_address, caller.tenant_id)

    # -- campaigns --------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_campaign(self, campaign):
        caller, data = self.caller.require(), validate(CampaignIn, campaign)
        found = campaigns.existing(self.db.session, caller.tenant_id, data.idempotency_key)
        if found:
            return found
        t0 = time.monotonic()
        with self._crm(caller) as crm:
            sender = crm.me(caller.user_id)
            entries = list(crm.recipients(data.selection.dump(), data.kinds))
        t1 = time.monotonic()
        out = campaigns.create(self.db.session, self.runtime.settings, caller.tenant_id, sender, data, entries)
        t2 = time.monotonic()
        self._kick()
        log.info("campaign %s: %d recipient rows from the crm in %.2f s, %d messages stored in %.2f s, "
                 "batches published in %.2f s", out["id"], len(entries), t1 - t0, out["total"], t2 - t1,
                 time.monotonic() - t2)
        return out

    @rpc(expected_exceptions=EXPECTED)
    def get_campaign(self, campaign_id):
        return campaigns.get(self.db.session, self.caller.require().tenant_id, _id(campaign_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_campaigns(self):
        return campaigns.list_campaigns(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def list_messages(self, campaign_id, query=None):
        return campaigns.list_messages(self.db.session, self.caller.require().tenant_id, _id(campaign_id),
                                       validate(MessagesQuery, query))

    @rpc(expected_exceptions=EXPECTED)
    def retry_failed(self, campaign_id):
        out = campaigns.retry_failed(self.db.session, self.runtime.settings, self.caller.require().tenant_id,
                                     _id(campaign_id))
        self._kick()
        return out

    # -- templates and the sending address ----------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_templates(self):
        return campaigns.list_templates(self.db.session, self.caller.require().tenant_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_template(self, template_id):
        return campaigns.get_template(self.db.session, self.caller.require().tenant_id, _id(template_id, "template_id"))

    @rpc(expected_exceptions=EXPECTED)
    def save_template(self, template, template_id=None):
        caller = self.caller.require()
        tid = None if template_id is None else _id(template_id, "template_id")
        return campaigns.save_template(self.db.session, caller.tenant_id, caller.user_id, validate(TemplateIn, template),
                                       tid)

    @rpc(expected_exceptions=EXPECTED)
    def delete_template(self, template_id):
        return campaigns.delete_template(self.db.session, self.caller.require().tenant_id,
                                         _id(template_id, "template_id"))

    @rpc(expected_exceptions=EXPECTED)
    def get_sending_address(self):
        caller = self.caller.require()
        return {"from_address": campaigns.sending_address(self.db.session, self.runtime.settings, caller.tenant_id)}

    @rpc(expected_exceptions=EXPECTED)
    def set_sending_address(self, address):
        caller, data = self.caller.require(), validate(EmailIn, address)
        return campaigns.set_sending_address(self.db.session, caller.tenant_id, data.email)

    # -- unsubscribe (no user: the token is the authority) ---------------------------
    @rpc(expected_exceptions=EXPECTED)
    def unsubscribe_info(self, token):
        self._anonymous()
        return campaigns.unsubscribe_info(self.runtime.settings, validate(UnsubscribeIn, {"token": token}).token)

    @rpc(expected_exceptions=EXPECTED)
    def unsubscribe(self, token):
        self._anonymous()
        out = campaigns.unsubscribe(self.db.session, self.runtime.settings,
                                    validate(UnsubscribeIn, {"token": token}).token)
        self._kick()
        return out

    # -- development ------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def dev_outbox(self, query=None):
        self.caller.require()
        q = validate(OutboxQuery, query)
        return devsmtp.read(self.runtime.settings.dev_outbox or devsmtp.default_store(), q.limit, q.to)

    # -- the outbox: published after commit (send batches, email_sent, email_opted_out) ----
    @timer(interval=0.5)
    def relay_outbox(self):
        self._kick()

    def _kick(self):
        try:
            while campaigns.relay(self.db.session, self.publish) == 500:
                pass
        except Exception:  # noqa: BLE001 - broker away: the rows stay, the timer publishes them later
            log.warning("outbox relay failed; will retry", exc_info=True)
            self.db.session.rollback()


class MailerSender:
    """The send loop, in a container of its own (same process, see the Procfile): its
    workers send batches while the API's workers stay free for progress and compose.
    Both classes run under ``python -m service_common.run mailer.service``."""

    name = "mailer_sender"

    db = Database(*DATABASE)
    smtp = Smtp()
    runtime = RuntimeProvider()

    # requeue_on_error: an unexpected failure (database away) puts the batch back on the queue
    @event_handler("mailer", "send_batch", handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=True)
    def send_batch(self, payload):
        return campaigns.process_batch(self.db.session, self.runtime.settings, self.smtp, self.runtime.instance_id,
                                       payload)

    @timer(interval=1.0)
    def beat(self):
        campaigns.heartbeat(self.db.session, self.runtime.instance_id)

    @timer(interval=10.0)
    def sweep(self):
        campaigns.sweep(self.db.session, self.runtime.settings, self.runtime.instance_id)
