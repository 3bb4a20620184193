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


# -- text the services write themselves (issue 14): built here from their codes and parameters ----------
# English keeps the service's own sentence (it is the same text, and other clients read it); the other
# languages word the codes; anything without a code (or with one we do not know) stays as the service wrote it.
ADDRESSES = {"visiting": _l("visiting address"), "postal": _l("postal address"), "billing": _l("billing address")}
COMPANY_LIKE = ("company", "address", "invoice_settings", "credit")
# a bulk edit logs under its own name; its fields are these or an attribute's name (which stays)
BULK = {"bulk edit": _l("bulk edit"), "bulk undo": _l("bulk undo")}
BULK_FIELDS = {"tags added": _l("tags added"), "tags removed": _l("tags removed"), "relationship": _l("relationship")}
RISKS = {"Very Low Risk": _l("Very low risk"), "Low Risk": _l("Low risk"), "Moderate Risk": _l("Moderate risk"),
         "High Risk": _l("High risk"), "Not Rated": _l("Not rated")}
CREDIT_STATUS = {
    "pending": _l("Waiting to be enrolled in Creditsafe monitoring"),
    "active": _l("Monitored by Creditsafe"),
    "unknown": _l("Creditsafe does not know this organisation number"),
    "stopped": _l("Monitoring stopped"),
    "disabled": _l("Credit monitoring is switched off for your organisation"),
    "none": _l("Not monitored (no organisation number in Norway, Sweden, Denmark or the UK)"),
}


def _english() -> bool:
    from .i18n import language

    return language() == "en"


def _label(entity: str | None, field: str | None) -> str:
    """``billing.country`` -> "billing address country"; an attribute's name as it is."""
    field = field or ""
    if entity in BULK:
        return str(BULK_FIELDS[field]) if field in BULK_FIELDS else field
    if entity == "attribute":
        return field
    if "." in field:
        kind, _dot, part = field.partition(".")
        return f"{ADDRESSES[kind] if kind in ADDRESSES else kind} {field_text(None, part, part.replace('_', ' '))}"
    return field_text(entity, field, field.replace("_", " "))


def value_text(value) -> str:
    """A logged value (ISO dates, ``true``/``false``) in the user's language."""
    from flask_babel import gettext

    from .formats import date_text, datetime_text

    if value is None or value == "":
        return "—"
    if value in ("true", "false"):
        return gettext("yes") if value == "true" else gettext("no")
    text = str(value)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
        try:
            from datetime import date

            date.fromisoformat(text[:10])
        except ValueError:
            return text
        return datetime_text(text) if len(text) > 10 and text[10] == "T" else date_text(text)
    return text


def _value(change: dict, key: str) -> str:
    """One side of a logged change; a relationship by its word, anything else by :func:`value_text`."""
    value = change.get(key)
    if change.get("field") == "relationship" and change.get("entity") != "attribute" and value:
        from .companies import RELATIONSHIPS

        word = dict(RELATIONSHIPS).get(value)
        if word is not None:
            return str(word)
    return value_text(value)


def history_value(h: dict, key: str) -> str:
    """A ``company_history`` row's old or new value: the crm's English words in English, else ours."""
    if _english():
        return h.get(f"{key}_text") or (h.get(key) if h.get(key) is not None else "—")
    return _value({"entity": h.get("entity"), "field": h.get("field"), key: h.get(key)}, key)


def _listed(words: list[str]) -> str:
    from babel.lists import format_list
    from flask_babel import get_locale

    return format_list(words, locale=get_locale() or "en_GB") if words else ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def timeline_title(t: dict) -> str:
    """A timeline entry's title in the user's language."""
    from flask_babel import gettext

    code, params, kind = t.get("code"), t.get("params") or {}, t.get("kind")
    if _english() or not code:
        return t.get("title") or ""
    try:
        if code == "company_created":
            return gettext("Company created")
        if code == "fields_changed":
            entity = params.get("entity") or "company"
            labels = list(dict.fromkeys(_label(c.get("entity"), c.get("field")) for c in params.get("changes") or []))
            said = _listed(labels)
            if entity in COMPANY_LIKE:
                return _capital(gettext("changed %(fields)s", fields=said))
            if entity in ENTITIES:
                return gettext("%(entity)s: changed %(fields)s", entity=entity_text(entity), fields=said)
            name = str(BULK[entity]) if entity in BULK else entity
            return _capital(gettext("changed %(fields)s (%(name)s)", fields=said, name=name))
        if kind == "activity":
            from .records import ACTIVITY_KINDS

            word = dict(ACTIVITY_KINDS).get(params.get("activity_kind"))
            return str(word) if word is not None else t.get("title") or ""
        if kind == "invoice" and params.get("number"):
            if params.get("invoice_kind") == "invoice":
                return gettext("Invoice %(number)s", number=params["number"])
            return gettext("Credit note %(number)s", number=params["number"])
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return t.get("title") or ""


