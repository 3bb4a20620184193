"""Credit rating on the card and the admin's credit-monitoring settings (issue 10).

The card's credit box is one component (``#box-credit``): the card page shows
the crm's last known rating at once and the box loads itself from the credit
monitor (``hx-trigger="load"``), so a slow or absent Creditsafe never slows the
card. "Check now" first asks (a report may cost), then orders it. When the
credit monitor or Creditsafe cannot answer, the box keeps the last known
rating with its date and says "could not update".
"""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask import Blueprint, render_template, request

from . import errors, rpc
from .rpc import credit as credit_rpc
from .web import admin_required, login_required

bp = Blueprint("credit", __name__)

CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 320, 110, 30, 8, 8, 20
BANDS = [("A", 71, 100, _l("Very low risk")), ("B", 51, 70, _l("Low risk")), ("C", 30, 50, _l("Moderate risk")),
         ("D", 21, 29, _l("High risk")), ("E", 1, 20, _l("Very high risk / not rated"))]


def chart(history: list[dict]) -> dict | None:
    """The score over time as SVG coordinates (server-rendered; no script, no inline style)."""
    points = [h for h in history if h.get("score") is not None and h.get("rated_at")]
    if not points:
        return None
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    n = len(points)

    def y(score):
        return round(PAD_T + inner_h * (1 - max(0, min(100, score)) / 100), 1)

    out = []
    for i, h in enumerate(points):
        x = round(PAD_L + (inner_w * i / (n - 1) if n > 1 else inner_w / 2), 1)
        out.append({"x": x, "y": y(h["score"]), "score": h["score"], "band": h.get("band"), "at": h["rated_at"]})
    bands = [{"band": b, "y": y(hi), "h": round(y(lo - 1) - y(hi), 1), "label": label} for b, lo, hi, label in BANDS]
    return {"w": CHART_W, "h": CHART_H, "left": PAD_L, "right": CHART_W - PAD_R, "bottom": CHART_H - PAD_B,
            "points": out, "line": " ".join(f"{p['x']},{p['y']}" for p in out), "bands": bands,
            "ticks": [{"v": v, "y": y(v)} for v in (0, 50, 100)], "first": out[0]["at"], "last": out[-1]["at"]}


def _box(company_id: int, credit: dict | None, *, known: dict | None = None, problem: str | None = None,
         confirm: bool = False, status: int = 200):
    body = render_template("credit/_box.html", company_id=company_id, credit=credit, known=known, problem=problem,
                           confirm=confirm, chart=chart((credit or {}).get("history") or []))
    return body, status


def _last_known(company_id: int) -> dict | None:
    """The crm's copy of the rating, when the credit monitor cannot answer."""
    try:
        return rpc.get_company(company_id).get("credit")
    except errors.GatewayError:
        return None


@bp.get("/companies/<int:company_id>/credit")
@login_required
def box(company_id: int):
    try:
        return _box(company_id, credit_rpc.get_company_credit(company_id))
    except (errors.ServiceUnavailable, errors.RemoteError) as exc:
        return _box(company_id, None, known=_last_known(company_id), problem=exc.message)


@bp.get("/companies/<int:company_id>/credit/check")
@login_required
def confirm_check(company_id: int):
    """The "it may cost" question before a report is ordered."""
    try:
        return _box(company_id, credit_rpc.get_company_credit(company_id), confirm=True)
    except (errors.ServiceUnavailable, errors.RemoteError) as exc:
        return _box(company_id, None, known=_last_known(company_id), problem=exc.message)


def _action(company_id: int, call):
    try:
        credit = call(company_id)
    except (errors.ServiceUnavailable, errors.RemoteError) as exc:
        return _box(company_id, None, known=_last_known(company_id), problem=exc.message)
    except (errors.ValidationFailed, errors.NotFound) as exc:
        return _box(company_id, _current(company_id), problem=exc.message, status=422)
    return _box(company_id, credit)


def _current(company_id: int) -> dict | None:
    try:
        return credit_rpc.get_company_credit(company_id)
    except errors.GatewayError:
        return None


@bp.post("/companies/<int:company_id>/credit/check")
@login_required
def check(company_id: int):
    return _action(company_id, credit_rpc.check_now)


@bp.post("/companies/<int:company_id>/credit/stop")
@login_required
def stop(company_id: int):
    return _action(company_id, credit_rpc.stop_monitoring)


@bp.post("/companies/<int:company_id>/credit/start")
@login_required
def start(company_id: int):
    return _action(company_id, credit_rpc.start_monitoring)


# -- admin settings --------------------------------------------------------------------
@bp.route("/admin/credit", methods=["GET", "POST"])
@admin_required
def settings():
    field_errors, status, saved, queued = {}, 200, False, None
    form = {}
    if request.method == "POST":
        if request.form.get("action") == "enrol":
            queued = credit_rpc.enrol_existing_companies()["queued"]
        else:
            form = {"enabled": request.form.get("enabled") == "on",
                    "username": (request.form.get("username") or "").strip()}
            payload = {"enabled": form["enabled"]}
            password = request.form.get("password") or ""
            if form["username"] or password:
                payload["username"] = form["username"] or None
                if password:
                    payload["password"] = password
            elif request.form.get("clear") == "on":
                payload["username"] = None
            try:
                credit_rpc.update_credit_settings(payload)
                saved = True
            except errors.ValidationFailed as exc:
                field_errors, status = exc.field_errors, 422
    current = credit_rpc.get_credit_settings()
    return render_template("credit/settings.html", settings=current, form=form, errors=field_errors, saved=saved,
                           queued=queued), status
