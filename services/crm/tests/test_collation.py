"""Names sort as the tenant's language sorts (issue 13): ICU collation keys
stored in ``companies.sort_name``, over real RabbitMQ on SQLite and PostgreSQL."""
import importlib

from sqlalchemy import select, text as sql
from sqlalchemy.orm import Session

from crm import collation
from crm.models import Company

NAMES = ["Ålesund Bygg", "Zeta AS", "Øst Bemanning", "Ærø Søfart", "Ångström AB", "Örebro AB", "Ädel AB", "Aker AS"]
NORDIC = ["Aker AS", "Zeta AS", "Ädel AB", "Ærø Søfart", "Örebro AB", "Øst Bemanning", "Ålesund Bygg", "Ångström AB"]
SWEDISH = ["Aker AS", "Zeta AS", "Ålesund Bygg", "Ångström AB", "Ädel AB", "Ærø Søfart", "Örebro AB", "Øst Bemanning"]
ENGLISH = ["Ädel AB", "Ærø Søfart", "Aker AS", "Ålesund Bygg", "Ångström AB", "Örebro AB", "Øst Bemanning", "Zeta AS"]


def test_keys_sort_as_each_language_sorts():
    for lang, expected in (("nb", NORDIC), ("da", NORDIC), ("sv", SWEDISH), ("en", ENGLISH)):
        assert sorted(NAMES, key=lambda n: collation.key(n, lang)) == expected, lang
    # hex keys compare byte-wise as ICU compares, case and punctuation aside
    assert collation.key("zeta as", "nb") < collation.key("Ærø", "nb")
    assert collation.key("A-Z Bygg", "nb") < collation.key("Aker", "nb")
    assert set(collation.key("Ærø Søfart", "nb")) <= set("0123456789abcdef")


def test_tenant_language_or_its_country():
    assert collation.language("nb", "SEK") == "nb"
    assert collation.language("no", None) == "nb"
    assert collation.language(None, "SEK") == "sv" and collation.language(None, "DKK") == "da"
    assert collation.language(None, "NOK") == "nb" and collation.language(None, "GBP") == "en"
    assert collation.language("xx", "EUR") == "en"


def _ours(rpc, tag, sort="name"):
    return [c["name"] for c in rpc.list_companies({"tag": [tag], "sort": sort, "per_page": 50})["items"]]


def test_overview_sorts_names_in_the_tenants_language(clients, world, engine):
    admin, b = clients["admin"], clients["b"]
    for name in NAMES:
        for rpc in (admin, b):
            rpc.set_tags(rpc.create_company({"name": name, "country": "NO", "relationship": "customer"})["id"], ["Sortert"])
    assert _ours(admin, "sortert") == NORDIC  # tenant A: NOK, no language chosen -> Norwegian
    assert _ours(b, "sortert") == SWEDISH  # tenant B: SEK -> Swedish
    assert _ours(admin, "sortert", "-name") == NORDIC[::-1]

    # a renamed company sorts by its new name
    zeta = next(c for c in admin.list_companies({"tag": ["sortert"], "per_page": 50})["items"] if c["name"] == "Zeta AS")
    admin.update_company(zeta["id"], {"name": "Ørn AS"})
    assert _ours(admin, "sortert")[-3:] == ["Øst Bemanning", "Ålesund Bygg", "Ångström AB"]
    assert _ours(admin, "sortert").index("Ørn AS") == _ours(admin, "sortert").index("Øst Bemanning") - 1
    admin.update_company(zeta["id"], {"name": "Zeta AS"})

    # the tenant's language changes: its names sort anew
    admin.set_tenant_settings({"language": "sv"})
    assert _ours(admin, "sortert") == SWEDISH
    admin.set_tenant_settings({"language": "en"})
    assert _ours(admin, "sortert") == ENGLISH
    assert _ours(b, "sortert") == SWEDISH  # the other tenant is untouched

    # the data migration gives existing rows (old folded keys) their collation keys
    admin.set_tenant_settings({"language": "da"})
    with engine.begin() as conn:
        from service_common import text

        for id_, name in conn.execute(sql("SELECT id, name FROM companies")).all():
            conn.execute(sql("UPDATE companies SET sort_name = :k WHERE id = :i"), {"k": text.sort_key(name), "i": id_})
    assert _ours(admin, "sortert") != NORDIC  # folded: Ærø sorts as "aero"
    migration = importlib.import_module("crm.alembic.versions.0008_collation")
    with engine.begin() as conn:
        migration._rekey(conn, collation.key)
    assert _ours(admin, "sortert") == NORDIC
    assert _ours(b, "sortert") == SWEDISH
    with Session(engine) as s:
        assert all(len(k) <= collation.KEY_CHARS for k in s.scalars(select(Company.sort_name)))
