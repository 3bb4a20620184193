"""campaigns keep the unsubscribe link's words in the sender's language (issue 14)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("unsubscribe_text", sa.String(100)))


def downgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("unsubscribe_text")
