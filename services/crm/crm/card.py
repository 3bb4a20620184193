"""The company card: read it whole, change its boxes (company fields, owners,
invoice settings, addresses, logo, tags, attributes). Plain logic.

Every change is logged field by field (:mod:`crm.history`) in the same
transaction, and every method returns the whole card, like ``get_company``.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import date

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service_common import images, orgnr, text

from . import checks, collation, history, util
from .exceptions import NotFound, ValidationError
from .models import (Attribute, Company, CompanyAddress, CompanyAttributeValue, CompanyInvoiceTotal, CompanyLogo,
                     CompanyMailFlag, CompanyOwner, CompanyTag, CompanyWord, Department, Tag, User)
from .schemas import AddressesIn, AddressIn, AttributeIn, CompanyChanges, CopyAddressIn, InvoiceSettingsIn, LogoIn

ADDRESS_KINDS = ("visiting", "postal", "billing")
ADDRESS_FIELDS = ("street", "postcode", "city", "region", "country")
MAX_LOGO = 1024 * 1024


# -- reading -------------------------------------------------------------
def _address(row: CompanyAddress | None) -> dict:
    return {f: getattr(row, f) if row else None for f in ADDRESS_FIELDS}


def attribute_value(attr_type: str, values: list[str]):
    if not values:
        return [] if attr_type == "multi" else None
    if attr_type == "bool":
        return values[0] == "true"
    if attr_type == "stars":
        return int(values[0])
    if attr_type == "multi":
        return sorted(values)
    return values[0]


def dump_attribute(a: Attribute) -> dict:
    return {"id": a.id, "name": a.name, "type": a.type, "options": json.loads(a.options or "[]")}


def get(session: Session, tenant_id: int, company_id: int) -> dict:
    c = util.company(session, tenant_id, company_id)
    return dump(session, c)


def _credit_dump(c: Company) -> dict | None:
    from . import credit  # issue 10

    return credit.dump(c)


def dump(session: Session, c: Company) -> dict:
    tenant_id = c.tenant_id
    parent = None
    if c.parent_id:
        row = session.execute(select(Company.id, Company.name).where(Company.id == c.parent_id)).first()
        parent = {"id": row.id, "name": row.name} if row else None
    children = [
        {"id": r.id, "name": r.name, "city": r.city}
        for r in session.execute(
            select(Company.id, Company.name, Company.city)
            .where(Company.tenant_id == tenant_id, Company.parent_id == c.id)
            .order_by(Company.sort_name, Company.id).limit(200)
        )
    ]
    owners = [
        {"id": r.id, "name": r.name}
        for r in session.execute(
            select(User.id, User.name).join(CompanyOwner, CompanyOwner.user_id == User.id)
            .where(CompanyOwner.company_id == c.id).order_by(User.name, User.id)
        )
    ]
    department = None
    if c.department_id:
        row = session.execute(select(Department.id, Department.name).where(Department.id == c.department_id)).first()
        department = {"id": row.id, "name": row.name} if row else None
    addresses = {r.kind: r for r in session.scalars(select(CompanyAddress).where(CompanyAddress.company_id == c.id))}
    tags = list(session.scalars(
        select(Tag.name).join(CompanyTag, CompanyTag.tag_id == Tag.id).where(CompanyTag.company_id == c.id).order_by(Tag.folded)
    ))
    values: dict[int, list[str]] = {}
    for attr_id, value in session.execute(
        select(CompanyAttributeValue.attribute_id, CompanyAttributeValue.value).where(CompanyAttributeValue.company_id == c.id)
    ):
        values.setdefault(attr_id, []).append(value)
    attributes = [
        {**dump_attribute(a), "value": attribute_value(a.type, values.get(a.id, []))}
        for a in session.scalars(select(Attribute).where(Attribute.tenant_id == tenant_id).order_by(Attribute.name))
    ]
    invoiced = session.scalar(
        select(CompanyInvoiceTotal.amount_minor).where(CompanyInvoiceTotal.company_id == c.id,
                                                       CompanyInvoiceTotal.year == date.today().year)
    )
    return {
        "id": c.id,
        "name": c.name,
        "org_number": c.org_number,
        "country": c.country,
        "legal_form": c.legal_form,
        "industry_code": c.industry_code,
        "industry_text": c.industry_text,
        "employees": c.employees,
        "website": c.website,
        "phone": c.phone,
        "email": c.email,
        "relationship": c.relationship,
        "city": c.city,
        "region": c.region,
        "parent": parent,
        "children": children,
        "owners": owners,
        "department": department,
        "invoice": {"type": c.invoice_type, "email": c.invoice_email, "credit_days": c.credit_days},
        "addresses": {k: _address(addresses.get(k)) for k in ADDRESS_KINDS},
        "logo_version": c.logo_version,
        "tags": tags,
        "attributes": attributes,
        "counts": {
            "active_projects": c.active_projects,
            "unresolved_tasks": c.unresolved_tasks,
            "unsigned_agreements": c.unsigned_agreements,
            "invoiced_this_year": util.money(invoiced),
        },
        "currency": util.currency(session, tenant_id),
        "credit": _credit_dump(c),  # issue 10: last known rating (crm columns)
        # issue 13: the registry's reklamebeskyttet / reklamspärr (company_mail_flags; the mailer skips these)
        "marketing_protected": bool(session.scalar(select(CompanyMailFlag.marketing_protected)
                                                   .where(CompanyMailFlag.company_id == c.id))),
        "created_at": util.iso(c.created_at),
        "updated_at": util.iso(c.updated_at),
    }


# -- shared by create and update -------------------------------------------
def industry_words(industry_text: str | None) -> str | None:
    return f" {' '.join(text.words(industry_text))} " if industry_text else None


def reindex_words(session: Session, c: Company) -> None:
    session.execute(delete(CompanyWord).where(CompanyWord.company_id == c.id))
    session.execute(insert(CompanyWord), [
        {"tenant_id": c.tenant_id, "word": w, "company_id": c.id}
        for w in sorted(text.company_words(c.name, c.org_number))
    ])


def check_department(session: Session, tenant_id: int, department_id: int | None) -> None:
    if department_id is not None and session.scalar(
        select(Department.id).where(Department.id == department_id, Department.tenant_id == tenant_id)
    ) is None:
        raise ValidationError("No such department", field="department_id")


def check_parent(session: Session, tenant_id: int, company_id: int | None, parent_id: int | None) -> None:
    seen = set()
    current = parent_id
    while current is not None:
        if current == company_id or current in seen:
            raise ValidationError("A company cannot be its own parent", field="parent_id")
        seen.add(current)
        row = session.execute(select(Company.parent_id).where(Company.id == current, Company.tenant_id == tenant_id)).first()
        if row is None:
            raise ValidationError("No such parent company", field="parent_id")
        current = row.parent_id


PHONE_EXAMPLES = {"NO": ("Norwegian", "+47 22 33 44 55"), "SE": ("Swedish", "+46 8 123 456 78"),
                  "DK": ("Danish", "+45 33 12 34 56"), "GB": ("UK", "+44 20 7946 0958")}


def phone_message(value: str, country: str | None) -> str:
    """Why a phone number was refused, in the product's words (issue 13: not "not a phone number")."""
    adjective, example = PHONE_EXAMPLES.get(country or "NO", ("", "+47 22 33 44 55"))
    if sum(ch.isdigit() for ch in value) < 3:
        return f"Enter a phone number with digits, for example {example}."
    return (f"This is not a valid {adjective + ' ' if adjective else ''}phone number. Check the digits, or write "
            f"it with its country code, for example {example}.")


