"""Column types: exact decimals and UTC datetimes survive a round trip through the database."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from models import ImpactEstimate, ImpactKind, Incident
from tests.factories import make_incident


@pytest.mark.parametrize(
    "amount",
    ["12345.67", "0.000001", "999999999999999999.999999", "400000", "-3.5", "0.1"],
)
def test_amounts_come_back_exactly_as_stored(db, amount: str) -> None:
    incident = make_incident()
    incident.impacts.append(
        ImpactEstimate(kind=ImpactKind.DIRECT_COST, likely=Decimal(amount), currency="USD")
    )
    db.commit()
    db.expunge_all()
    stored = db.scalar(select(ImpactEstimate.likely))
    assert isinstance(stored, Decimal)
    assert stored == Decimal(amount)


def test_sqlite_stores_amounts_as_text_not_float(db) -> None:
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite storage detail")
    incident = make_incident()
    incident.impacts.append(
        ImpactEstimate(
            kind=ImpactKind.DIRECT_COST, likely=Decimal("12345678901234567.89"), currency="USD"
        )
    )
    db.commit()
    assert db.scalar(text("SELECT typeof(likely) FROM impact_estimate")) == "text"
    assert db.scalar(text("SELECT likely FROM impact_estimate")) == "12345678901234567.89"


def test_a_float_amount_is_refused(db) -> None:
    incident = make_incident()
    incident.impacts.append(ImpactEstimate(kind=ImpactKind.DIRECT_COST, likely=0.1, currency="USD"))
    with pytest.raises(Exception, match="Decimal"):
        db.flush()


def test_datetimes_are_stored_in_utc_and_come_back_aware(db) -> None:
    plus_three = timezone(timedelta(hours=3))
    incident = make_incident(started_at=datetime(2020, 8, 17, 12, 30, tzinfo=plus_three))
    db.commit()
    db.expunge_all()
    started = db.get(Incident, incident.id).started_at
    assert started == datetime(2020, 8, 17, 9, 30, tzinfo=UTC)
    assert started.tzinfo is UTC


def test_a_naive_datetime_is_refused(db) -> None:
    with pytest.raises(Exception, match="naive"):
        make_incident(started_at=datetime(2020, 8, 17, 9, 30))
