"""Bulk edits of a selection (crm service, issue 7): one function per remote operation."""
from __future__ import annotations

from . import call

# Applying a small selection happens within the call (up to 1,000 companies); give it time.
APPLY_TIMEOUT = 10.0


def bulk_preview(selection: dict, sample: int = 5):
    return call("crm", "bulk_preview", {"selection": selection, "sample": sample})


def bulk_add_tags(selection: dict, tags: list[str], idempotency_key: str):
    return call("crm", "bulk_add_tags", {"selection": selection, "tags": tags, "idempotency_key": idempotency_key},
                timeout=APPLY_TIMEOUT)


def bulk_remove_tags(selection: dict, tags: list[str], idempotency_key: str):
    return call("crm", "bulk_remove_tags", {"selection": selection, "tags": tags, "idempotency_key": idempotency_key},
                timeout=APPLY_TIMEOUT)


def bulk_set_attributes(selection: dict, values: dict, idempotency_key: str):
    return call("crm", "bulk_set_attributes", {"selection": selection, "values": values,
                                               "idempotency_key": idempotency_key}, timeout=APPLY_TIMEOUT)


def bulk_set_relationship(selection: dict, relationship: str, idempotency_key: str):
    return call("crm", "bulk_set_relationship", {"selection": selection, "relationship": relationship,
                                                 "idempotency_key": idempotency_key}, timeout=APPLY_TIMEOUT)


def undo_bulk_operation(operation_id: int, idempotency_key: str):
    return call("crm", "undo_bulk_operation", {"operation_id": operation_id, "idempotency_key": idempotency_key},
                timeout=APPLY_TIMEOUT)


def get_bulk_operation(operation_id: int):
    return call("crm", "get_bulk_operation", operation_id)


def last_bulk_operation():
    return call("crm", "last_bulk_operation")
