"""e-mail (issue 9): opt-outs, marketing protection, processed events

Revision ID: 0003_mail
Revises: 0003_bulk
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_mail"
down_revision = "0003_bulk"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "email_opt_outs",
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
    )
    op.create_table(
        "company_mail_flags",
        sa.Column("company_id", sa.Integer, sa.ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("marketing_protected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade():
    op.drop_table("processed_events")
    op.drop_table("company_mail_flags")
    op.drop_table("email_opt_outs")
