"""Creditsafe monitoring: settings, monitored companies, rating history,
processed events, inbox, outbox. The 0001 shell table was never written to:
it is replaced.

Revision ID: 0002_monitoring
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_monitoring"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("monitored_companies")
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("username", sa.String(100)),
        sa.Column("password_encrypted", sa.Text),
        sa.Column("portfolio_id", sa.BigInteger),
        sa.Column("portfolio_key", sa.String(200)),
        sa.Column("checkpoint", sa.String(32)),
        sa.Column("last_poll_at", sa.DateTime(timezone=True)),
        sa.Column("last_poll_error", sa.String(300)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "monitored_companies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("company_id", sa.Integer, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("org_number", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("connect_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("in_portfolio", sa.Boolean, nullable=False),
        sa.Column("band", sa.String(1)),
        sa.Column("score", sa.Integer),
        sa.Column("credit_limit", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("description", sa.String(200)),
        sa.Column("rated_at", sa.DateTime(timezone=True)),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(300)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "company_id", name="uq_monitored_tenant_company"),
    )
    op.create_index("ix_monitored_tenant_status", "monitored_companies", ["tenant_id", "status", "id"])
    op.create_index("ix_monitored_tenant_connect", "monitored_companies", ["tenant_id", "connect_id"])
    op.create_table(
        "rating_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("company_id", sa.Integer, nullable=False),
        sa.Column("band", sa.String(1)),
        sa.Column("score", sa.Integer),
        sa.Column("credit_limit", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("description", sa.String(200)),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("event_ids", sa.String(200)),
    )
    op.create_index("ix_rating_history_company", "rating_history", ["tenant_id", "company_id", "rated_at", "id"])
    op.create_table(
        "processed_events",
        sa.Column("tenant_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "inbox_events",
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "seq"])


def downgrade():
    for table in ("outbox", "inbox_events", "processed_events", "rating_history", "monitored_companies",
                  "tenant_settings"):
        op.drop_table(table)
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