def phone_for(value: str | None, country: str, field: str = "phone") -> str | None:
    if value is None:
        return None
    try:
        return checks.phone(value, country)
    except ValueError:
        raise ValidationError(phone_message(value, country), field=field) from None


def set_owners(session: Session, c: Company, user_ids, user_id: int | None) -> None:
    new = util.users(session, c.tenant_id, user_ids, "owner_ids")
    old = session.execute(
        select(User.id, User.name).join(CompanyOwner, CompanyOwner.user_id == User.id).where(CompanyOwner.company_id == c.id)
    ).all()
    if {u.id for u in new} == {r.id for r in old}:
        return
    session.execute(delete(CompanyOwner).where(CompanyOwner.company_id == c.id))
    if new:
        session.execute(insert(CompanyOwner), [{"company_id": c.id, "user_id": u.id, "tenant_id": c.tenant_id} for u in new])
    history.log(session, c.tenant_id, c.id, user_id, "company", c.id, "owners",
                sorted(r.name for r in old) or None, sorted(u.name for u in new) or None)


def write_address(session: Session, c: Company, kind: str, addr: AddressIn | dict, user_id: int | None) -> None:
    values = addr.model_dump() if isinstance(addr, AddressIn) else dict(addr)
    row = session.get(CompanyAddress, (c.id, kind))
    if row is None:
        row = CompanyAddress(company_id=c.id, kind=kind, tenant_id=c.tenant_id)
        session.add(row)
        for f in ADDRESS_FIELDS:
            setattr(row, f, None)
    for f in ADDRESS_FIELDS:
        if getattr(row, f) != values.get(f):
            history.log(session, c.tenant_id, c.id, user_id, "address", c.id, f"{kind}.{f}", getattr(row, f), values.get(f))
            setattr(row, f, values.get(f))
    if kind == "visiting":  # the overview's location is the visiting address
        c.city = values.get("city")
        c.region = values.get("region")


