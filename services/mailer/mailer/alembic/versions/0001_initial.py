"""initial messages

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
        "messages",
sa.Column("id", sa.Integer, primary_key=True),
sa.Column("tenant_id", sa.Integer, nullable=False),
sa.Column("idempotency_key", sa.String(128), nullable=False),
sa.Column("recipient", sa.String(320), nullable=False),
sa.Column("subject", sa.String(300), nullable=False),
sa.Column("status", sa.String(20), nullable=False, server_default="queued"),
sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_messages_tenant_key"),
    )


def downgrade():
    op.drop_table("messages")
