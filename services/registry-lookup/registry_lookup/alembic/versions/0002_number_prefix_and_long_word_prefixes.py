"""number-prefix btree over companies only; FTS prefix indexes up to 8 characters

A number prefix ("10", "9000") scanned every sub-unit number of the country
through the unique (country, org_number) btree before finding a company: a
partial btree over companies alone answers it from the first entry. FTS5
answers a word prefix longer than its longest prefix index by merging the
doclists of every matching word in full (tens of ms for a common word at
millions of rows): prefix indexes of 5 to 8 characters make those incremental
too, like the 2-4 character ones (``detail=none`` keeps each level small).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COUNTRIES = ("NO", "SE", "DK", "GB")
MAIN = sa.text("kind = 'main'")


def _fts(prefixes: str) -> None:
    for c in COUNTRIES:
        t = f"registry_fts_{c.lower()}"
        op.execute(f"DROP TABLE IF EXISTS {t}")
        op.execute(f"CREATE VIRTUAL TABLE {t} USING fts5(name_key, content='registry_entities', content_rowid='id', "
                   f"prefix='{prefixes}', tokenize='unicode61 remove_diacritics 0', detail='none')")
        op.execute(f"INSERT INTO {t}(rowid, name_key) SELECT id, name_key FROM registry_entities "
                   f"WHERE country = '{c}' AND kind = 'main'")


def upgrade():
    op.create_index("ix_registry_entities_main_number", "registry_entities", ["country", "org_number"],
                    sqlite_where=MAIN, postgresql_where=MAIN)
    if op.get_bind().dialect.name != "postgresql":
        _fts("2 3 4 5 6 7 8")


def downgrade():
    op.drop_index("ix_registry_entities_main_number", "registry_entities")
    if op.get_bind().dialect.name != "postgresql":
        _fts("2 3 4")
