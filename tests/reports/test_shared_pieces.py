"""Month pieces stored in the database (reports/piece_store.py) are shared by every worker and
instance: two apps on one database, as two gunicorn workers or two machines are."""

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import func, select

from models import CauseCategory, FigurePiece, ImpactKind, IncidentFactor, Role
from postmortems.db import session
from postmortems.reports import piece_store
from postmortems.reports.figures import FactorCount
from postmortems.reports.month_piece import (
    OPEN,
    UNKNOWN_DAYS,
    ItemDays,
    Piece,
    RangeTotal,
    from_text,
    to_text,
)
from tests.api.helpers import Api, user_with_token
from tests.conftest import Browser, admin_client, new_app
from tests.factories import factor_named, make_guard, make_incident, utc
from tests.reports.test_spans import statements

TREND = "/reports/trends.json?from=2024-01-01&to=2024-12-31"


@pytest.fixture
def incidents(db) -> list[Any]:
    made = [
        make_incident("March", started_at=utc(2024, 3, 5, 10), resolved_at=utc(2024, 3, 5, 12)),
        make_incident("August", started_at=utc(2024, 8, 5, 10), resolved_at=utc(2024, 8, 6)),
    ]
    db.add(IncidentFactor(incident_id=made[0].id, factor_id=factor_named("Fatigue").id))
    db.commit()
    return made


@pytest.fixture
def other(app_config: dict[str, Any]) -> Any:
    """A second instance of the app on the same database, with its own kept figures."""
    app = new_app(app_config)
    yield app
    app.extensions["db_engine"].dispose()


def computed_spans(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[date, date]]]:
    """Each call's spans of pieces computed from incidents (the computation itself runs)."""
    calls: list[list[tuple[date, date]]] = []
    compute = piece_store.compute_pieces

    def noting(filters: Any, spans: Any) -> Any:
        calls.append(list(spans))
        return compute(filters, spans)

    monkeypatch.setattr(piece_store, "compute_pieces", noting)
    return calls


def trend(client: Any) -> dict[str, Any]:
    response = client.get(TREND)
    assert response.status_code == 200
    data = dict(response.get_json())
    data.pop("computed_at")
    return data


def test_a_second_instance_reads_the_pieces_the_first_computed(
    app, client, other, incidents
) -> None:
    first = trend(client)
    second_client = admin_client(other)
    with statements(other) as sent:
        second = trend(second_client)
    assert second == first
    assert not [text for text in sent if "incident.started_at" in text]  # nothing computed
    assert sum("figure_piece" in text for text in sent) == 1  # the year's pieces, read once


def test_an_edit_through_one_instance_makes_the_other_recompute_only_its_month(
    app, client, other, incidents, monkeypatch
) -> None:
    second_client = admin_client(other)
    trend(client)
    trend(second_client)
    Browser(client).submit_filled(
        f"/incidents/{incidents[1].id}/edit", {"title": "August, renamed", "is_near_miss": "y"}
    )
    calls = computed_spans(monkeypatch)
    after = trend(second_client)
    assert calls == [[(date(2024, 8, 1), date(2024, 9, 1))]]
    assert after["overall"]["near_misses"] == 1


def test_renaming_a_factor_recomputes_no_month_and_shows_the_new_name(
    app, client, other, incidents, monkeypatch
) -> None:
    second_client = admin_client(other)
    trend(client)
    trend(second_client)
    factor = factor_named("Fatigue")
    response = Browser(client).submit_filled(
        f"/taxonomy/factors/{factor.id}/edit", {"name": "Exhaustion"}
    )
    assert response.status_code == 302
    calls = computed_spans(monkeypatch)
    names = [f["name"] for f in trend(second_client)["overall"]["top_factors"]]
    assert calls == [] and names == ["Exhaustion"]


def test_a_ci_guard_run_keeps_the_assembled_trend_report(app, client, db, incidents) -> None:
    guard = make_guard("Result unchanged test")
    _user, token = user_with_token(Role.REVIEWER)
    db.commit()
    kept = client.get(TREND).get_json()["computed_at"]
    run = Api(app, token).post(f"/api/v1/guards/{guard.id}/runs", {"status": "pass"})
    assert run.status_code == 201
    assert client.get(TREND).get_json()["computed_at"] == kept


def test_the_stored_pieces_are_bounded(app, client, db, incidents) -> None:
    app.config["REPORT_STORED_PIECES"] = 5
    trend(client)
    assert db.scalar(select(func.count()).select_from(FigurePiece)) <= 5


def stored_versions(app: Flask) -> list[str]:
    with app.app_context():
        return list(session.scalars(select(FigurePiece.versions)))


def test_a_piece_computed_at_older_versions_does_not_replace_a_newer_one(app, db) -> None:
    span = (date(2024, 3, 1), date(2024, 4, 1))
    piece = from_text(to_text(empty_piece()))
    with app.test_request_context():
        piece_store._store("p3|UTC|||", {span: ((2, 5), piece)})
        piece_store._store("p3|UTC|||", {span: ((1, 5), piece)})  # a slower worker, older reading
    assert stored_versions(app) == ["2.5"]


def empty_piece() -> Piece:
    return Piece(0, 0, {}, {}, {}, {}, {}, ItemDays(), ItemDays(), 0)


def test_a_piece_read_back_from_its_text_is_exact() -> None:
    piece = Piece(
        incidents=3,
        near_misses=1,
        by_category={CauseCategory.CHANCE: 2},
        factors={7: FactorCount(7, "Fatigue", CauseCategory.PERSONAL, 2)},
        durations={"time_to_resolve": np.array([1, 2**40, 3_600_000_001], dtype=np.int64)},
        impacts={
            (ImpactKind.LOST_REVENUE, "EUR"): RangeTotal(
                2, Decimal("0.10"), Decimal("12345678901234.01"), Decimal(0), 2, 2, 0
            )
        },
        levels={(ImpactKind.REPUTATION, "MAJOR"): 1},
        items=ItemDays(
            4,
            2,
            1,
            done_on=days([date(2024, 3, 4), date(2024, 4, 2)]),
            done_days=np.array([3, UNKNOWN_DAYS], dtype=np.int32),
            wont_do_on=days([date(2024, 3, 9)]),
            due_on=days([date(2024, 3, 1), date(2024, 3, 9)]),
            due_closed_on=np.array([date(2024, 4, 2).toordinal(), OPEN], dtype=np.int32),
        ),
        near_miss_items=ItemDays(1, 0, 0, done_on=days([date(2024, 3, 20)]), done_days=days([])),
        recurrences=1,
    )
    back = from_text(to_text(piece))
    assert back.durations["time_to_resolve"].tolist() == [1, 2**40, 3_600_000_001]
    assert (
        back.impacts == piece.impacts
        and str(back.impacts[ImpactKind.LOST_REVENUE, "EUR"].low) == "0.10"
    )
    assert (back.factors, back.by_category, back.levels) == (
        piece.factors,
        piece.by_category,
        piece.levels,
    )
    for made, read in ((piece.items, back.items), (piece.near_miss_items, back.near_miss_items)):
        assert (read.total, read.preventive, read.guarded) == (
            made.total,
            made.preventive,
            made.guarded,
        )
        for name in ("done_on", "done_days", "wont_do_on", "due_on", "due_closed_on"):
            assert getattr(read, name).dtype == np.int32
            assert getattr(read, name).tolist() == getattr(made, name).tolist(), name
    assert back.items.overdue(date(2024, 4, 2).toordinal()) == 1  # the open one, due 9 March


def days(values: list[date]) -> np.ndarray:
    return np.array([d.toordinal() for d in values], dtype=np.int32)
