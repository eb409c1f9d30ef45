"""API views of the reports and of what they are cut by: teams and growth stages."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask.typing import ResponseReturnValue

from models import Team
from postmortems.api import schemas, values
from postmortems.api.blueprint import answer, bp, parse_query, require
from postmortems.api.errors import ApiError
from postmortems.db import session
from postmortems.domain import DomainError
from postmortems.reports import render
from postmortems.reports.requests import quarterly_from_request, trend_from_request
from postmortems.responses import json_response
from postmortems.teams.service import list_stages, list_teams

R = TypeVar("R")


def _team(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "snapshots": [{"on_date": s.on_date, "headcount": s.headcount} for s in team.snapshots],
    }


@bp.get("/teams")
def teams() -> ResponseReturnValue:
    """Teams with their headcount snapshots (each holds until the team's next one)."""
    items = [_team(team) for team in session.scalars(list_teams())]
    return answer(schemas.TeamList, {"items": items})


@bp.get("/teams/<int:team_id>")
def team(team_id: int) -> ResponseReturnValue:
    found = session.get(Team, team_id)
    if found is None:
        raise ApiError(404)
    return answer(schemas.TeamOut, _team(found))


@bp.get("/growth-stages")
def growth_stages() -> ResponseReturnValue:
    """The growth stages: named bands of company headcount."""
    names = ["id", "name", "min_headcount", "max_headcount", "description"]
    items = [{n: getattr(s, n) for n in names} for s in session.scalars(list_stages())]
    return answer(schemas.StageList, {"items": items})


# Reports: the same payloads as the report pages' .json, from the same functions.


def _report(build: Callable[[], R]) -> R:
    """A report built from the request's parameters (checked first by the API's own model).
    A broken rule of the reports' own (`to` before `from`) is a DomainError naming the
    parameter, and so is the API's 400."""
    try:
        return build()
    except DomainError as exc:
        raise ApiError(400, exc.message, values.api_fields(exc)) from None


@bp.get("/reports/trends")
def trends() -> ResponseReturnValue:
    require("read_reports")
    parse_query(schemas.TrendQuery, 400)
    return json_response(render.trend_json(_report(trend_from_request)))


@bp.get("/reports/quarterly/<quarter>")
def quarterly(quarter: str) -> ResponseReturnValue:
    require("read_reports")
    parse_query(schemas.QuarterlyQuery, 400)
    report = _report(lambda: quarterly_from_request(quarter))
    return json_response(render.quarterly_json(report))
