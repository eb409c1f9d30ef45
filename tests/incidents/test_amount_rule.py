"""One rule for impact amounts (postmortems/incidents/parts.py): the form, the API and
`flask import` refuse the same value with the same message, and whatever is stored comes back
exactly on SQLite and PostgreSQL."""

from decimal import Decimal

import pytest
from sqlalchemy import Numeric, select

from models import ImpactEstimate, ImpactKind, Role
from postmortems.incidents.parts import (
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    ImpactValues,
    save_part,
)
from postmortems.incidents.service import IncidentError
from tests.api.helpers import Api, user_with_token
from tests.conftest import field_errors
from tests.factories import make_incident, utc

DIGITS = "Write the number out in digits (12345.67)."
DECIMALS = "At most 6 digits after the point."
BAD_AMOUNTS = [
    ("0.1234567", DECIMALS),
    ("1E+30", DIGITS),
    ("1e-7", DIGITS),
    ("NaN", DIGITS),
    ("Infinity", DIGITS),
    ("-0.0000001", DECIMALS),
    ("1" * 19, "At most 18 digits before the point."),
    ("12,50", "Use a point for decimals and no thousands separators (12345.67)."),
    ("1_000", "Not a number."),
]
MONEY = {"kind": "DIRECT_COST", "low": "", "high": "", "currency": "EUR"}


@pytest.fixture
def incident(db):
    incident = make_incident("Cache poisoned", utc(2024, 3, 1, 10))
    db.commit()
    return incident


def import_file(likely: str) -> str:
    return f"""---
format: 1
key: PM-2024-009
title: Imported
started_at: '2024-01-02T03:04:05Z'
impacts:
- kind: DIRECT_COST
  currency: EUR
  likely: '{likely}'
---
"""


def run_import(runner, tmp_path, likely: str):
    folder = tmp_path / "in" / "postmortems"
    folder.mkdir(parents=True)
    (folder / "PM-2024-009.md").write_text(import_file(likely))
    return runner.invoke(args=["import", str(tmp_path / "in")])


@pytest.mark.parametrize(("typed", "message"), BAD_AMOUNTS)
def test_the_form_refuses_a_bad_amount_beside_the_field(browser, db, incident, typed, message):
    url = f"/incidents/{incident.id}/impacts/new"
    html = browser.submit(url, {**MONEY, "likely": typed}).get_data(as_text=True)
    assert field_errors(html, "likely") == [message]
    assert db.scalars(select(ImpactEstimate)).all() == []


@pytest.mark.parametrize(("typed", "message"), BAD_AMOUNTS)
def test_the_api_refuses_a_bad_amount_naming_the_field(app, db, typed, message) -> None:
    _, token = user_with_token(Role.AUTHOR)
    body = {
        "title": "Sent",
        "started_at": "2024-01-02T03:04:05Z",
        "impacts": [{"kind": "DIRECT_COST", "currency": "EUR", "likely": typed}],
    }
    response = Api(app, token).post("/api/v1/postmortems", body)
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"impacts.0.likely": [message]}
    assert db.scalars(select(ImpactEstimate)).all() == []


@pytest.mark.parametrize(("typed", "message"), BAD_AMOUNTS)
def test_flask_import_refuses_a_bad_amount_with_file_line_and_field(
    runner, db, tmp_path, typed, message
) -> None:
    result = run_import(runner, tmp_path, typed)
    assert result.exit_code == 1
    expected = f"postmortems/PM-2024-009.md:9: impact 1 likely: {message}"
    assert expected in result.output, result.output
    assert db.scalars(select(ImpactEstimate)).all() == []


def test_the_service_refuses_an_amount_the_column_cannot_hold(db, incident) -> None:
    values = ImpactValues(ImpactKind.DIRECT_COST, likely=Decimal("1E+30"), currency="EUR")
    with pytest.raises(IncidentError) as refused:
        save_part(incident, values)
    assert refused.value.fields == {"likely": ["At most 18 digits before the point."]}


def test_the_limits_are_those_of_the_column() -> None:
    column_type = ImpactEstimate.__table__.c.likely.type.impl
    assert isinstance(column_type, Numeric)
    assert column_type.scale == MAX_FRACTION_DIGITS
    assert column_type.precision - column_type.scale == MAX_INTEGER_DIGITS


@pytest.mark.parametrize("typed", ["0.123456", "999999999999999999.999999", "0.000001"])
def test_an_imported_amount_at_the_limits_comes_back_exactly(runner, db, tmp_path, typed) -> None:
    result = run_import(runner, tmp_path, typed)
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert db.scalars(select(ImpactEstimate.likely)).one() == Decimal(typed)
