"""what a CRM filters and shows: region, municipality, display number, status text, legal-form
description, marketing protection; ``status`` wide enough for ``liquidation``

The entity JSON (``detail``) holds these too; the columns let the index filter and list them.
Rows imported before this migration get them on their next import or live refresh.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("org_number_display", sa.String(40)),
    ("region", sa.String(80)),
    ("municipality", sa.String(80)),
    ("status_text", sa.String(200)),
    ("legal_form_text", sa.String(200)),
    ("marketing_protection", sa.Boolean()),
)


def upgrade():
    for name, type_ in COLUMNS:
        op.add_column("registry_entities", sa.Column(name, type_, nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        op.alter_column("registry_entities", "status", type_=sa.String(16), existing_type=sa.String(10))
    op.create_index("ix_registry_entities_region", "registry_entities", ["country", "region"])


def downgrade():
    op.drop_index("ix_registry_entities_region", "registry_entities")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE registry_entities SET status = 'dissolved' WHERE length(status) > 10")
        op.alter_column("registry_entities", "status", type_=sa.String(10), existing_type=sa.String(16))
    with op.batch_alter_table("registry_entities") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
