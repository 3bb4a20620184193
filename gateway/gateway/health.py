"""GET /healthz: each service's status and round-trip time; 503 when any is down."""
from flask import Blueprint, jsonify

from . import rpc
from .web import csrf

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@csrf.exempt
def healthz():
    services = rpc.health_all()
    ok = all(s["status"] == "ok" for s in services.values())
    return jsonify({"status": "ok" if ok else "degraded", "services": services}), (200 if ok else 503)
