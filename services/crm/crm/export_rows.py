"""Rows of a selection for a report (the export service pages through them).
Plain logic.

``export_rows`` returns one page of the selected companies in id order, by
keyset (``id > after_id``), so a reader can page through 100,000 companies in
bounded memory and resume after a crash from the last id it wrote. Values are
typed: numbers as numbers, amounts in minor units (the reply names the
currency), dates as ISO strings, booleans as booleans, everything else text.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from . import selection
from .exceptions import ValidationError
from .models import (Attribute, Company, CompanyAddress, CompanyAttributeValue, CompanyInvoiceTotal, CompanyOwner,
                     CompanyTag, Contact, Department, Tag, User)
from .schemas import ExportRowsIn
from . import util

C = Company
RELATIONSHIP_LABELS = {"prospect": "Prospect", "customer": "Customer", "suspect": "Suspect", "supplier": "Supplier",
                       "partner": "Partner", "former_customer": "Former customer"}
INVOICE_TYPE_LABELS = {"email_link": "E-mail with link", "email_pdf": "E-mail with PDF", "paper": "Paper"}

# key -> (title, type). Types: text, int, money (minor units), date (ISO), bool.
COLUMNS: dict[str, tuple[str, str]] = {
    "name": ("Name", "text"),
    "org_number": ("Org. number", "text"),
    "city": ("City", "text"),
    "country": ("Country", "text"),
    "relationship": ("Relationship", "text"),
    "owners": ("Owners", "text"),
    "active_projects": ("Active projects", "int"),
    "unresolved_tasks": ("Unresolved tasks", "int"),
    "unsigned_agreements": ("Unsigned agreements", "int"),
    "invoiced_this_year": ("Invoiced this year", "money"),
    "region": ("Region", "text"),
    "department": ("Department", "text"),
    "tags": ("Tags", "text"),
    "legal_form": ("Legal form", "text"),
    "industry_code": ("Industry code", "text"),
    "industry_text": ("Industry", "text"),
    "employees": ("Employees", "int"),
    "website": ("Website", "text"),
    "phone": ("Phone", "text"),
    "email": ("E-mail", "text"),
    "visiting_address": ("Visiting address", "text"),
    "postal_address": ("Postal address", "text"),
    "billing_address": ("Billing address", "text"),
    "invoice_type": ("Invoice type", "text"),
    "invoice_email": ("Invoice e-mail", "text"),
    "credit_days": ("Credit days", "int"),
    "created_at": ("Created", "date"),
    "credit_band": ("Credit rating", "text"),  # issue 10: the credit monitor's band (A..E) and score
    "credit_score": ("Credit score", "int"),
}
# The overview's columns, in its order.
DEFAULT_COLUMNS = ["name", "org_number", "city", "country", "relationship", "owners", "active_projects",
                   "unresolved_tasks", "unsigned_agreements", "invoiced_this_year"]
CONTACT_COLUMNS = [
    {"key": "company_id", "title": "Company id", "type": "int"},
    {"key": "company", "title": "Company", "type": "text"},
    {"key": "first_name", "title": "First name", "type": "text"},
    {"key": "last_name", "title": "Last name", "type": "text"},
    {"key": "title", "title": "Title", "type": "text"},
    {"key": "email", "title": "E-mail", "type": "text"},
    {"key": "phone", "title": "Phone", "type": "text"},
]
_PLAIN = {"name", "org_number", "city", "country", "region", "legal_form", "industry_code", "industry_text", "employees",
          "website", "phone", "email", "invoice_email", "credit_days", "active_projects", "unresolved_tasks",
          "unsigned_agreements", "credit_band", "credit_score"}
_ATTR_TYPES = {"stars": "int", "bool": "bool"}


def catalogue(session: Session, tenant_id: int) -> dict:
    """Every column a report can have: the fixed ones and the tenant's attributes."""
    cols = [{"key": k, "title": t, "type": ty, "default": k in DEFAULT_COLUMNS} for k, (t, ty) in COLUMNS.items()]
    for a in session.scalars(select(Attribute).where(Attribute.tenant_id == tenant_id).order_by(Attribute.name)):
        cols.append({"key": f"attr.{a.id}", "title": a.name, "type": _ATTR_TYPES.get(a.type, "text"), "default": False})
    return {"columns": cols, "default": DEFAULT_COLUMNS}


def _resolve_columns(session: Session, tenant_id: int, keys: list[str]) -> tuple[list[dict], dict[int, Attribute]]:
    attrs: dict[int, Attribute] = {}
    wanted = []
    for i, key in enumerate(keys):
        if key.startswith("attr."):
            try:
                wanted.append(int(key[5:]))
            except ValueError:
                raise ValidationError("Unknown column", field=f"columns.{i}") from None
        elif key not in COLUMNS:
            raise ValidationError("Unknown column", field=f"columns.{i}")
    if wanted:
        attrs = {a.id: a for a in session.scalars(
            select(Attribute).where(Attribute.tenant_id == tenant_id, Attribute.id.in_(wanted)))}
    out = []
    for i, key in enumerate(keys):
        if key.startswith("attr."):
            a = attrs.get(int(key[5:]))
            if a is None:
                raise ValidationError("Unknown column", field=f"columns.{i}")
            out.append({"key": key, "title": a.name, "type": _ATTR_TYPES.get(a.type, "text")})
        else:
            title, type_ = COLUMNS[key]
            out.append({"key": key, "title": title, "type": type_})
    return out, attrs


