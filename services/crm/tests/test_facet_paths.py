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


@pytest.mark.parametrize("total", [150, None])  # one pass and GROUP BY alike
def test_long_facets_are_not_cut_at_30_and_keep_selected_values(engine, total):
    """issue 13: every city up to ``facet_limit`` (how many there are in all beside it); a selected
    value outside the limit still comes with its count; the industry chip gets the industry's text."""
    from sqlalchemy import func, select

    from crm.models import Company

    with Session(engine) as s:
        tenant = auth.ensure_tenant(s, "Facets AS", "f@example.com", "password-f-123")
        demo.load_full(s, tenant.id, 150, seed=5)
        for i, company in enumerate(s.scalars(select(Company).where(Company.tenant_id == tenant.id)
                                              .order_by(Company.id).limit(45))):
            company.city = f"By {i:02d}"  # 45 cities of one company each, beside the demo's
        s.commit()
        cities = s.scalar(select(func.count(func.distinct(Company.city))).where(Company.tenant_id == tenant.id))
        assert cities > 45
        facets, sizes = overview.facet_counts(s, tenant.id, None, validate(OverviewQuery, {"facets": True}),
                                              total=total, with_sizes=True)
        assert len(facets["city"]) == cities and sizes["city"] == cities  # not cut at 30
        small = validate(OverviewQuery, {"facets": True, "facet_limit": 5, "city": ["By 44"]})
        facets, sizes = overview.facet_counts(s, tenant.id, None, small, total=total, with_sizes=True)
        values = [f["value"] for f in facets["city"]]
        assert len(values) == 6 and values[-1] == "By 44" and sizes["city"] > 6  # the selected one comes too
        assert facets["city"][-1]["count"] == 1
        code, text = s.execute(select(Company.industry_code, Company.industry_text)
                               .where(Company.tenant_id == tenant.id, Company.industry_code.is_not(None)).limit(1)).one()
        assert overview.industry_labels(s, tenant.id, [code, "bygg"]) == {code: text}
