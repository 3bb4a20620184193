"""initial export_jobs

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
        "export_jobs",
sa.Column("id", sa.Integer, primary_key=True),
sa.Column("tenant_id", sa.Integer, nullable=False),
sa.Column("user_id", sa.Integer),
sa.Column("status", sa.String(20), nullable=False, server_default="queued"),
sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade():
    op.drop_table("export_jobs")
