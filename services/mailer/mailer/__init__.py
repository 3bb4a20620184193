"""Outgoing email over SMTP, idempotent per message key."""
