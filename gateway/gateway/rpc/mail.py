"""E-mail campaigns (mailer service, issue 9): one function per remote operation.

Building a campaign or an audience reads every recipient page from the crm
inside the call: those calls get a longer timeout. The caller's token (minted by
the gateway for the mailer and the crm) travels with each call; unsubscribe calls
go out with the gateway's own identity (no user is logged in on that page).
"""
from __future__ import annotations

from . import call

BUILD_TIMEOUT = 60.0  # audience / create_campaign: pages through the crm
SEND_TIMEOUT = 25.0  # a test message over SMTP


def audience(selection: dict, kinds: list[str]) -> dict:
    return call("mailer", "audience", {"selection": selection, "kinds": kinds}, timeout=BUILD_TIMEOUT)


def preview(message: dict) -> dict:
    return call("mailer", "preview", message)


def send_test(message: dict) -> dict:
    return call("mailer", "send_test", message, timeout=SEND_TIMEOUT)


def create_campaign(campaign: dict) -> dict:
    return call("mailer", "create_campaign", campaign, timeout=BUILD_TIMEOUT)


def get_campaign(campaign_id: int) -> dict:
    return call("mailer", "get_campaign", campaign_id)


def list_campaigns() -> list[dict]:
    return call("mailer", "list_campaigns")


def list_messages(campaign_id: int, query: dict | None = None) -> dict:
    return call("mailer", "list_messages", campaign_id, query or {})


def retry_failed(campaign_id: int) -> dict:
    return call("mailer", "retry_failed", campaign_id)


def list_templates() -> list[dict]:
    return call("mailer", "list_templates")


def get_template(template_id: int) -> dict:
    return call("mailer", "get_template", template_id)


def save_template(template: dict, template_id: int | None = None) -> dict:
    return call("mailer", "save_template", template, template_id)


def delete_template(template_id: int) -> dict:
    return call("mailer", "delete_template", template_id)


def dev_outbox(limit: int = 50, to: str | None = None) -> dict:
    return call("mailer", "dev_outbox", {"limit": limit, **({"to": to} if to else {})})


def unsubscribe_info(token: str) -> dict:
    return call("mailer", "unsubscribe_info", token)


def unsubscribe(token: str) -> dict:
    return call("mailer", "unsubscribe", token)


def list_opt_outs(company_id: int) -> dict:
    return call("crm", "list_opt_outs", company_id)
