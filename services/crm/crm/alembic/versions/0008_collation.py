"""Names sort as the tenant's language sorts (issue 13): ``companies.sort_name``
holds the ICU collation key of the name (hex, see ``crm.collation``).

Revision ID: 0008_collation
Revises: 0007_languages

PostgreSQL: the column widens to 1000 characters and compares byte-wise
(``COLLATE "C"``) whatever the database's collation; SQLite compares text
byte-wise already and does not enforce the width. Data migration: every
existing company gets its key, tenant by tenant, in the tenant's language.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_collation"
down_revision = "0007_languages"
branch_labels = None
depends_on = None


def _rekey(conn, key):
    from crm import collation

    tenants = conn.execute(sa.text("SELECT id, language, currency FROM tenants")).all()
    for tenant_id, language, currency in tenants:
        lang = collation.language(language, currency)
        after = 0
        while True:
            rows = conn.execute(sa.text("SELECT id, name FROM companies WHERE tenant_id = :t AND id > :a "
                                        "ORDER BY id LIMIT 2000"), {"t": tenant_id, "a": after}).all()
            if not rows:
                break
            conn.execute(sa.text("UPDATE companies SET sort_name = :k WHERE id = :i"),
                         [{"i": i, "k": key(name, lang)} for i, name in rows])
            after = rows[-1][0]


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute('ALTER TABLE companies ALTER COLUMN sort_name TYPE VARCHAR(1000) COLLATE "C"')
    from crm import collation

    _rekey(conn, collation.key)


def downgrade():
    from service_common import text

    conn = op.get_bind()
    _rekey(conn, lambda name, lang: text.sort_key(name))
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE companies ALTER COLUMN sort_name TYPE VARCHAR(200) COLLATE \"default\"")
