"""campaigns, their messages (one per address), templates, suppressions, outbox,
rate buckets, instances; the unused 0001 ``messages`` table goes

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name, **kw):
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade():
    op.drop_table("messages")
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kinds", sa.String(40), nullable=False),
        sa.Column("from_address", sa.String(320), nullable=False),
        sa.Column("sender_name", sa.String(200), nullable=False),
        sa.Column("sender_title", sa.String(200)),
        sa.Column("reply_to", sa.String(320)),
        sa.Column("selection", sa.Text, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        _ts("finished_at"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_campaigns_tenant_key"),
    )
    op.create_index("ix_campaigns_tenant_created", "campaigns", ["tenant_id", "id"])
    op.create_table(
        "campaign_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("company_id", sa.Integer),
        sa.Column("contact_id", sa.Integer),
        sa.Column("company_name", sa.String(200)),
        sa.Column("first_name", sa.String(100)),
        sa.Column("last_name", sa.String(100)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("skip_reason", sa.String(30)),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_instance", sa.String(40)),
        sa.Column("claim_token", sa.String(40)),
        _ts("claimed_at"),
        _ts("sent_at"),
        sa.Column("smtp_code", sa.Integer),
        sa.Column("smtp_response", sa.String(500)),
        sa.UniqueConstraint("campaign_id", "address", name="uq_campaign_messages_address"),
    )
    op.create_index("ix_campaign_messages_status", "campaign_messages", ["campaign_id", "status", "id"])
    op.create_table(
        "mail_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Integer),
        _ts("updated_at", nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "name", name="uq_mail_templates_tenant_name"),
    )
    op.create_table(
        "suppressions",
        sa.Column("tenant_id", sa.Integer, primary_key=True),
        sa.Column("address", sa.String(320), primary_key=True),
        _ts("at", nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("event_id", sa.String(40), nullable=False, unique=True),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        _ts("published_at"),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "id"])
    op.create_table(
        "rate_buckets",
        sa.Column("tenant_id", sa.Integer, primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_table(
        "tenant_senders",
        sa.Column("tenant_id", sa.Integer, primary_key=True),
        sa.Column("from_address", sa.String(320), nullable=False),
        _ts("updated_at", nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "mailer_instances",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("seen", sa.Float, nullable=False),
    )


def downgrade():
    for name in ("mailer_instances", "tenant_senders", "rate_buckets", "outbox", "suppressions", "mail_templates", "campaign_messages",
                 "campaigns"):
        op.drop_table(name)
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="queued"),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_messages_tenant_key"),
    )
