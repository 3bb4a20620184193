"""Jinja filters: money, dates and times for people. Plain logic plus registration."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

NBSP = "\u00a0"
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money(amount, currency: str | None = None, decimals: bool = False) -> str:
    """'12500.00', 'NOK' -> '12 500 NOK'; GBP -> '£12,500'. Cents only when asked (or not whole)."""
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    whole = value == value.to_integral_value()
    text = f"{value:,.2f}" if (decimals or not whole) else f"{value:,.0f}"
    currency = (currency or "").upper()
    if currency in SYMBOLS:
        sign = "-" if text.startswith("-") else ""
        return f"{sign}{SYMBOLS[currency]}{text.lstrip('-')}"
    # Nordic style: thin grouping, comma decimals, code after
    text = text.replace(",", NBSP).replace(".", ",")
    return f"{text}{NBSP}{currency}" if currency else text


def _parse_dt(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def local_dt(value, tz: str) -> datetime | None:
    dt = _parse_dt(value)
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(ZoneInfo(tz))


def datetime_text(value, tz: str = "Europe/Oslo") -> str:
    dt = local_dt(value, tz)
    return dt.strftime("%-d %b %Y %H:%M") if dt else (str(value) if value else "—")


def date_text(value) -> str:
    if not value:
        return "—"
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return d.strftime("%-d %b %Y")


def datetime_input(value, tz: str = "Europe/Oslo") -> str:
    """The value for <input type=datetime-local>."""
    dt = local_dt(value, tz)
    return dt.strftime("%Y-%m-%dT%H:%M") if dt else (value or "")


def minutes(value) -> str:
    """90 -> '1 h 30 min'."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return ""
    h, m = divmod(n, 60)
    return " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m else "") if p) or "0 min"


def init_app(app) -> None:
    tz = lambda: app.config.get("TIMEZONE", "Europe/Oslo")  # noqa: E731
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["dt"] = lambda v: datetime_text(v, tz())
    app.jinja_env.filters["d"] = date_text
    app.jinja_env.filters["dt_input"] = lambda v: datetime_input(v, tz())
    app.jinja_env.filters["minutes"] = minutes
    # option lists for the form macros: [(value, text), ...]
    app.jinja_env.filters["zip_with"] = lambda values, texts: list(zip(values, texts))
    app.jinja_env.filters["zip_pairs"] = lambda values: [(v, v) for v in values or []]