# -- update ----------------------------------------------------------------
SIMPLE = ("name", "legal_form", "industry_code", "industry_text", "employees", "website", "email", "relationship")


def update(session: Session, tenant_id: int, user_id: int | None, company_id: int, data: CompanyChanges) -> dict:
    c = util.company(session, tenant_id, company_id, lock=True)
    given = data.model_fields_set
    changes = {f: getattr(data, f) for f in SIMPLE if f in given}
    country = data.country if "country" in given else c.country
    if "country" in given:
        changes["country"] = country
    if "org_number" in given or ("country" in given and c.org_number):
        raw = data.org_number if "org_number" in given else c.org_number
        try:
            changes["org_number"] = orgnr.normalise(country, raw) if raw else None
        except ValueError as exc:
            raise ValidationError(str(exc), field="org_number") from None
    if "phone" in given or ("country" in given and c.phone):
        changes["phone"] = phone_for(data.phone if "phone" in given else c.phone, country)
    if "parent_id" in given:
        check_parent(session, tenant_id, c.id, data.parent_id)
        changes["parent_id"] = data.parent_id
    if "department_id" in given:
        check_department(session, tenant_id, data.department_id)
        changes["department_id"] = data.department_id
    changed = history.apply(session, c, changes, tenant_id, c.id, user_id, "company")
    if "org_number" in changed or ("country" in changed and c.org_number):
        from . import credit  # issue 10: a (new) number -> enrolment in credit monitoring (outbox)

        credit.note_identified(session, c)
    if "name" in changed:
        c.sort_name = collation.key(c.name, collation.tenant_language(session, tenant_id))
    if "industry_text" in changed:
        c.industry_words = industry_words(c.industry_text)
    if "owner_ids" in given:
        set_owners(session, c, data.owner_ids or [], user_id)
    try:
        session.flush()
        if "name" in changed or "org_number" in changed:
            reindex_words(session, c)
        if changed:
            c.updated_at = util.now()
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationError("A company with this organisation number already exists", field="org_number") from None
    return dump(session, c)


def update_invoice_settings(session: Session, tenant_id: int, user_id: int | None, company_id: int,
                            data: InvoiceSettingsIn) -> dict:
    c = util.company(session, tenant_id, company_id)
    for field, new in (("type", data.type), ("email", data.email), ("credit_days", data.credit_days)):
        column = {"type": "invoice_type", "email": "invoice_email", "credit_days": "credit_days"}[field]
        if history.log(session, tenant_id, c.id, user_id, "invoice_settings", c.id, field, getattr(c, column), new):
            setattr(c, column, new)
    session.commit()
    return dump(session, c)


