"""Remote operations of the export area: the export service's jobs and the
crm's column catalogue. One function per remote operation (see rpc/__init__)."""
from __future__ import annotations

from . import call

# start_export asks the crm to check the selection and count it before it answers
START_TIMEOUT = 10.0
CHUNK_TIMEOUT = 10.0


def export_columns() -> dict:
    """-> {"columns": [{"key","title","type","default"}], "default": [key]} (crm)."""
    return call("crm", "export_columns")


def start_export(request: dict) -> dict:
    """request: {"selection","columns","format","contacts","title","idempotency_key"} -> job."""
    return call("export", "start_export", request, timeout=START_TIMEOUT)


def get_export(export_id: int) -> dict:
    return call("export", "get_export", export_id)


def list_exports(all_: bool = False) -> list[dict]:
    return call("export", "list_exports", {"all": all_})


def cancel_export(export_id: int) -> dict:
    return call("export", "cancel_export", export_id)


def download_chunk(export_id: int, n: int) -> dict:
    """-> {"n","last","data": base64} (one piece of at most 512 KiB)."""
    return call("export", "download_chunk", export_id, n, timeout=CHUNK_TIMEOUT)
