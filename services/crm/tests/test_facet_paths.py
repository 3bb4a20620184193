"""Facet counting takes one pass over the matching rows for small result sets and a
GROUP BY per column for large ones: both must give the same counts (plain logic, real DB)."""
import pytest
from sqlalchemy.orm import Session

from crm import auth, demo, overview
from crm.schemas import OverviewQuery
from service_common.validation import validate


@pytest.mark.parametrize("filters", [{}, {"relationship": ["customer"]}, {"country": ["NO", "SE"], "relationship": ["prospect"]}])
def test_one_pass_and_group_by_facets_agree(engine, filters):
    with Session(engine) as s:
        tenant = auth.ensure_tenant(s, "Facets AS", "f@example.com", "password-f-123")
        demo.load_full(s, tenant.id, 150, seed=5)
        q = validate(OverviewQuery, {**filters, "facets": True})
        one_pass = overview.facet_counts(s, tenant.id, None, q, total=150)
        group_by = overview.facet_counts(s, tenant.id, None, q, total=None)
    assert one_pass == group_by
    assert sum(f["count"] for f in one_pass["relationship"]) > 0
