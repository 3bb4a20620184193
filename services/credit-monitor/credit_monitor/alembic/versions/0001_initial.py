"""initial monitored_companies

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "monitored_companies",
sa.Column("id", sa.Integer, primary_key=True),
sa.Column("tenant_id", sa.Integer, nullable=False),
sa.Column("company_id", sa.Integer, nullable=False),
sa.Column("country", sa.String(2), nullable=False),
sa.Column("org_number", sa.String(32), nullable=False),
sa.Column("rating", sa.String(16)),
sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
sa.UniqueConstraint("tenant_id", "company_id", name="uq_monitored_tenant_company"),
    )


def downgrade():
    op.drop_table("monitored_companies")
