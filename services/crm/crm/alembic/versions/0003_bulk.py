"""bulk edits (issue 7): one row per bulk operation (the job) and one row per
company and key it changed (the previous value, for undo)

Revision ID: 0003_bulk
Revises: 0003_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_bulk"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bulk_operations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("change", sa.Text, nullable=False),
        sa.Column("selection", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("changed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("undoes_id", sa.Integer, sa.ForeignKey("bulk_operations.id"), nullable=True),
        sa.Column("undone_by_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undo_until", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_bulk_operations_tenant_key"),
    )
    op.create_index("ix_bulk_operations_user", "bulk_operations", ["tenant_id", "user_id", "id"])
    op.create_index("ix_bulk_operations_status", "bulk_operations", ["status", "lease_until"])
    op.create_table(
        "bulk_operation_items",
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("bulk_operations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("company_id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Integer, primary_key=True),
        sa.Column("old", sa.Text, nullable=True),
        sa.Column("new", sa.Text, nullable=True),
    )


def downgrade():
    op.drop_table("bulk_operation_items")
    op.drop_index("ix_bulk_operations_status", table_name="bulk_operations")
    op.drop_index("ix_bulk_operations_user", table_name="bulk_operations")
    op.drop_table("bulk_operations")
