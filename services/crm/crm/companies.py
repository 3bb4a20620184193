"""Companies: create, read, live search. Plain logic: no nameko here.

Search is prefix-and-word based over ``company_words`` (one row per folded
word of the name, plus the org number): every word the user typed must be
the start of some word of the company. Case- and accent-insensitive, so
"ostf" finds "Østfold Bygg AS". A B-tree range per typed word, on SQLite and
PostgreSQL alike.
"""
from __future__ import annotations

from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service_common import orgnr, text

from . import card, collation, counters, credit, history
from .exceptions import NotFound, ValidationError
from .models import Company, CompanyMailFlag, CompanyWord, Project
from .schemas import CompanyIn, CompanySearch, dump_company

MAX_QUERY_WORDS = 6
LIST_COLUMNS = (Company.id, Company.name, Company.org_number, Company.country, Company.city, Company.relationship, Company.created_at)


def index_words(session: Session, company: Company) -> None:
    session.execute(
        insert(CompanyWord),
        [
            {"tenant_id": company.tenant_id, "word": w, "company_id": company.id}
            for w in sorted(text.company_words(company.name, company.org_number))
        ],
    )


def check_input(raw, partial: bool = False) -> dict:
    """issue 13: what ``create`` (or, ``partial``, ``card.update``) would refuse in ``raw``, every
    field at once, without writing: the schema's errors and the phone number's (checked per country)."""
    from .schemas import CompanyChanges, check

    errors: list[dict] = []
    try:
        check(CompanyChanges if partial else CompanyIn, raw)
    except ValidationError as exc:
        errors = list(exc.errors) or [{"field": exc.field, "message": exc.message}]
    bad = {e.get("field") for e in errors}
    raw = raw if isinstance(raw, dict) else {}
    country = raw.get("country") if raw.get("country") in ("NO", "SE", "DK", "GB") else "NO"
    number = raw.get("org_number")
    if partial and isinstance(number, str) and number.strip() and "org_number" not in bad:  # as card.update checks it
        try:
            orgnr.normalise(country, number.strip())
        except ValueError as exc:
            errors.append({"field": "org_number", "message": str(exc)})
    if isinstance(raw.get("phone"), str) and raw["phone"].strip() and "phone" not in bad:
        try:
            card.phone_for(raw["phone"].strip(), country)
        except ValidationError as exc:
            errors.append({"field": "phone", "message": exc.message})
    if errors:
        first = errors[0]
        raise ValidationError(f"{first['field']}: {first['message']}", field=first["field"], errors=errors)
    return {"ok": True}