def _address(a: CompanyAddress | None) -> str | None:
    if a is None:
        return None
    town = " ".join(p for p in (a.postcode, a.city) if p)
    text = ", ".join(p for p in (a.street, town, a.region, a.country) if p)
    return text or None


def export_rows(session: Session, tenant_id: int, user_id: int | None, req: ExportRowsIn) -> dict:
    columns, attrs = _resolve_columns(session, tenant_id, req.columns)
    keys = [c["key"] for c in columns]
    wanted = set(keys)
    conds = selection.conditions(session, tenant_id, user_id, req.selection)
    ids = list(session.scalars(select(C.id).where(*conds, C.id > (req.after_id or 0)).order_by(C.id).limit(req.limit + 1)))
    more = len(ids) > req.limit
    ids = ids[: req.limit]
    reply: dict = {"columns": columns, "rows": [], "last_id": ids[-1] if ids else None, "more": more,
                   "currency": util.currency(session, tenant_id)}
    if not req.after_id:
        reply["total"] = selection.count(session, tenant_id, user_id, req.selection)
    if req.contacts:
        reply["contact_columns"] = CONTACT_COLUMNS
        reply["contacts"] = []
    if not ids:
        return reply

    total_ = aliased(CompanyInvoiceTotal)
    year = date.today().year
    # only the columns the report needs, as rows (not whole ORM objects: 100,000 of them are most of the cost)
    needed = {"id"} | (wanted & _PLAIN) | ({"name"} if req.contacts else set()) | (
        wanted & {"relationship", "invoice_type", "created_at"}) | ({"department_id"} if "department" in wanted else set())
    companies = {c.id: c for c in session.execute(select(*(getattr(C, k) for k in sorted(needed))).where(C.id.in_(ids)))}
    amounts: dict[int, int] = {}
    if "invoiced_this_year" in wanted:
        amounts = dict(session.execute(select(total_.company_id, total_.amount_minor).where(
            and_(total_.company_id.in_(ids), total_.year == year))).all())
    owners: dict[int, list[str]] = {}
    if "owners" in wanted:
        for cid, name in session.execute(
                select(CompanyOwner.company_id, User.name).join(User, User.id == CompanyOwner.user_id)
                .where(CompanyOwner.company_id.in_(ids)).order_by(User.name, User.id)):
            owners.setdefault(cid, []).append(name)
    tags: dict[int, list[str]] = {}
    if "tags" in wanted:
        for cid, name in session.execute(
                select(CompanyTag.company_id, Tag.name).join(Tag, Tag.id == CompanyTag.tag_id)
                .where(CompanyTag.company_id.in_(ids)).order_by(Tag.folded)):
            tags.setdefault(cid, []).append(name)
    departments: dict[int, str] = {}
    if "department" in wanted:
        departments = dict(session.execute(select(Department.id, Department.name)
                                           .where(Department.tenant_id == tenant_id)).all())
    addresses: dict[tuple[int, str], CompanyAddress] = {}
    if wanted & {"visiting_address", "postal_address", "billing_address"}:
        addresses = {(a.company_id, a.kind): a for a in session.scalars(
            select(CompanyAddress).where(CompanyAddress.company_id.in_(ids)))}
    values: dict[tuple[int, int], list[str]] = {}
    if attrs:
        for cid, aid, value in session.execute(
                select(CompanyAttributeValue.company_id, CompanyAttributeValue.attribute_id, CompanyAttributeValue.value)
                .where(CompanyAttributeValue.company_id.in_(ids), CompanyAttributeValue.attribute_id.in_(list(attrs)))
                .order_by(CompanyAttributeValue.value)):
            values.setdefault((cid, aid), []).append(value)

    def cell(c, key: str):
        if key in _PLAIN:
            return getattr(c, key)
        if key == "relationship":
            return RELATIONSHIP_LABELS.get(c.relationship, c.relationship)
        if key == "owners":
            return ", ".join(owners.get(c.id, [])) or None
        if key == "tags":
            return ", ".join(tags.get(c.id, [])) or None
        if key == "department":
            return departments.get(c.department_id) if c.department_id else None
        if key == "invoiced_this_year":
            return int(amounts.get(c.id) or 0)
        if key == "invoice_type":
            return INVOICE_TYPE_LABELS.get(c.invoice_type, c.invoice_type)
        if key == "created_at":
            return util.aware(c.created_at).date().isoformat() if c.created_at else None
        if key.endswith("_address"):
            return _address(addresses.get((c.id, key[: -len("_address")])))
        a = attrs[int(key[5:])]
        got = values.get((c.id, a.id), [])
        if not got:
            return None
        if a.type == "bool":
            return got[0] == "true"
        if a.type == "stars":
            return int(got[0])
        if a.type == "multi":
            order = {o: i for i, o in enumerate(json.loads(a.options or "[]"))}
            return ", ".join(sorted(got, key=lambda v: order.get(v, len(order))))
        return got[0]

    reply["rows"] = [[cid, *(cell(companies[cid], k) for k in keys)] for cid in ids if cid in companies]
    if req.contacts:
        reply["contacts"] = [
            [ct.company_id, companies[ct.company_id].name, ct.first_name, ct.last_name, ct.title, ct.email, ct.phone]
            for ct in session.scalars(select(Contact).where(Contact.tenant_id == tenant_id, Contact.company_id.in_(ids),
                                                            Contact.active.is_(True))
                                      .order_by(Contact.company_id, Contact.last_name, Contact.first_name, Contact.id))
        ]
    return reply
