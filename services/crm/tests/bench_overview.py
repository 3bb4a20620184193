"""Service-side timings at scale (not collected by pytest): the logic behind
list_companies, get_company and the live search, on a loaded database.

    python tests/bench_overview.py sqlite:////tmp/bench/crm100k.sqlite3 [tenant_id]

Load the data first with crm.demo.load_full (100,000 companies: ~80 s on SQLite).
Each call opens its own session, as a nameko worker does.
"""
from __future__ import annotations

import random
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from crm import card, overview  # noqa: E402
from crm.models import Company  # noqa: E402
from crm.schemas import OverviewQuery, check  # noqa: E402
from service_common.db import make_engine  # noqa: E402


def timed(factory, fn, runs=40):
    times = []
    for i in range(runs):
        start = time.perf_counter()
        with factory() as session:
            fn(session, i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1]


def main(url: str, tenant: int = 1) -> None:
    engine = make_engine(url)
    factory = sessionmaker(engine)
    with Session(engine) as s:
        n = s.scalar(select(func.count()).select_from(Company).where(Company.tenant_id == tenant))
        ids = list(s.scalars(select(Company.id).where(Company.tenant_id == tenant)))
    rng = random.Random(1)
    prefixes = ["o", "os", "ostf", "berg", "bygg", "bygg oslo", "nord", "stock", "971", "55", "kob", "thames con", "ae"]
    last_page = max(1, (n + 49) // 50)
    cases = {
        "live search q (page 1)": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"q": prefixes[i % len(prefixes)], "per_page": 20})),
        "overview: relationship=customer, sort -active_projects": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"relationship": ["customer"], "sort": "-active_projects"})),
        "overview: country=SE, sort -unresolved_tasks": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"country": ["SE"], "sort": "-unresolved_tasks"})),
        "overview: owner=mine, sort -invoiced_this_year": lambda s, i: overview.list_companies(
            s, tenant, 2, check(OverviewQuery, {"owner": ["mine"], "sort": "-invoiced_this_year"})),
        "overview: no filter, sort -invoiced_this_year": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"sort": "-invoiced_this_year"})),
        f"overview: page 2000 ({min(2000, last_page)}), sort name": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"page": min(2000, last_page)})),
        "overview: page 2000, relationship=customer, sort city": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"page": 500, "relationship": ["customer"], "sort": "city"})),
        "overview + facets: relationship=customer": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"relationship": ["customer"], "facets": True})),
        "overview + facets: no filter": lambda s, i: overview.list_companies(
            s, tenant, 1, check(OverviewQuery, {"facets": True})),
        "full card (get_company)": lambda s, i: card.get(s, tenant, rng.choice(ids)),
    }
    print(f"{n} companies in tenant {tenant}; {url.split(':')[0]}")
    for name, fn in cases.items():
        p50, p95, worst = timed(factory, fn)
        print(f"  {name:58s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {worst:7.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
