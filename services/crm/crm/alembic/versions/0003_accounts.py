"""accounts (issue 11): e-mail unique per tenant, session versions, forced
password changes, TOTP, recovery codes, login challenges, tenant slug and
"require 2FA"

Revision ID: 0003_accounts
Revises: 0002

``users.email`` was unique across tenants; it becomes unique per tenant. On
PostgreSQL that is a constraint swap. On SQLite the table's unnamed unique
constraint can only go with the table: the rows are copied aside, the table
is dropped and re-created, the rows go back, all in one transaction with the
foreign keys deferred (no table refers to users with ON DELETE CASCADE, so the
drop deletes nothing else; the deferred check at commit finds every reference
satisfied again).
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0003_accounts"
down_revision = "0002"
branch_labels = None
depends_on = None


def _user_columns():
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id")),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


NEW_USER_COLUMNS = [
    ("session_version", lambda: sa.Column("session_version", sa.Integer, nullable=False, server_default="1")),
    ("must_change_password", lambda: sa.Column("must_change_password", sa.Boolean, nullable=False,
                                               server_default=sa.false())),
    ("password_changed_at", lambda: sa.Column("password_changed_at", sa.DateTime(timezone=True))),
    ("totp_secret", lambda: sa.Column("totp_secret", sa.String(64))),
    ("totp_pending_secret", lambda: sa.Column("totp_pending_secret", sa.String(64))),
    ("totp_last_step", lambda: sa.Column("totp_last_step", sa.BigInteger)),
]


def _slug(name: str) -> str:
    try:
        from unidecode import unidecode

        name = unidecode(name)
    except ImportError:  # pragma: no cover
        pass
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50] or "tenant"


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"

    op.add_column("tenants", sa.Column("slug", sa.String(60)))
    op.add_column("tenants", sa.Column("require_2fa", sa.Boolean, nullable=False, server_default=sa.false()))
    taken = set()
    for tenant_id, name in bind.execute(sa.text("SELECT id, name FROM tenants ORDER BY id")).all():
        slug = base = _slug(name)
        n = 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        bind.execute(sa.text("UPDATE tenants SET slug = :s WHERE id = :i"), {"s": slug, "i": tenant_id})
    op.create_index("uq_tenants_slug", "tenants", ["slug"], unique=True)

    if sqlite:
        # a transaction must be open for the deferred foreign-key check (pysqlite opens one on DML)
        bind.exec_driver_sql("UPDATE users SET id = id WHERE 0")
        bind.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        bind.exec_driver_sql("CREATE TEMP TABLE _users_copy AS SELECT * FROM users")
        bind.exec_driver_sql("DROP TABLE users")
        op.create_table("users", *_user_columns(), *(make() for _, make in NEW_USER_COLUMNS),
                        sa.UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"))
        old = ", ".join(c.name for c in _user_columns())
        bind.exec_driver_sql(f"INSERT INTO users ({old}) SELECT {old} FROM _users_copy")
        bind.exec_driver_sql("DROP TABLE _users_copy")
        op.create_index("ix_users_tenant_id", "users", ["tenant_id"])
    else:
        for _, make in NEW_USER_COLUMNS:
            op.add_column("users", make())
        op.drop_constraint("users_email_key", "users", type_="unique")
        op.create_unique_constraint("uq_users_tenant_email", "users", ["tenant_id", "email"])

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_recovery_codes_user", "recovery_codes", ["user_id"])
    op.create_table(
        "login_challenges",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("client", sa.String(64)),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
    )


def downgrade():
    op.drop_table("login_challenges")
    op.drop_table("recovery_codes")
    # plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of users would trip its foreign keys.
    # The e-mail stays unique per tenant (a global constraint could fail on the rows there are by then).
    for name, _ in reversed(NEW_USER_COLUMNS):
        op.drop_column("users", name)
    op.drop_index("uq_tenants_slug", "tenants")
    op.drop_column("tenants", "require_2fa")
    op.drop_column("tenants", "slug")
