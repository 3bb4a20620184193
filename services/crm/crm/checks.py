"""Checks of contact details: e-mail addresses (email-validator, no DNS look-up)
and phone numbers (phonenumbers, the company's country as the default region,
stored in E.164). They raise ValueError with a user-facing reason."""
from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address ({exc})") from None


def phone(value: str, country: str | None) -> str:
    try:
        number = phonenumbers.parse(value, country or "NO")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number for {country or 'NO'} (add the country code, e.g. +47)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
