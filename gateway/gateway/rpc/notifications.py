"""Gateway calls for the coworker's notifications (issue 10; crm)."""
from __future__ import annotations

from . import call


def list_notifications(query: dict | None = None) -> dict:
    return call("crm", "list_notifications", query or {})


def count_unread_notifications() -> int:
    return call("crm", "count_unread_notifications")["unread"]


def mark_notification_read(notification_id: int) -> dict:
    return call("crm", "mark_notification_read", notification_id)


def mark_all_notifications_read() -> dict:
    return call("crm", "mark_all_notifications_read")
