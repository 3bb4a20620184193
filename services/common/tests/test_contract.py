"""Unit tests of the shared error contract and validation (no broker, no database)."""
import pytest
from nameko.exceptions import serialize

from service_common.db import database_url, normalise_url
from service_common.errors import NotFound, ValidationError
from service_common.validation import Schema, validate


class Thing(Schema):
    name: str
    size: int = 1


def test_validation_errors_name_the_field_and_travel_over_nameko():
    with pytest.raises(ValidationError) as info:
        validate(Thing, {"name": "x", "size": "big"})
    err = info.value
    assert err.field == "size"
    wire = serialize(err)
    assert wire["exc_type"] == "ValidationError"
    assert wire["value"].startswith("size:")
    message, details = wire["exc_args"]
    assert details["field"] == "size" and details["errors"][0]["field"] == "size"


def test_unknown_fields_and_non_objects_are_refused():
    with pytest.raises(ValidationError) as info:
        validate(Thing, {"name": "x", "colour": "red"})
    assert info.value.field == "colour"
    with pytest.raises(ValidationError):
        validate(Thing, ["not", "an", "object"])


def test_other_errors_carry_message_and_details():
    wire = serialize(NotFound("No such company", id=7))
    # nameko makes scalars strings on the way out
    assert wire["exc_args"] == ["No such company", {"id": "7"}]


def test_database_url_defaults_to_sqlite_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MAILER_DATABASE_URL", raising=False)
    assert database_url("mailer", "MAILER") == f"sqlite:///{tmp_path / 'mailer.sqlite3'}"
    monkeypatch.setenv("MAILER_DATABASE_URL", "postgresql://u@h/db")
    assert database_url("mailer", "MAILER") == "postgresql://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg2://u@h/db"
