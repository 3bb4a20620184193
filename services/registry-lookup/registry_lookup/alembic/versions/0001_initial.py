"""initial registry index

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

COUNTRIES = ("NO", "SE", "DK", "GB")


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    key_type = sa.String(200, collation="C") if pg else sa.String(200)
    word_type = sa.String(64, collation="C") if pg else sa.String(64)
    op.create_table(
        "registry_entities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("org_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("parent", sa.String(32)),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_key", key_type, nullable=False),
        sa.Column("city", sa.String(120)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("legal_form", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("refreshed_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("country", "org_number", name="uq_registry_entities_country_org"),
    )
    op.create_index("ix_registry_entities_name_key", "registry_entities", ["country", "kind", "name_key"])
    op.create_index("ix_registry_entities_parent", "registry_entities", ["country", "parent"])
    op.create_table(
        "registry_words",
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("word", word_type, primary_key=True),
        sa.Column("entity_id", sa.Integer, primary_key=True),
    )
    op.create_table(
        "registry_sync",
        sa.Column("feed", sa.String(40), primary_key=True),
        sa.Column("cursor", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    if pg:
        op.create_index("ix_registry_words_entity", "registry_words", ["entity_id"])
    else:
        for c in COUNTRIES:
            op.execute(
                f"CREATE VIRTUAL TABLE registry_fts_{c.lower()} USING fts5("
                f"name_key, content='registry_entities', content_rowid='id', "
                f"prefix='2 3 4', tokenize='unicode61 remove_diacritics 0', detail='none')"
            )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        for c in COUNTRIES:
            op.execute(f"DROP TABLE IF EXISTS registry_fts_{c.lower()}")
    op.drop_table("registry_sync")
    op.drop_table("registry_words")
    op.drop_table("registry_entities")
