"""Gateway RPC functions for a company's mail flags (issue 13: the registry's marketing
protection, set on create from the registry)."""
from __future__ import annotations

from . import call


def set_marketing_protection(company_id: int, protected: bool) -> dict:
    return call("crm", "set_marketing_protection", company_id, bool(protected))
