"""Languages (issue 14): a user's UI language, a tenant's default language and time zone.

Revision ID: 0007_languages
Revises: 0006_credit

Columns are added with plain ALTER TABLE (no batch copy on SQLite, see 0002). NULL means
"not chosen": the user follows the tenant, the tenant the gateway's defaults.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_languages"
down_revision = "0006_credit"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("language", sa.String(10)))
    op.add_column("tenants", sa.Column("language", sa.String(10)))
    op.add_column("tenants", sa.Column("timezone", sa.String(64)))


def downgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("timezone")
        batch.drop_column("language")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