def update_addresses(session: Session, tenant_id: int, user_id: int | None, company_id: int, data: AddressesIn) -> dict:
    c = util.company(session, tenant_id, company_id)
    for kind in ADDRESS_KINDS:
        if kind in data.model_fields_set and getattr(data, kind) is not None:
            write_address(session, c, kind, getattr(data, kind), user_id)
    session.commit()
    return dump(session, c)


def copy_address(session: Session, tenant_id: int, user_id: int | None, company_id: int, data: CopyAddressIn) -> dict:
    c = util.company(session, tenant_id, company_id)
    source = session.get(CompanyAddress, (c.id, data.from_))
    write_address(session, c, data.to, _address(source), user_id)
    session.commit()
    return dump(session, c)


# -- logo --------------------------------------------------------------------
def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def set_logo(session: Session, tenant_id: int, user_id: int | None, company_id: int, data: LogoIn) -> dict:
    c = util.company(session, tenant_id, company_id)
    try:
        raw = base64.b64decode(data.data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The logo is not valid base64", field="data") from None
    found = _sniff(raw)
    if found is not None and found != data.content_type:
        raise ValidationError(f"The file is a {found} image, not {data.content_type}", field="content_type")
    try:  # decoded with size limits and re-encoded: nothing but the pixels is stored (issue 11)
        found, raw = images.process_logo(raw)
    except images.ImageRejected as exc:
        raise ValidationError(str(exc), field="data") from None
    logo = session.get(CompanyLogo, c.id)
    version = (c.logo_version or 0) + 1
    if logo is None:
        session.add(CompanyLogo(company_id=c.id, tenant_id=tenant_id, content_type=found, data=raw, version=version))
    else:
        logo.content_type, logo.data, logo.version, logo.updated_at = found, raw, version, util.now()
    history.log(session, tenant_id, c.id, user_id, "company", c.id, "logo", c.logo_version, version)
    c.logo_version = version
    session.commit()
    return {"logo_version": version}


def get_logo(session: Session, tenant_id: int, company_id: int) -> dict:
    logo = session.scalar(select(CompanyLogo).where(CompanyLogo.company_id == company_id, CompanyLogo.tenant_id == tenant_id))
    if logo is None:
        raise NotFound("This company has no logo", id=company_id)
    return {"content_type": logo.content_type, "data": base64.b64encode(logo.data).decode(), "version": logo.version}


def delete_logo(session: Session, tenant_id: int, user_id: int | None, company_id: int) -> dict:
    c = util.company(session, tenant_id, company_id)
    session.execute(delete(CompanyLogo).where(CompanyLogo.company_id == c.id))
    history.log(session, tenant_id, c.id, user_id, "company", c.id, "logo", c.logo_version, None)
    c.logo_version = None
    session.commit()
    return {"logo_version": None}


# -- tags ----------------------------------------------------------------------
def list_tags(session: Session, tenant_id: int, prefix: str, limit: int) -> list[str]:
    stmt = select(Tag.name).where(Tag.tenant_id == tenant_id)
    if prefix:
        stmt = stmt.where(Tag.folded.startswith(prefix.casefold(), autoescape=True))
    return list(session.scalars(stmt.order_by(Tag.folded).limit(limit)))


def tag_ids(session: Session, tenant_id: int, names: list[str]) -> list[int]:
    """Ids of the tenant's tags with these names, creating the missing ones."""
    ids = []
    for name in names:
        folded = name.casefold()
        found = session.scalar(select(Tag.id).where(Tag.tenant_id == tenant_id, Tag.folded == folded))
        if found is None:
            try:
                with session.begin_nested():
                    tag = Tag(tenant_id=tenant_id, name=name, folded=folded)
                    session.add(tag)
                found = tag.id
            except IntegrityError:  # created meanwhile by someone else
                found = session.scalar(select(Tag.id).where(Tag.tenant_id == tenant_id, Tag.folded == folded))
        ids.append(found)
    return ids


def set_tags(session: Session, tenant_id: int, user_id: int | None, company_id: int, names: list[str]) -> dict:
    c = util.company(session, tenant_id, company_id)
    old = sorted(session.scalars(
        select(Tag.name).join(CompanyTag, CompanyTag.tag_id == Tag.id).where(CompanyTag.company_id == c.id)
    ), key=str.casefold)
    ids = tag_ids(session, tenant_id, names)
    session.execute(delete(CompanyTag).where(CompanyTag.company_id == c.id))
    if ids:
        session.execute(insert(CompanyTag), [{"company_id": c.id, "tag_id": i, "tenant_id": tenant_id} for i in set(ids)])
    history.log(session, tenant_id, c.id, user_id, "company", c.id, "tags", old or None,
                sorted(names, key=str.casefold) or None)
    session.commit()
    return dump(session, c)


# -- attributes ------------------------------------------------------------------
def list_attributes(session: Session, tenant_id: int) -> list[dict]:
    return [dump_attribute(a) for a in session.scalars(
        select(Attribute).where(Attribute.tenant_id == tenant_id).order_by(Attribute.name))]


def create_attribute(session: Session, tenant_id: int, data: AttributeIn) -> dict:
    attr = Attribute(tenant_id=tenant_id, name=data.name, type=data.type, options=json.dumps(data.options))
    session.add(attr)
    util.commit_unique(session, "An attribute with this name already exists", "name")
    return dump_attribute(attr)


def attribute_rows(attr: Attribute, value) -> list[str]:
    """The stored values for ``value``, validated against the attribute's type."""
    if value is None:
        return []
    options = json.loads(attr.options or "[]")
    kind = attr.type
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValidationError("Give true or false", field="value")
        return ["true" if value else "false"]
    if kind == "stars":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationError("Give 1 to 5 stars", field="value")
        return [str(value)]
    if kind == "text":
        if not isinstance(value, str) or len(value.strip()) > 500:
            raise ValidationError("Give a text of at most 500 characters", field="value")
        return [value.strip()] if value.strip() else []
    if kind == "dropdown":
        if value not in options:
            raise ValidationError("Pick one of the options", field="value")
        return [value]
    if not isinstance(value, list) or any(v not in options for v in value):
        raise ValidationError("Pick options from the list", field="value")
    return sorted(set(value))


def get_attribute(session: Session, tenant_id: int, attribute_id: int) -> Attribute:
    attr = session.scalar(select(Attribute).where(Attribute.id == attribute_id, Attribute.tenant_id == tenant_id))
    if attr is None:
        raise NotFound("No such attribute", id=attribute_id)
    return attr


def set_attribute_value(session: Session, tenant_id: int, user_id: int | None, company_id: int, attribute_id: int,
                        value) -> dict:
    c = util.company(session, tenant_id, company_id)
    attr = get_attribute(session, tenant_id, attribute_id)
    rows = attribute_rows(attr, value)
    old = sorted(session.scalars(select(CompanyAttributeValue.value).where(
        CompanyAttributeValue.company_id == c.id, CompanyAttributeValue.attribute_id == attr.id)))
    if old != rows:
        session.execute(delete(CompanyAttributeValue).where(
            CompanyAttributeValue.company_id == c.id, CompanyAttributeValue.attribute_id == attr.id))
        if rows:
            session.execute(insert(CompanyAttributeValue), [
                {"company_id": c.id, "attribute_id": attr.id, "value": v, "tenant_id": tenant_id} for v in rows])
        history.log(session, tenant_id, c.id, user_id, "attribute", attr.id, attr.name, old or None, rows or None)
    session.commit()
    return dump(session, c)


def count_companies(session: Session, tenant_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Company).where(Company.tenant_id == tenant_id)) or 0
