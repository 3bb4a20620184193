"""E-mail the selected companies and their contact persons (issue 9).

``mail.compose`` is posted by the overview's bulk bar with the form fields
``selection`` (JSON, gateway/selection.py) and ``selection_count``, and renders
the compose dialog into ``#bulk-dialog``: recipients (companies' own addresses,
active contacts, or both) with the count after deduplication and the skipped
ones by reason, a template to start from, subject and body with merge fields,
a preview for any of the first recipients, a test to yourself, and Send. Sending
creates the campaign (the mailer pages through the crm) and shows its progress;
the campaign page lists every recipient's status and retries the failed ones.

Also here: templates (per tenant), the admin-only "Outbox (dev)" page (what the
local SMTP server received) and the public unsubscribe page (no login; the signed
token in the link is the authority; RFC 8058 one-click POST too).
"""
from __future__ import annotations

import json

from flask_babel import gettext as _, lazy_gettext as _l
from flask import Blueprint, abort, redirect, render_template, request, url_for

from . import errors
from .idempotency import form_key, new_key
from .rpc import mail as rpc_mail
from .web import admin_required, csrf, is_htmx, login_required, render

bp = Blueprint("mail", __name__, url_prefix="/mail")
public = Blueprint("unsubscribe", __name__)

KINDS = (("company", _l("The companies' own e-mail")), ("contacts", _l("Their active contact persons")))
SKIP_LABELS = {"no_address": _l("no e-mail address"), "unsubscribed": _l("unsubscribed"),
               "inactive": _l("contact marked inactive"), "marketing_protection": _l("under marketing protection")}
FIELDS = (("company_name", _l("Company name")), ("first_name", _l("Contact's first name")),
          ("last_name", _l("Contact's last name")), ("sender_name", _l("Your name")), ("sender_title", _l("Your title")))
STATUSES = ("pending", "sending", "sent", "failed", "skipped")
PER_PAGE = 100


def _kinds(form) -> list[str]:
    kinds = [k for k in form.getlist("kinds") if k in dict(KINDS)]
    return kinds


def _message(form) -> dict:
    return {"subject": (form.get("subject") or "").strip(), "body": (form.get("body") or "").replace("\r\n", "\n"),
            "sender_title": (form.get("sender_title") or "").strip() or None}


def _sample(form) -> list[dict]:
    try:
        sample = json.loads(form.get("sample") or "[]")
    except ValueError:
        return []
    return [s for s in sample if isinstance(s, dict)][:50] if isinstance(sample, list) else []


def _recipient(form, sample: list[dict]) -> dict:
    raw = form.get("recipient") or "0"
    index = int(raw) if raw.isdigit() else 0
    if not sample:
        return {}
    return sample[min(index, len(sample) - 1)]


def _compose(form, raw_selection: str, audience: dict | None, kinds: list[str], field_errors=None, status=200,
             preview=None, test=None, templates=None):
    return render(
        "mail/compose.html", "mail/_compose.html", form=form, raw_selection=raw_selection, audience=audience, kinds=kinds,
        all_kinds=KINDS, skip_labels=SKIP_LABELS, fields=FIELDS, errors=field_errors or {},
        key=form.get("idempotency_key") or new_key(), preview=preview, test=test,
        templates=rpc_mail.list_templates() if templates is None else templates,
        sample_json=json.dumps((audience or {}).get("sample") or [], ensure_ascii=False, separators=(",", ":")),
        count=request.form.get("selection_count") or "",
    ), status


def parse_selection(raw: str) -> dict:
    """The bulk bar's selection field (gateway/selection.py, owned by the bulk bar)."""
    from .selection import parse_selection as parse

    return parse(raw)


def _audience(sel: dict, kinds: list[str]) -> dict | None:
    return rpc_mail.audience(sel, kinds) if kinds else None


@bp.post("/compose")
@login_required
def compose():
    """The compose dialog for the posted selection (also re-rendered when the recipients or the template change)."""
    raw = request.form.get("selection") or ""
    sel = parse_selection(raw)
    form = request.form.copy()
    kinds = _kinds(form) if form.get("kinds_given") else ["company", "contacts"]
    template_id = form.get("template_id") or ""
    if form.get("load_template") and template_id.isdigit():
        t = rpc_mail.get_template(int(template_id))
        form["subject"], form["body"] = t["subject"], t["body"]
    field_errors = {} if kinds else {"kinds": _("Choose who gets the e-mail.")}
    return _compose(form, raw, _audience(sel, kinds), kinds, field_errors)


def _validation(exc: errors.ValidationFailed) -> dict:
    out = {}
    for field, message in exc.field_errors.items():
        out[field.split(".")[0] if field.startswith("recipient") else field] = message
    return out


@bp.post("/preview")
@login_required
def preview():
    """The message as the chosen recipient will see it (into #mail-preview)."""
    sample = _sample(request.form)
    try:
        shown = rpc_mail.preview({**_message(request.form), "recipient": _recipient(request.form, sample)})
    except errors.ValidationFailed as exc:
        return render_template("mail/_preview.html", preview=None, errors=_validation(exc)), 422
    return render_template("mail/_preview.html", preview=shown, errors={})


@bp.post("/test")
@login_required
def send_test():
    """Send the message, merged for the chosen recipient, to the user's own address."""
    sample = _sample(request.form)
    try:
        sent = rpc_mail.send_test({**_message(request.form), "recipient": _recipient(request.form, sample)})
    except errors.ValidationFailed as exc:
        return render_template("mail/_test.html", sent=None, errors=_validation(exc)), 422
    return render_template("mail/_test.html", sent=sent, errors={})


