"""Excel and CSV reports of a selection (issue 8), built by the export service.

``exports.dialog`` is posted by the overview's bulk bar (form fields
``selection`` JSON and ``selection_count``, see gateway/selection.py) and
renders into ``#bulk-dialog``: columns (the overview's by default, in its
order), contact persons as a second sheet, XLSX or CSV. Starting swaps the
dialog for the job's progress component, ``#export-<id>``: it polls its own
URL every second while the job runs (rows done of total, time left, Cancel)
and stops when it is done (download link, and a toast), failed or cancelled.
"My exports" lists the user's exports. The download streams the file from
the export service chunk by chunk: it is never loaded whole.
"""
from __future__ import annotations

import base64
from urllib.parse import quote

from flask_babel import gettext as _, lazy_gettext as _l
from flask import Blueprint, Response, render_template, request, stream_with_context

from . import errors
from .idempotency import new_key
from .rpc import exports as rpc_exports
from .selection import parse_selection
from .web import is_htmx, login_required, render

bp = Blueprint("exports", __name__)

FORMATS = (("xlsx", _l("Excel (.xlsx)")), ("csv", _l("CSV (UTF-8, semicolons)")))
CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "csv": "text/csv; charset=utf-8"}
STATUS_LABELS = {"queued": _l("Waiting"), "running": _l("Running"), "done": _l("Ready"), "failed": _l("Failed"),
                 "cancelled": _l("Cancelled"), "expired": _l("Expired")}


def _count(raw) -> int | None:
    raw = (raw or "").replace(",", "").strip()
    return int(raw) if raw.isdigit() else None


def _dialog(raw_selection: str, count: int | None, form=None, field_errors=None, status=200, catalogue=None):
    catalogue = catalogue or rpc_exports.export_columns()
    default = catalogue.get("default") or []
    if form is not None:
        chosen = form.getlist("columns")
    else:
        chosen = list(default)
    by_key = {c["key"]: c for c in catalogue["columns"]}
    # the chosen columns first, in their order; then the others
    ordered = [by_key[k] for k in chosen if k in by_key] + [c for c in catalogue["columns"] if c["key"] not in chosen]
    context = dict(raw_selection=raw_selection, count=count, columns=ordered, chosen=set(chosen), formats=FORMATS,
                   form=form or {}, errors=field_errors or {},
                   key=(form.get("idempotency_key") if form is not None else None) or new_key())
    return render("exports/dialog.html", "exports/_dialog.html", **context), status


@bp.post("/exports/dialog")
@login_required
def dialog():
    raw = request.form.get("selection") or ""
    parse_selection(raw)  # a bad selection: a clear message (422) before anything else
    return _dialog(raw, _count(request.form.get("selection_count")))


@bp.post("/exports")
@login_required
def start():
    form = request.form
    raw = form.get("selection") or ""
    selection = parse_selection(raw)
    count = _count(form.get("selection_count"))
    columns = form.getlist("columns")
    problems = {}
    if not columns:
        problems["columns"] = _("Pick at least one column.")
    fmt = form.get("format") or "xlsx"
    if fmt not in CONTENT_TYPES:
        problems["format"] = _("Pick Excel or CSV.")
    title = (form.get("title") or "").strip() or "Companies"
    if len(title) > 100:
        problems["title"] = _("At most %(n)s characters.", n=100)
    if problems:
        return _dialog(raw, count, form, problems, 422)
    try:
        job = rpc_exports.start_export({"selection": selection, "columns": columns, "format": fmt,
                                        "contacts": form.get("contacts") == "1", "title": title,
                                        "idempotency_key": form.get("idempotency_key") or None})
    except errors.ValidationFailed as exc:
        field_errors = {}
        for field, message in exc.field_errors.items():
            message = message.split(": ", 1)[1] if message.startswith(f"{field}: ") else message
            field_errors["columns" if field.startswith("columns") else
                         ("selection" if field.startswith("selection") else field)] = message
        return _dialog(raw, count, form, field_errors or {"__root__": exc.message}, 422)
    return render_template("exports/_progress.html", job=job, labels=STATUS_LABELS, in_dialog=True)


@bp.get("/exports")
@login_required
def index():
    jobs = rpc_exports.list_exports()
    return render_template("exports/index.html", jobs=jobs, labels=STATUS_LABELS)


@bp.get("/exports/<int:export_id>")
@login_required
def progress(export_id: int):
    job = rpc_exports.get_export(export_id)
    in_dialog = request.args.get("at") == "dialog"
    if not is_htmx():
        return render_template("exports/show.html", job=job, labels=STATUS_LABELS, in_dialog=False)
    body = render_template("exports/_progress.html", job=job, labels=STATUS_LABELS, in_dialog=in_dialog)
    if request.args.get("poll") == "1" and job["status"] == "done":
        # the running component polled and found it finished: say so wherever the user is on the page
        body += render_template("exports/_ready_toast.html", job=job)
    return body


@bp.post("/exports/<int:export_id>/cancel")
@login_required
def cancel(export_id: int):
    job = rpc_exports.cancel_export(export_id)
    return render_template("exports/_progress.html", job=job, labels=STATUS_LABELS,
                           in_dialog=request.args.get("at") == "dialog")


@bp.get("/exports/<int:export_id>/download")
@login_required
def download(export_id: int):
    job = rpc_exports.get_export(export_id)
    if not job.get("downloadable") or not job.get("chunk_count"):
        raise errors.NotFound(_("This export has no file to download (not ready yet, failed, or expired)."))

    def chunks():
        for n in range(job["chunk_count"]):
            piece = rpc_exports.download_chunk(export_id, n)
            yield base64.b64decode(piece["data"])

    name = job.get("file_name") or f"export-{export_id}.{job['format']}"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Content-Length": str(job["file_size"]),
        "Cache-Control": "private, no-store",
    }
    return Response(stream_with_context(chunks()), mimetype=CONTENT_TYPES[job["format"]].split(";")[0],
                    headers=headers, direct_passthrough=True)


@bp.app_template_filter("filesize")
def filesize(n) -> str:
    if n is None:
        return ""
    n = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            from .formats import number  # the locale's decimal mark (issue 14)

            return f"{number(round(n), 0)} {_('bytes')}" if unit == "bytes" else f"{number(n, 1)} {unit}"
        n /= 1024
    return ""


@bp.app_template_filter("duration")
def duration(seconds) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"

