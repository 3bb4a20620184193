"""The CRM gateway: Flask app factory."""
from __future__ import annotations

from flask import Flask, redirect, url_for

from . import config as config_module
from .rpc.transport import RpcTransport


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config_module.from_env() if config is None else {**_test_defaults(), **config})

    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    app.extensions["rpc"] = app.config.get("RPC_TRANSPORT") or RpcTransport(app.config["AMQP_URI"])
    app.extensions["token_signer"] = _signer(app.config)

    from . import formats, i18n, web

    web.init_app(app)
    i18n.init_app(app)  # issue 14: the request's language and time zone (Flask-Babel)
    formats.init_app(app)
    from . import idempotency  # issue 12: a key per form render
    idempotency.init_app(app)

    from .auth import bp as auth_bp
    from .companies import bp as companies_bp
    from .card import bp as card_bp
    from .records import bp as records_bp
    from .admin import bp as admin_bp
    from .health import bp as health_bp
    from .registry import bp as registry_bp
    from .api import bp as api_bp
    from .account import bp as account_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(companies_bp)
    app.register_blueprint(card_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(registry_bp)
    from .exports import bp as exports_bp  # issue 8: Excel/CSV reports of a selection

    app.register_blueprint(exports_bp)
    from .bulk import bp as bulk_bp  # issue 7: the overview's bulk bar

    app.register_blueprint(bulk_bp)
    app.register_blueprint(api_bp)
    from .mail import bp as mail_bp, public as unsubscribe_bp  # issue 9: e-mail campaigns

    app.register_blueprint(mail_bp)
    app.register_blueprint(unsubscribe_bp)
    from .credit import bp as credit_bp  # issue 10: credit rating box, settings
    from .notifications import bp as notifications_bp  # issue 10: the bell

    app.register_blueprint(credit_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(account_bp)

    @app.get("/")
    def index():
        return redirect(url_for("companies.index"))

    return app


def _signer(config: dict):
    """The gateway's token signer (its Ed25519 key); a throw-away key in tests without one."""
    from pathlib import Path

    from service_common.auth import GATEWAY, Ed25519PrivateKey, Signer, load_private_key

    if config.get("SIGNING_KEY_FILE"):
        return Signer(GATEWAY, load_private_key(Path(config["SIGNING_KEY_FILE"])))
    return Signer(GATEWAY, Ed25519PrivateKey.generate())


def _test_defaults() -> dict:
    import secrets

    return {
        "SECRET_KEY": secrets.token_hex(16),
        "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
        "RPC_TIMEOUT": 1.8,
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_SSL_STRICT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "PAGE_SIZE": 50,
        "TIMEZONE": "Europe/Oslo",
    }