def timeline_detail(t: dict) -> str | None:
    """A timeline entry's detail in the user's language (user-typed text stays as written)."""
    from flask_babel import gettext

    from .formats import date_text, money

    code, params, kind = t.get("code"), t.get("params") or {}, t.get("kind")
    if _english() or not code:
        return t.get("detail")
    try:
        if code == "company_created":
            return params.get("name") or t.get("detail")
        if code == "fields_changed":
            return "; ".join(f"{_capital(_label(c.get('entity'), c.get('field')))}: {_value(c, 'old')} → "
                             f"{_value(c, 'new')}" for c in params.get("changes") or []) or t.get("detail")
        if code == "email_sent":
            text = gettext("E-mail to %(to)s: %(subject)s", to=params.get("to") or "",
                           subject=params.get("subject") or "").strip()
            if params.get("campaign_id"):
                text += " " + gettext("(campaign #%(id)s)", id=params["campaign_id"])
            return text
        if kind == "task" and "done" in params:
            if params.get("done"):
                return gettext("done")
            return gettext("due %(date)s", date=date_text(params["due_date"])) if params.get("due_date") else None
        if kind == "project" and params.get("status"):
            from .records import PROJECT_STATUSES

            word = dict(PROJECT_STATUSES).get(params["status"])
            return str(word) if word is not None else t.get("detail")
        if kind == "agreement" and params.get("status"):
            from .records import AGREEMENT_STATUSES

            word = dict(AGREEMENT_STATUSES).get(params["status"])
            return str(word) if word is not None else t.get("detail")
        if kind == "invoice" and params.get("amount") is not None:
            return money(params["amount"], params.get("currency"), decimals=True)
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return t.get("detail")


def bulk_summary(op: dict) -> str:
    """A bulk edit's summary ("Add tags: VIP, Oslo") in the user's language."""
    from flask_babel import gettext

    kind, params = op.get("kind"), op.get("summary_params")
    if _english() or not isinstance(params, dict):
        return op.get("summary") or ""
    try:
        if kind == "add_tags":
            return gettext("Add tags: %(tags)s", tags=", ".join(params["tags"]))
        if kind == "remove_tags":
            return gettext("Remove tags: %(tags)s", tags=", ".join(params["tags"]))
        if kind == "set_attributes":
            cleared = gettext("(cleared)")
            parts = [f"{a['name']} = {', '.join(a['values']) if a['values'] else cleared}" for a in params["attributes"]]
            return gettext("Set attributes: %(attributes)s", attributes="; ".join(parts))
        if kind == "set_relationship":
            from .companies import RELATIONSHIPS

            code = params["relationship"]
            word = dict(RELATIONSHIPS).get(code)
            return gettext("Change relationship to %(relationship)s",
                           relationship=str(word).lower() if word is not None else code.replace("_", " "))
        if kind == "undo":
            return gettext("Undo of bulk edit #%(id)s", id=params["operation_id"])
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return op.get("summary") or ""


def notification_title(n: dict) -> str:
    from flask_babel import gettext

    params = n.get("params")
    if _english() or not isinstance(params, dict):
        return n.get("title") or ""
    if n.get("kind") == "credit_rating" and {"company", "old", "new"} <= set(params):
        return gettext("Credit rating of %(company)s: %(old)s → %(new)s", **params)
    return n.get("title") or ""


def risk_text(text: str | None) -> str | None:
    """Creditsafe's common risk descriptions (and the credit monitor's, by band) in the user's language;
    any other description stays as Creditsafe wrote it."""
    word = RISKS.get(text or "")
    return str(word) if word is not None and not _english() else text


def credit_status_text(c: dict) -> str:
    word = CREDIT_STATUS.get(c.get("status") or "")
    return str(word) if word is not None and not _english() else (c.get("status_text") or "")


def init_app(app) -> None:
    app.jinja_env.globals.update(entity_text=entity_text, field_text=field_text, timeline_title=timeline_title,
                                 timeline_detail=timeline_detail, bulk_summary=bulk_summary,
                                 notification_title=notification_title, risk_text=risk_text,
                                 credit_status_text=credit_status_text, history_value=history_value)
