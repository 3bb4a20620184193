"""Batch enrolment: the enrolment job table, and per company its Safe Number,
the batch holding it and the backoff after an error.

Revision ID: 0003_enrol_batches
Revises: 0002_monitoring
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_enrol_batches"
down_revision = "0002_monitoring"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "enrol_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("portfolio_id", sa.BigInteger),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("import_id", sa.String(100)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(300)),
    )
    op.create_index("ix_enrol_batches_open", "enrol_batches", ["status", "tenant_id", "id"])
    with op.batch_alter_table("monitored_companies") as batch:
        batch.add_column(sa.Column("safe_number", sa.String(32)))
        batch.add_column(sa.Column("batch_id", sa.Integer))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.create_index("ix_monitored_batch", "monitored_companies", ["batch_id"])


def downgrade():
    op.drop_index("ix_monitored_batch", "monitored_companies")
    with op.batch_alter_table("monitored_companies") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("batch_id")
        batch.drop_column("safe_number")
    op.drop_index("ix_enrol_batches_open", "enrol_batches")
    op.drop_table("enrol_batches")