@bp.post("/send")
@login_required
def send():
    """Create the campaign (idempotent per form render) and show its progress."""
    raw = request.form.get("selection") or ""
    sel = parse_selection(raw)
    form = request.form.copy()
    kinds = _kinds(form)
    message = _message(form)
    field_errors = {}
    if not kinds:
        field_errors["kinds"] = _("Choose who gets the e-mail.")
    if not message["subject"]:
        field_errors["subject"] = _("Write a subject.")
    if not message["body"].strip():
        field_errors["body"] = _("Write the message.")
    if not field_errors:
        try:
            # the unsubscribe link's words in the sender's language (the mailer writes them under every message)
            campaign = rpc_mail.create_campaign({**message, "selection": sel, "kinds": kinds,
                                                 "unsubscribe_text": _("Unsubscribe"),
                                                 "idempotency_key": form_key() or new_key()})
        except errors.ValidationFailed as exc:
            field_errors = exc.field_errors
        else:
            if is_htmx():
                return render_template("mail/_progress.html", campaign=campaign, in_dialog=True)
            return redirect(url_for("mail.campaign", campaign_id=campaign["id"]))
    if "selection" in field_errors:
        field_errors["__root__"] = field_errors.pop("selection")
    form["idempotency_key"] = new_key()
    return _compose(form, raw, _audience(sel, kinds), kinds, field_errors, 422)


# -- campaigns ----------------------------------------------------------------------
@bp.get("/campaigns")
@login_required
def campaigns():
    return render_template("mail/campaigns.html", campaigns=rpc_mail.list_campaigns())


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    found = rpc_mail.get_campaign(campaign_id)
    messages = rpc_mail.list_messages(campaign_id, {"status": status, "page": page, "per_page": PER_PAGE}
                                      if status else {"page": page, "per_page": PER_PAGE})
    return render("mail/campaign.html", "mail/_messages.html", campaign=found, messages=messages, status=status,
                  statuses=STATUSES, page=page, per_page=PER_PAGE, skip_labels=SKIP_LABELS)


@bp.get("/campaigns/<int:campaign_id>/progress")
@login_required
def progress(campaign_id: int):
    """The progress component (polls itself while the campaign sends)."""
    found = rpc_mail.get_campaign(campaign_id)
    response = render_template("mail/_progress.html", campaign=found, in_dialog=request.args.get("dialog") == "1")
    headers = {"HX-Trigger": "mail-campaign-done"} if found["status"] != "sending" else {}
    return response, 200, headers


@bp.post("/campaigns/<int:campaign_id>/retry")
@login_required
def retry(campaign_id: int):
    rpc_mail.retry_failed(campaign_id)
    if is_htmx():
        return "", 204, {"HX-Redirect": url_for("mail.campaign", campaign_id=campaign_id)}
    return redirect(url_for("mail.campaign", campaign_id=campaign_id))


# -- templates ---------------------------------------------------------------------------
def _template_form(form) -> dict:
    return {"name": (form.get("name") or "").strip(), "subject": (form.get("subject") or "").strip(),
            "body": (form.get("body") or "").replace("\r\n", "\n")}


@bp.route("/templates", methods=["GET", "POST"])
@login_required
def templates():
    form, field_errors, status = {}, {}, 200
    if request.method == "POST":
        form = _template_form(request.form)
        try:
            rpc_mail.save_template(form)
            return redirect(url_for("mail.templates"))
        except errors.ValidationFailed as exc:
            field_errors, status = exc.field_errors, 422
    return render_template("mail/templates.html", templates=rpc_mail.list_templates(), form=form, errors=field_errors,
                           fields=FIELDS, editing=None), status


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@login_required
def template(template_id: int):
    field_errors, status = {}, 200
    if request.method == "POST":
        form = _template_form(request.form)
        try:
            rpc_mail.save_template(form, template_id)
            return redirect(url_for("mail.templates"))
        except errors.ValidationFailed as exc:
            field_errors, status = exc.field_errors, 422
    else:
        form = rpc_mail.get_template(template_id)
    return render_template("mail/templates.html", templates=rpc_mail.list_templates(), form=form, errors=field_errors,
                           fields=FIELDS, editing=template_id), status


@bp.post("/templates/<int:template_id>/delete")
@login_required
def delete_template(template_id: int):
    rpc_mail.delete_template(template_id)
    return redirect(url_for("mail.templates"))


# -- development: what the local SMTP server received ---------------------------------
@bp.get("/outbox")
@admin_required
def outbox():
    to = (request.args.get("to") or "").strip()[:320] or None
    return render_template("mail/outbox.html", outbox=rpc_mail.dev_outbox(100, to), to=to or "")


# -- public: unsubscribe ------------------------------------------------------------------
def _token(token: str) -> str:
    if not 10 <= len(token) <= 1000:
        abort(404)
    return token


@public.get("/u/<token>")
def unsubscribe_page(token: str):
    """Asks before unsubscribing (a mail scanner following the link must not unsubscribe anyone)."""
    try:
        info = rpc_mail.unsubscribe_info(_token(token))
    except errors.ValidationFailed:
        return render_template("mail/unsubscribe.html", invalid=True, done=False, email=None, token=token), 400
    return render_template("mail/unsubscribe.html", invalid=False, done=False, email=info["email"], token=token)


@public.post("/u/<token>")
@csrf.exempt  # RFC 8058: the mail provider posts "List-Unsubscribe=One-Click" without our form; the token is the authority
def unsubscribe(token: str):
    try:
        done = rpc_mail.unsubscribe(_token(token))
    except errors.ValidationFailed:
        return render_template("mail/unsubscribe.html", invalid=True, done=False, email=None, token=token), 400
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 200
    return render_template("mail/unsubscribe.html", invalid=False, done=True, email=done["email"], token=token)
