"""A coworker's notifications (issue 10): the bell in the header with the
unread count, and the list (newest first, mark read, mark all read), each
entry linking to its company.

The bell (``#bell``) loads itself and refreshes every 20 s and whenever a
response sends ``HX-Trigger: notificationsChanged``.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from . import errors
from .rpc import notifications as rpc
from .web import is_htmx, login_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
CHANGED = {"HX-Trigger": "notificationsChanged"}


@bp.get("/bell")
@login_required
def bell():
    try:
        unread = rpc.count_unread_notifications()
    except errors.ServiceUnavailable:
        unread = None  # the bell stays quiet rather than failing the page
    return render_template("notifications/_bell.html", unread=unread)


@bp.get("")
@login_required
def index():
    before = request.args.get("before", "")
    unread_only = request.args.get("unread") == "1"
    query = {"limit": 30, "unread_only": unread_only}
    if before.isdigit():
        query["before_id"] = int(before)
    result = rpc.list_notifications(query)
    template = "notifications/_list.html" if is_htmx() else "notifications/index.html"
    body = render_template(template, result=result, unread_only=unread_only)
    return body, 200, {"Vary": "HX-Request"}


@bp.post("/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    item = rpc.mark_notification_read(notification_id)
    if not is_htmx():
        return redirect(url_for("notifications.index"))
    return render_template("notifications/_item.html", n=item), 200, CHANGED


@bp.post("/read-all")
@login_required
def mark_all_read():
    rpc.mark_all_notifications_read()
    if not is_htmx():
        return redirect(url_for("notifications.index"))
    result = rpc.list_notifications({"limit": 30})
    return render_template("notifications/_list.html", result=result, unread_only=False), 200, CHANGED
