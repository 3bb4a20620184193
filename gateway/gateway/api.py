"""API clients: admins create them (the secret is shown once), programs
exchange their secret for a short-lived caller token at ``POST /api/token``
and then call the services' RPC API with it (README, "Calling the RPC API")."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask import Blueprint, jsonify, render_template, request

from . import errors, tokens
from .rpc import api_clients as rpc
from .web import admin_required, csrf

bp = Blueprint("api", __name__)
SCOPES = [("companies:read", _l("Read companies and everything on their cards")),
          ("companies:write", _l("Create and change companies and their records"))]
TOKEN_TTL = 900


@bp.route("/admin/api-clients", methods=["GET", "POST"])
@admin_required
def clients():
    form, field_errors, status, created = {}, {}, 200, None
    if request.method == "POST":
        form = {"name": (request.form.get("name") or "").strip(), "scopes": request.form.getlist("scopes")}
        if not form["name"]:
            field_errors["name"] = _("Give the client a name, for example the program or team that uses it.")
        if not form["scopes"]:
            field_errors["scopes"] = _("Tick at least one right.")
        if not field_errors:
            try:
                created = rpc.create_api_client(form["name"], form["scopes"])
                form = {}
            except errors.ValidationFailed as exc:
                field_errors, status = exc.field_errors, 422
        else:
            status = 422
    return render_template("admin/api_clients.html", clients=rpc.list_api_clients(), scopes=SCOPES, form=form,
                           errors=field_errors, created=created), status


@bp.post("/admin/api-clients/<int(max=2147483647):client_id>/revoke")
@admin_required
def revoke(client_id: int):
    rpc.revoke_api_client(client_id)
    return render_template("admin/api_clients.html", clients=rpc.list_api_clients(), scopes=SCOPES, form={},
                           errors={}, created=None)


@bp.post("/api/token")
@csrf.exempt  # a program's request with its secret, not a browser form
def token():
    """OAuth2-style client credentials: form or JSON ``client_id`` + ``client_secret``
    -> ``{"access_token", "token_type": "Bearer", "expires_in"}``."""
    data = request.get_json(silent=True) if request.is_json else request.form
    data = data or {}
    client_id, secret = str(data.get("client_id") or ""), str(data.get("client_secret") or "")
    if not client_id.isdigit() or not secret or len(client_id) > 10 or len(secret) > 200:
        return jsonify(error="invalid_request", error_description="Send client_id and client_secret"), 400
    try:
        client = rpc.verify_api_client(int(client_id), secret)
    except (errors.Unauthenticated, errors.ValidationFailed):
        return jsonify(error="invalid_client", error_description="Unknown API client or wrong secret"), 401
    access = tokens.for_api_client(client, ttl=TOKEN_TTL)
    response = jsonify(access_token=access, token_type="Bearer", expires_in=TOKEN_TTL, scope=" ".join(client["scopes"]))
    response.headers["Cache-Control"] = "no-store"
    return response
