"""CRM core: the card's columns, exact counters, records, invoices, tags,
attributes, owners, addresses, logos, saved views and field-level history

Revision ID: 0002
Revises: 0001

Columns are added to ``companies`` with plain ALTER TABLE (no batch copy: on
SQLite a table copy would cascade-delete ``company_words``); the foreign keys
of ``parent_id`` and ``department_id`` are declared on PostgreSQL only.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id():
    return sa.Column("id", sa.Integer, primary_key=True)


def _tenant(**kw):
    return sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, **kw)


def _company(primary_key=False):
    return sa.Column("company_id", sa.Integer, sa.ForeignKey("companies.id", ondelete="CASCADE"), nullable=False,
                     primary_key=primary_key)


def _created():
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def company_columns():
    return [
        sa.Column("legal_form", sa.String(40)),
        sa.Column("industry_code", sa.String(12)),
        sa.Column("industry_text", sa.String(200)),
        sa.Column("industry_words", sa.String(220)),
        sa.Column("employees", sa.Integer),
        sa.Column("website", sa.String(200)),
        sa.Column("phone", sa.String(32)),
        sa.Column("email", sa.String(320)),
        sa.Column("region", sa.String(120)),
        sa.Column("parent_id", sa.Integer),
        sa.Column("department_id", sa.Integer),
        sa.Column("invoice_type", sa.String(20), nullable=False, server_default="email_pdf"),
        sa.Column("invoice_email", sa.String(320)),
        sa.Column("credit_days", sa.Integer, nullable=False, server_default="14"),
        sa.Column("logo_version", sa.Integer),
        sa.Column("active_projects", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unresolved_tasks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unsigned_agreements", sa.Integer, nullable=False, server_default="0"),
    ]


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column in company_columns():
        op.add_column("companies", column)
    if not sqlite:
        op.create_foreign_key("fk_companies_parent", "companies", "companies", ["parent_id"], ["id"])
        op.create_foreign_key("fk_companies_department", "companies", "departments", ["department_id"], ["id"])
    for name, cols in (
        ("ix_companies_tenant_orgnr", ["tenant_id", "org_number", "id"]),
        ("ix_companies_tenant_rel", ["tenant_id", "relationship", "sort_name", "id"]),
        ("ix_companies_tenant_country", ["tenant_id", "country", "sort_name", "id"]),
        ("ix_companies_tenant_city", ["tenant_id", "city", "sort_name", "id"]),
        ("ix_companies_tenant_region", ["tenant_id", "region", "sort_name", "id"]),
        ("ix_companies_tenant_industry", ["tenant_id", "industry_code"]),
        ("ix_companies_tenant_dept", ["tenant_id", "department_id"]),
        ("ix_companies_tenant_parent", ["tenant_id", "parent_id", "sort_name", "id"]),
        ("ix_companies_tenant_created", ["tenant_id", "created_at", "id"]),
        ("ix_companies_tenant_projects", ["tenant_id", sa.text("active_projects DESC"), "sort_name", "id", "relationship"]),
        ("ix_companies_tenant_tasks", ["tenant_id", sa.text("unresolved_tasks DESC"), "sort_name", "id", "relationship"]),
        ("ix_companies_tenant_agreements", ["tenant_id", sa.text("unsigned_agreements DESC"), "sort_name", "id", "relationship"]),
    ):
        op.create_index(name, "companies", cols)

    op.create_table(
        "company_owners",
        _company(primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        _tenant(),
    )
    op.create_index("ix_company_owners_user", "company_owners", ["tenant_id", "user_id", "company_id"])
    op.create_table(
        "company_addresses",
        _company(primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        _tenant(),
        sa.Column("street", sa.String(200)),
        sa.Column("postcode", sa.String(20)),
        sa.Column("city", sa.String(120)),
        sa.Column("region", sa.String(120)),
        sa.Column("country", sa.String(2)),
    )
    op.create_table(
        "company_logos",
        _company(primary_key=True),
        _tenant(),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "tags",
        _id(),
        _tenant(),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("folded", sa.String(50), nullable=False),
        sa.UniqueConstraint("tenant_id", "folded", name="uq_tags_tenant_folded"),
    )
    op.create_table(
        "company_tags",
        _company(primary_key=True),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
        _tenant(),
    )
    op.create_index("ix_company_tags_tag", "company_tags", ["tenant_id", "tag_id", "company_id"])
    op.create_table(
        "attributes",
        _id(),
        _tenant(),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_attributes_tenant_name"),
    )
    op.create_table(
        "company_attribute_values",
        _company(primary_key=True),
        sa.Column("attribute_id", sa.Integer, sa.ForeignKey("attributes.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("value", sa.String(500), primary_key=True),
        _tenant(),
    )
    op.create_index("ix_attr_values_filter", "company_attribute_values", ["tenant_id", "attribute_id", "value", "company_id"])
    op.create_table(
        "contacts",
        _id(),
        _tenant(),
        _company(),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("title", sa.String(120)),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(32)),
        sa.Column("notes", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        _created(),
    )
    op.create_index("ix_contacts_company", "contacts", ["tenant_id", "company_id"])
    op.create_table(
        "projects",
        _id(),
        _tenant(),
        _company(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id")),
        _created(),
    )
    op.create_index("ix_projects_company", "projects", ["tenant_id", "company_id", "status"])
    op.create_table(
        "agreements",
        _id(),
        _tenant(),
        _company(),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="SET NULL")),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.Column("signed_at", sa.DateTime(timezone=True)),
        _created(),
    )
    op.create_index("ix_agreements_company", "agreements", ["tenant_id", "company_id", "status"])
    op.create_table(
        "tasks",
        _id(),
        _tenant(),
        _company(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("assignee_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="SET NULL")),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        _created(),
    )
    op.create_index("ix_tasks_company", "tasks", ["tenant_id", "company_id", "done"])
    op.create_table(
        "meetings",
        _id(),
        _tenant(),
        _company(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("place", sa.String(200)),
        sa.Column("notes", sa.Text),
        sa.Column("follow_up_task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="SET NULL")),
        sa.Column("created_by", sa.Integer),
        _created(),
    )
    op.create_index("ix_meetings_company", "meetings", ["tenant_id", "company_id", "starts_at"])
    op.create_table(
        "meeting_attendees",
        _id(),
        sa.Column("meeting_id", sa.Integer, sa.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="CASCADE")),
    )
    op.create_table(
        "activities",
        _id(),
        _tenant(),
        _company(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="SET NULL")),
        sa.Column("text", sa.Text),
        _created(),
    )
    op.create_index("ix_activities_company", "activities", ["tenant_id", "company_id", "at"])
    op.create_table(
        "invoices",
        _id(),
        _tenant(),
        _company(),
        sa.Column("invoice_number", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("credited_invoice_id", sa.Integer, sa.ForeignKey("invoices.id")),
        _created(),
        sa.UniqueConstraint("tenant_id", "invoice_number", name="uq_invoices_tenant_number"),
    )
    op.create_index("ix_invoices_company", "invoices", ["tenant_id", "company_id", "issued_on"])
    op.create_table(
        "company_invoice_totals",
        _company(primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        _tenant(),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_invoice_totals_year", "company_invoice_totals", ["tenant_id", "year", "amount_minor", "company_id"])
    op.create_table(
        "saved_views",
        _id(),
        _tenant(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        _created(),
    )
    op.create_index("ix_saved_views_tenant", "saved_views", ["tenant_id", "user_id"])
    op.create_table(
        "change_log",
        _id(),
        _tenant(),
        _company(),
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.Integer),
        sa.Column("field", sa.String(80), nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
        sa.Column("user_id", sa.Integer),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_change_log_company", "change_log", ["tenant_id", "company_id", "at"])


def downgrade():
    for table in ("change_log", "saved_views", "company_invoice_totals", "invoices", "activities", "meeting_attendees",
                  "meetings", "tasks", "agreements", "projects", "contacts", "company_attribute_values", "attributes",
                  "company_tags", "tags", "company_logos", "company_addresses", "company_owners"):
        op.drop_table(table)
    for name in ("orgnr", "rel", "country", "city", "region", "industry", "dept", "parent", "created", "projects",
                 "tasks", "agreements"):
        op.drop_index(f"ix_companies_tenant_{name}", "companies")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_companies_parent", "companies", type_="foreignkey")
        op.drop_constraint("fk_companies_department", "companies", type_="foreignkey")
    for column in reversed(company_columns()):
        op.drop_column("companies", column.name)
