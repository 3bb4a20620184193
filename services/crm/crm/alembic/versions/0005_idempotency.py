"""Idempotency keys: a retried create returns its first result (service_common.idempotency)

Revision ID: 0005_idempotency
"""
from alembic import op

from service_common import idempotency

revision = "0005_idempotency"
down_revision = "0004_api_clients"
branch_labels = None
depends_on = None


def upgrade():
    idempotency.create_table(op)


def downgrade():
    idempotency.drop_table(op)
