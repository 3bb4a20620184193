"""The crm's history in the user's language (issue 14): the crm sends each change with its entity and
field codes as well as English labels; the gateway words the codes it knows and keeps the crm's text
for the rest (attribute names, sub-fields)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ENTITIES = {"company": _l("Company"), "address": _l("Address"), "invoice_settings": _l("Invoice"),
            "contact": _l("Contact"), "project": _l("Project"), "agreement": _l("Agreement"), "task": _l("Task"),
            "meeting": _l("Meeting"), "attribute": _l("Attribute"), "activity": _l("Activity")}
FIELDS = {
    "created": _l("created"), "name": _l("name"), "org_number": _l("organisation number"), "country": _l("country"),
    "legal_form": _l("legal form"), "industry_code": _l("industry code"), "industry_text": _l("industry"),
    "employees": _l("employees"), "website": _l("website"), "phone": _l("phone"), "email": _l("e-mail"),
    "relationship": _l("relationship"), "city": _l("city"), "region": _l("region"), "parent_id": _l("parent company"),
    "department_id": _l("department"), "owners": _l("owners"), "tags": _l("tags"), "logo": _l("logo"),
    "type": _l("type"), "credit_days": _l("credit days"), "invoice_type": _l("invoice type"),
    "invoice_email": _l("invoice e-mail"), "first_name": _l("first name"), "last_name": _l("last name"),
    "title": _l("title"), "notes": _l("notes"), "active": _l("active"), "status": _l("status"),
    "start_date": _l("start date"), "end_date": _l("end date"), "owner_id": _l("owner"), "kind": _l("kind"),
    "valid_from": _l("valid from"), "valid_to": _l("valid to"), "signed_at": _l("signed"), "project_id": _l("project"),
    "rating": _l("credit rating"), "due_date": _l("due date"), "assignee_id": _l("assignee"),
    "priority": _l("priority"), "contact_id": _l("contact"), "done": _l("done"), "done_at": _l("done at"),
    "street": _l("street"), "postcode": _l("postcode"), "starts_at": _l("start"),
    "duration_minutes": _l("duration (minutes)"), "place": _l("place"), "users": _l("coworkers"),
    "contacts": _l("contact persons"), "at": _l("time"), "user_id": _l("coworker"), "text": _l("text"),
}


def entity_text(entity: str | None, fallback: str | None = None) -> str:
    word = ENTITIES.get(entity or "")
    return str(word) if word is not None else (fallback or entity or "")


def field_text(entity: str | None, field: str | None, fallback: str | None = None) -> str:
    """A plain field (not an attribute's name, not ``billing.country``) in the user's language."""
    word = FIELDS.get(field or "") if entity != "attribute" else None
    return str(word) if word is not None else (fallback or field or "")


def init_app(app) -> None:
    app.jinja_env.globals.update(entity_text=entity_text, field_text=field_text)
