"""Jinja filters: money, numbers, dates and times for people, formatted by Babel in the
request's locale (gateway/i18n.py) and the tenant's time zone. The filter names
(money, d, dt, dt_input, minutes, num) are what the templates use."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, get_currency_symbol
from flask_babel import get_locale, get_timezone, gettext

NBSP = "\u00a0"
# Babel does not apply CLDR's currency spacing: "NOK1,250" -> "NOK 1,250" (a letter symbol next to a digit)
_LETTER_DIGIT = re.compile(r"([A-Za-z])(\d)")
_DIGIT_LETTER = re.compile(r"(\d)([A-Za-z])")


def _locale():
    return get_locale() or "en_GB"


def money(amount, currency: str | None = None, decimals: bool = False) -> str:
    """'1250000.00', 'NOK' -> '1 250 000 kr' (nb), 'NOK 1,250,000' (en); cents only when asked or not whole."""
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    whole = value == value.to_integral_value()
    locale = _locale()
    if not currency:
        return format_decimal(value, format=None if (decimals or not whole) else "#,##0", locale=locale)
    cents = decimals or not whole
    shape = _money_shape(str(locale), currency.upper(), cents)
    if shape is None:
        return _babel_money(value, currency.upper(), locale, cents)
    return _apply_shape(shape, value, cents)


def _babel_money(value: Decimal, currency: str, locale, cents: bool) -> str:
    """Babel's CLDR currency format of the locale (whole amounts without the decimals)."""
    from babel import Locale

    locale = Locale.parse(locale) if isinstance(locale, str) else locale
    pattern = locale.currency_formats["standard"].pattern
    if not cents:
        pattern = pattern.replace(".00", "")
    text = format_currency(value, currency, format=pattern, locale=locale, currency_digits=False)
    symbol = get_currency_symbol(currency, locale=locale)
    if symbol.isalpha():
        text = _DIGIT_LETTER.sub(r"\1" + NBSP + r"\2", _LETTER_DIGIT.sub(r"\1" + NBSP + r"\2", text))
    return text


@lru_cache(maxsize=512)
def _money_shape(locale: str, currency: str, cents: bool) -> tuple | None:
    """What Babel writes around and between the digits for this locale and currency, learned once from a
    probe amount (a list page formats 50 amounts: Babel's pattern engine per cell was most of its time).
    Checked against Babel on a few amounts; None (always ask Babel) where the shape does not reproduce it."""
    probe = Decimal("1234567.89") if cents else Decimal("1234567")
    shape = []
    for sign in (1, -1):
        text = _babel_money(probe * sign, currency, locale, cents)
        first, last = text.find("1"), text.rfind("89" if cents else "7")
        if first < 0 or last < 0:
            return None
        end = last + 2 if cents else last + 1
        shape.append((text[:first], text[end:]))
    text = _babel_money(probe, currency, locale, cents)
    digits = text[text.find("1"):]
    group = digits[1:digits.find("234")]
    decimal_sep = digits[digits.find("567") + 3:digits.find("89")] if cents else ""
    result = (shape[0], shape[1], group, decimal_sep)
    for sample in ("0", "7", "1234", "-1234", "999999", "-5", "1000000", "12345678.5", "0.5", "-0.25", "100.1"):
        value = Decimal(sample)
        if not cents and value != value.to_integral_value():
            continue
        if _apply_shape(result, value, cents) != _babel_money(value, currency, locale, cents):
            return None
    return result


def _apply_shape(shape: tuple, value: Decimal, cents: bool) -> str:
    (pos_prefix, pos_suffix), (neg_prefix, neg_suffix), group, decimal_sep = shape
    digits = f"{abs(value):,.2f}" if cents else f"{abs(value):,.0f}"
    digits = digits.replace(",", "\x00").replace(".", decimal_sep).replace("\x00", group)
    negative = value < 0 and digits.strip("0" + group + decimal_sep) != ""
    return f"{neg_prefix}{digits}{neg_suffix}" if negative else f"{pos_prefix}{digits}{pos_suffix}"


def number(value, decimals: int | None = None) -> str:
    """12345.5 -> '12 345,5' (nb) / '12,345.5' (en)."""
    if value is None or value == "":
        return "—"
    try:
        value = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    fmt = None if decimals is None else ("#,##0" + ("." + "0" * decimals if decimals else ""))
    return format_decimal(value, format=fmt, locale=_locale())


def _parse_dt(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def local_dt(value, tz=None) -> datetime | None:
    dt = _parse_dt(value)
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(tz or get_timezone())


def datetime_text(value, tz=None) -> str:
    """'2026-12-01T09:00:00Z' -> '1 Dec 2026 10:00' (en), '1. des. 2026 10:00' (nb), in the tenant's zone."""
    dt = local_dt(value, tz)
    if dt is None:
        return str(value) if value else "—"
    locale = _locale()
    return f"{format_date(dt.date(), 'medium', locale=locale)} {format_time(dt.time(), 'HH:mm', locale=locale)}"


def date_text(value) -> str:
    if not value:
        return "—"
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return format_date(d, "medium", locale=_locale())


def date_short(value) -> str:
    """The locale's numeric date ('01.12.2026' nb, '01/12/2026' en): what a date field accepts."""
    if not value:
        return ""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return format_date(d, "short", locale=_locale())


def datetime_input(value, tz=None) -> str:
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
    parts = [gettext("%(n)s h", n=h) if h else "", gettext("%(n)s min", n=m) if m else ""]
    return " ".join(p for p in parts if p) or gettext("%(n)s min", n=0)


def init_app(app) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["num"] = number
    app.jinja_env.filters["dt"] = datetime_text
    app.jinja_env.filters["d"] = date_text
    app.jinja_env.filters["d_short"] = date_short
    app.jinja_env.filters["dt_input"] = datetime_input
    app.jinja_env.filters["minutes"] = minutes
    from .errors import say  # a service's message in the user's language, where known (issue 14)

    app.jinja_env.filters["say"] = say
    # option lists for the form macros: [(value, text), ...]
    app.jinja_env.filters["zip_with"] = lambda values, texts: list(zip(values, texts))
    app.jinja_env.filters["zip_pairs"] = lambda values: [(v, v) for v in values or []]
