"""Credit rating (issue 10): rating columns on companies, the crm outbox,
per-user notifications.

Revision ID: 0006_credit
Revises: 0005_idempotency

Columns are added with plain ALTER TABLE (no batch copy on SQLite, see 0002).
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_credit"
down_revision = "0005_idempotency"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("companies", sa.Column("credit_band", sa.String(1)))
    op.add_column("companies", sa.Column("credit_score", sa.Integer))
    op.add_column("companies", sa.Column("credit_limit", sa.BigInteger))
    op.add_column("companies", sa.Column("credit_currency", sa.String(3)))
    op.add_column("companies", sa.Column("credit_updated_at", sa.DateTime(timezone=True)))
    op.create_index("ix_companies_tenant_credit", "companies", ["tenant_id", "credit_score", "sort_name", "id"])
    op.create_index("ix_companies_tenant_band", "companies", ["tenant_id", "credit_band", "sort_name", "id"])
    op.create_table(
        "crm_outbox",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_crm_outbox_pending", "crm_outbox", ["published_at", "seq"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("company_id", sa.Integer, sa.ForeignKey("companies.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("detail", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("read_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_notifications_user", "notifications", ["tenant_id", "user_id", "id"])
    op.create_index("ix_notifications_unread", "notifications", ["tenant_id", "user_id", "read_at"])


def downgrade():
    op.drop_table("notifications")
    op.drop_table("crm_outbox")
    op.drop_index("ix_companies_tenant_band", "companies")
    op.drop_index("ix_companies_tenant_credit", "companies")
    for column in ("credit_updated_at", "credit_currency", "credit_limit", "credit_score", "credit_band"):
        op.drop_column("companies", column)
