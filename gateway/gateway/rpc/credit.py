"""Gateway calls for credit monitoring (issue 10): the card's credit box and
the admin settings. Only this module talks to credit_monitor."""
from __future__ import annotations

from . import call

# Creditsafe calls made while the user waits (check now, stop, start) may take a
# couple of seconds; the credit monitor itself gives up on Creditsafe after 2.5 s.
ACTION_TIMEOUT = 6.0


def get_company_credit(company_id: int) -> dict:
    return call("credit_monitor", "get_company", company_id)


def check_now(company_id: int) -> dict:
    return call("credit_monitor", "check_now", company_id, timeout=ACTION_TIMEOUT)


def stop_monitoring(company_id: int) -> dict:
    return call("credit_monitor", "stop_monitoring", company_id, timeout=ACTION_TIMEOUT)


def start_monitoring(company_id: int) -> dict:
    return call("credit_monitor", "start_monitoring", company_id, timeout=ACTION_TIMEOUT)


def get_credit_settings() -> dict:
    return call("credit_monitor", "get_settings")


def update_credit_settings(settings: dict) -> dict:
    return call("credit_monitor", "update_settings", settings)


def enrol_existing_companies() -> dict:
    return call("crm", "credit_enrol_existing")
