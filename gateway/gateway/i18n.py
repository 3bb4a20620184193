"""Languages (issue 14): which language and time zone a request speaks, with Flask-Babel.

The language is the user's own setting (account page, stored by the crm), else the tenant's
default, else the browser's Accept-Language, else English. The catalogs live in
``gateway/translations/<lang>/LC_MESSAGES/messages.po`` (extracted with ``pybabel extract``,
compiled to ``.mo`` by ``make install``; see the README's "How to add a language").

English formats as ``en_GB`` (day month year, 24-hour clock: the UK is one of our markets);
the other languages format as themselves (``nb``: ``1 250 000 kr``, ``1. des. 2026``).
"""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale, lazy_gettext

# code -> the language's own name (shown in the account page's select, never translated)
LANGUAGES = {"en": "English", "nb": "Norsk bokmål", "sv": "Svenska", "da": "Dansk"}
DEFAULT = "en"
# the Babel locale a language formats (and looks up its catalog) as
FORMAT_LOCALE = {"en": "en_GB", "nb": "nb_NO", "sv": "sv_SE", "da": "da_DK"}
# Accept-Language tags that mean one of ours ("no" and "nn" read Bokmål best)
_ALIASES = {"no": "nb", "nn": "nb"}

babel = Babel()


def language() -> str:
    """The request's language code (en, nb, sv, da)."""
    cached = g.get("_language") if _in_request() else None
    if cached:
        return cached
    code = _choose()
    if _in_request():
        g._language = code
    return code


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _choose() -> str:
    if not _in_request():
        return DEFAULT
    user, tenant = g.get("user") or {}, g.get("tenant") or {}
    for code in (user.get("language"), tenant.get("language")):
        if code in LANGUAGES:
            return code
    best = request.accept_languages.best_match(list(LANGUAGES) + list(_ALIASES))
    return _ALIASES.get(best, best) or DEFAULT


def select_locale() -> str:
    return FORMAT_LOCALE[language()]


def select_timezone() -> str:
    tenant = (g.get("tenant") or {}) if _in_request() else {}
    return tenant.get("timezone") or current_app.config.get("TIMEZONE", "Europe/Oslo")


def forget() -> None:
    """After the user changed their language: choose again on the next look-up."""
    g.pop("_language", None)
    from flask_babel import refresh

    refresh()


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    from . import words  # the crm's history words, by code

    words.init_app(app)

    @app.context_processor
    def languages():
        return {"html_lang": language(), "languages": LANGUAGES}


__all__ = ["LANGUAGES", "language", "get_locale", "lazy_gettext", "init_app", "forget"]