def create(session: Session, tenant_id: int, user_id: int | None, data: CompanyIn) -> dict:
    """A new company with its owners, addresses and an optional start project,
    all in one transaction. Returns the whole card."""
    card.check_department(session, tenant_id, data.department_id)
    if data.parent_id is not None:
        card.check_parent(session, tenant_id, None, data.parent_id)
    addresses = data.addresses.model_dump() if data.addresses else {}
    visiting = addresses.get("visiting") or None
    city = data.city or (visiting or {}).get("city")
    region = data.region or (visiting or {}).get("region")
    if visiting is None and (data.city or data.region):
        addresses["visiting"] = {"city": data.city, "region": data.region, "country": data.country}
    company = Company(
        tenant_id=tenant_id,
        name=data.name,
        sort_name=collation.key(data.name, collation.tenant_language(session, tenant_id)),
        org_number=data.org_number,
        country=data.country,
        city=city,
        region=region,
        relationship=data.relationship,
        created_by=user_id,
        legal_form=data.legal_form,
        industry_code=data.industry_code,
        industry_text=data.industry_text,
        industry_words=card.industry_words(data.industry_text),
        employees=data.employees,
        website=data.website,
        phone=card.phone_for(data.phone, data.country),
        email=data.email,
        parent_id=data.parent_id,
        department_id=data.department_id,
    )
    if data.invoice is not None:  # issue 13: the new-company form's invoice box
        company.invoice_type, company.invoice_email = data.invoice.type, data.invoice.email
        company.credit_days = data.invoice.credit_days
    elif data.email:  # defaults the card accepts: e-mail with PDF to the company's e-mail, else paper
        company.invoice_type, company.invoice_email = "email_pdf", data.email
    else:
        company.invoice_type = "paper"
    session.add(company)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = find_by_org_number(session, tenant_id, data.country, data.org_number)
        raise ValidationError(
            "A company with this organisation number already exists",
            field="org_number",
            existing_id=existing["id"] if existing else None,
        ) from None
    index_words(session, company)
    if data.marketing_protected:  # issue 13: the registry's reklamebeskyttet / reklamspärr, in the same transaction
        session.add(CompanyMailFlag(company_id=company.id, tenant_id=tenant_id, marketing_protected=True))
    history.created(session, tenant_id, company.id, user_id, "company", company.id, company.name)
    credit.note_identified(session, company)  # issue 10: enrolment in credit monitoring (outbox)
    if data.owner_ids:
        card.set_owners(session, company, data.owner_ids, user_id)
    for kind in card.ADDRESS_KINDS:
        if addresses.get(kind):
            card.write_address(session, company, kind, addresses[kind], user_id)
    company.city, company.region = city, region
    if data.start_project is not None:
        project = Project(tenant_id=tenant_id, company_id=company.id, name=data.start_project.name,
                          type=data.start_project.type, status=data.start_project.status, owner_id=user_id)
        session.add(project)
        session.flush()
        history.created(session, tenant_id, company.id, user_id, "project", project.id, project.name)
        counters.refresh(session, company.id)
    session.commit()
    return card.dump(session, company)


def find_by_org_number(session: Session, tenant_id: int, country: str, org_number: str | None) -> dict | None:
    if not org_number:
        return None
    company = session.scalar(
        select(Company).where(Company.tenant_id == tenant_id, Company.country == country, Company.org_number == org_number)
    )
    return dump_company(company) if company else None


def get(session: Session, tenant_id: int, company_id: int) -> dict:
    company = session.scalar(select(Company).where(Company.id == company_id, Company.tenant_id == tenant_id))
    if company is None:
        raise NotFound("No such company", id=company_id)
    return dump_company(company)


def _match_conditions(tenant_id: int, q: str) -> list:
    conditions = []
    for word in text.words(q)[:MAX_QUERY_WORDS]:
        low, high = text.prefix_range(word[:64])
        conditions.append(
            Company.id.in_(
                select(CompanyWord.company_id).where(
                    CompanyWord.tenant_id == tenant_id, CompanyWord.word >= low, CompanyWord.word < high
                )
            )
        )
    return conditions


def search(session: Session, tenant_id: int, params: CompanySearch) -> dict:
    where = and_(Company.tenant_id == tenant_id, *_match_conditions(tenant_id, params.q))
    total = session.scalar(select(func.count()).select_from(Company).where(where)) or 0
    rows = session.execute(
        select(*LIST_COLUMNS)
        .where(where)
        .order_by(Company.sort_name, Company.id)
        .limit(params.per_page)
        .offset((params.page - 1) * params.per_page)
    ).mappings()
    items = [{**row, "created_at": row["created_at"].isoformat() if row["created_at"] else None} for row in rows]
    return {"items": items, "total": total, "page": params.page, "per_page": params.per_page, "q": params.q}


def find_by_org_numbers(session: Session, tenant_id: int, data) -> list[dict]:
    """Which of these registry companies the tenant already has (one query)."""
    wanted = {}
    for ref in data.refs:
        try:
            wanted[(ref.country, orgnr.normalise(ref.country, ref.org_number))] = ref
        except ValueError:
            continue
    if not wanted:
        return []
    rows = session.execute(
        select(Company.id, Company.name, Company.country, Company.org_number).where(
            Company.tenant_id == tenant_id, Company.org_number.in_({org for _, org in wanted})
        )
    )
    return [
        {"country": r.country, "org_number": r.org_number, "id": r.id, "name": r.name}
        for r in rows
        if (r.country, r.org_number) in wanted
    ]
