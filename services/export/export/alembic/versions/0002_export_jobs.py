"""export jobs: what, who, progress, lease, file metadata; export_chunks

Revision ID: 0002_export_jobs
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_export_jobs"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_jobs") as b:
        b.add_column(sa.Column("rows_total", sa.Integer))
        b.add_column(sa.Column("format", sa.String(8), nullable=False, server_default="xlsx"))
        b.add_column(sa.Column("columns", sa.Text, nullable=False, server_default="[]"))
        b.add_column(sa.Column("contacts", sa.Boolean, nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("selection", sa.Text, nullable=False, server_default="{}"))
        b.add_column(sa.Column("title", sa.String(100), nullable=False, server_default="Companies"))
        b.add_column(sa.Column("token", sa.Text))
        b.add_column(sa.Column("idempotency_key", sa.String(64)))
        b.add_column(sa.Column("error", sa.Text))
        b.add_column(sa.Column("file_name", sa.String(200)))
        b.add_column(sa.Column("file_size", sa.BigInteger))
        b.add_column(sa.Column("chunk_count", sa.Integer))
        b.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        b.add_column(sa.Column("worker", sa.String(64)))
        b.add_column(sa.Column("lease_until", sa.DateTime(timezone=True)))
        b.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True)))
        b.add_column(sa.Column("started_at", sa.DateTime(timezone=True)))
        b.add_column(sa.Column("finished_at", sa.DateTime(timezone=True)))
        b.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.create_index("ix_export_jobs_owner", "export_jobs", ["tenant_id", "user_id", "created_at"])
    op.create_index("ix_export_jobs_status", "export_jobs", ["status", "lease_until"])
    op.create_index("ix_export_jobs_expires", "export_jobs", ["expires_at"])
    op.create_index("uq_export_jobs_key", "export_jobs", ["tenant_id", "user_id", "idempotency_key"], unique=True)
    op.create_table(
        "export_chunks",
        sa.Column("job_id", sa.Integer, sa.ForeignKey("export_jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade():
    op.drop_table("export_chunks")
    for name in ("uq_export_jobs_key", "ix_export_jobs_expires", "ix_export_jobs_status", "ix_export_jobs_owner"):
        op.drop_index(name, "export_jobs")
    with op.batch_alter_table("export_jobs") as b:
        for col in ("rows_total", "format", "columns", "contacts", "selection", "title", "token", "idempotency_key",
                    "error", "file_name", "file_size", "chunk_count", "attempts", "worker", "lease_until",
                    "dispatched_at", "started_at", "finished_at", "expires_at"):
            b.drop_column(col)
