"""Reading and checking submitted forms. Every check here is repeated by the
service; the gateway checks first so the user gets inline errors at once and
nothing they typed is lost. Plain logic over a MultiDict."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

MIN_YEAR, MAX_YEAR = 1900, 2199  # as the crm schemas bound dates
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def parse_date(value: str) -> date | None:
    """ISO (what <input type=date> sends) or the locale's own way ('1.12.2026' nb, '01/12/2026' en)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    from babel.dates import parse_date as babel_parse
    from flask_babel import get_locale

    try:
        return babel_parse(value, locale=get_locale() or "en_GB", format="short")
    except (ValueError, IndexError, LookupError):
        return None


def date_example() -> str:
    from .formats import date_short

    return date_short(date(2026, 12, 31))


class Form:
    """Collects cleaned values and field errors from one submitted form."""

    def __init__(self, source):
        self.source = source
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> str:
        value = (self.source.get(name) or "").strip()
        if "\x00" in value:  # never meant, and refused by the services: say so at the field
            self.error(name, _("Remove the invisible NUL character from this field."))
            value = value.replace("\x00", "")
        return value

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, *, required: bool = False, max_len: int = 200, label: str | None = None):
        value = self.raw(name)
        if required and not value:
            self.error(name, _("%(label)s is required.", label=label) if label else _("This field is required."))
        elif len(value) > max_len:
            self.error(name, _("At most %(n)s characters.", n=max_len))
        return value or None

    def choice(self, name: str, allowed, *, required: bool = True, default=None):
        value = self.raw(name) or default
        if value is None or value == "":
            if required:
                self.error(name, _("Choose one."))
            return None
        if value not in allowed:
            self.error(name, _("Choose one of the options."))
            return None
        return value

    def integer(self, name: str, *, min_value: int | None = None, max_value: int | None = None, required: bool = False):
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("Enter a number."))
            return None
        if not re.fullmatch(r"-?\d{1,12}", value):
            self.error(name, _("Enter a whole number."))
            return None
        n = int(value)
        if min_value is not None and n < min_value or max_value is not None and n > max_value:
            self.error(name, _("Enter a number from %(min)s to %(max)s.", min=min_value, max=max_value)
                       if max_value is not None else _("Enter a number of at least %(min)s.", min=min_value))
            return None
        return n

    def ids(self, name: str) -> list[int]:
        return [int(v) for v in self.source.getlist(name) if str(v).isdigit()]

    def email(self, name: str, *, required: bool = False):
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("An e-mail address is required."))
            return None
        if len(value) > 254 or not EMAIL.match(value):
            self.error(name, _("Enter a valid e-mail address, like name@example.com."))
        return value

    def url(self, name: str):
        value = self.raw(name)
        if not value:
            return None
        if not re.match(r"^https?://", value, re.I):
            value = "https://" + value
        if len(value) > 300 or not re.match(r"^https?://[^\s/$.?#][^\s<>\"]*$", value, re.I):
            self.error(name, _("Enter a web address, like www.example.com."))
        return value

    def date(self, name: str, *, required: bool = False):
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("Choose a date."))
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.error(name, _("Enter a date as %(example)s.", example=date_example()))
            return None
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:  # the crm's bounds (issue 11): said here, where it was typed
            self.error(name, _("Enter a date between the years %(min)s and %(max)s.", min=MIN_YEAR, max=MAX_YEAR))
            return None
        return parsed.isoformat()

    def datetime(self, name: str, tz: str, *, required: bool = False):
        """<input type=datetime-local> in the tenant's time zone -> ISO 8601 with offset."""
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("Choose a date and time."))
            return None
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            self.error(name, _("Enter a date and time."))
            return None
        if not MIN_YEAR <= dt.year <= MAX_YEAR:
            self.error(name, _("Enter a date between the years %(min)s and %(max)s.", min=MIN_YEAR, max=MAX_YEAR))
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=ZoneInfo(tz))
        return dt.isoformat(timespec="minutes")

    def flag(self, name: str) -> bool:
        return self.raw(name) in ("1", "on", "true", "yes")

    @property
    def ok(self) -> bool:
        return not self.errors


def multidict(record: dict | None = None, **extra):
    """A record's values as a MultiDict of strings, the shape a submitted form has,
    so one template renders both a fresh form and a re-rendered one."""
    from werkzeug.datastructures import MultiDict

    out = MultiDict()
    for key, value in {**(record or {}), **extra}.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            for item in value:
                out.add(key, str(item["id"]) if isinstance(item, dict) and "id" in item else str(item))
        elif isinstance(value, bool):
            out.add(key, "1" if value else "")
        elif isinstance(value, dict):
            if "id" in value:
                out.add(key, str(value["id"]))
        else:
            out.add(key, str(value))
    return out
