"""API views of the reports and of what they are cut by: teams and growth stages."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

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
    The report pages answer a broken rule of theirs (`to` before `from`) with a plain 400;
    the DomainError behind it names the parameter, and so does the API's answer."""
    try:
        return build()
    except BadRequest as exc:
        cause = exc.__context__
        fields = values.api_fields(cause) if isinstance(cause, DomainError) else {}
        raise ApiError(400, str(exc.description or ""), fields) from None


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
