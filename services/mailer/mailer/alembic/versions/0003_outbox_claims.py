"""outbox rows are claimed by one relay at a time (several instances on any database)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("relay_token", sa.String(40)))
        batch.add_column(sa.Column("claimed_until", sa.Float))


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("relay_token")
