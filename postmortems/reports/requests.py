"""A report request read: the filters and the quarter the trend report and the quarterly review
are asked for, from a page's or the API's query string. Bad input is a ReportError naming the
field (a 400: the pages show their form with the message beside the field, the JSON and the
API a JSON error), a quarter the app does not take a 404. The pages, JSON and the API share it."""

from datetime import UTC, date, datetime
from typing import Any

from flask import Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from models import IncidentStatus, Severity, Team
from postmortems.api.errors import is_api_request
from postmortems.cache import cached
from postmortems.db import MAX_ID, session
from postmortems.reports.figures import ReportFilters
from postmortems.reports.periods import Quarter, ReportError
from postmortems.reports.piece_store import figures_version
from postmortems.reports.service import QuarterlyReport, TrendReport, quarterly_report, trend_report
from postmortems.timezones import local_today

# Reports cover days whose local midnights, in any zone, lie within the stored range.
EARLIEST_DAY, LATEST_DAY = date(1970, 1, 2), date(2100, 12, 30)
TREND_YEARS = 3  # the default trend range: this year and the two before


def _choice(name: str, enum: Any) -> Any:
    value = request.args.get(name, "")
    if not value:
        return None
    if value not in enum.__members__:
        raise ReportError(fields={name: [f"Choose one of {', '.join(enum.__members__)}."]})
    return enum[value]


def _day(name: str, default: date) -> date:
    value = request.args.get(name, "")
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ReportError(fields={name: ["Give a date as 2020-12-31."]}) from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ReportError(fields={name: [f"Choose a date from {EARLIEST_DAY} to {LATEST_DAY}."]})
    return day


def report_teams() -> list[tuple[int, str]]:
    """The teams a report can be narrowed to, by name: the form's choices."""

    def teams() -> tuple[tuple[int, str], ...]:
        rows = session.execute(select(Team.id, Team.name).order_by(Team.name))
        return tuple((team_id, name) for team_id, name in rows)

    return list(cached(("report_teams",), teams, viewer=None))


def _team() -> int | None:
    value = request.args.get("team", "")
    if not value:
        return None
    if not value.isdecimal() or not 0 < int(value) <= MAX_ID:
        raise ReportError(fields={"team": ["Choose a team."]})
    # A page's form offers the teams there are; the API keeps its stated contract (a team's
    # id: one that names no team narrows to nothing).
    if not is_api_request() and int(value) not in dict(report_teams()):
        raise ReportError(fields={"team": ["No team has this number: choose one from the list."]})
    return int(value)


def narrowing_from_request() -> dict[str, Any]:
    """The narrowing filters of the query string (team, severity, status, near-misses), as
    the keyword arguments of the report services; a bad one raises ReportError naming it."""
    near = request.args.get("near_misses", "1")
    if near not in ("0", "1"):
        raise ReportError(fields={"near_misses": ["Give 1 to show near-misses or 0 to hide them."]})
    return {
        "team_id": _team(),
        "severity": _choice("severity", Severity),
        "status": _choice("status", IncidentStatus),
        "near_misses": near == "1",
    }


def asks_for_dates() -> bool:
    """Whether the query string names the trend report's days (`from` or `to`, not empty)."""
    return bool(request.args.get("from") or request.args.get("to"))


def trend_filters_from_request(
    opening: tuple[date, date] | None = None,
) -> tuple[ReportFilters, date]:
    """The trend report's filters and today. Days not asked for: `opening` (the page's span
    that holds data) when given and neither day is, else the last three years. A bad filter
    raises ReportError naming it."""
    today = local_today()
    narrowing = narrowing_from_request()
    if opening is not None and not asks_for_dates():
        start, end = max(opening[0], EARLIEST_DAY), min(opening[1], LATEST_DAY)
        return ReportFilters(start, end, **narrowing), today
    filters = ReportFilters(
        _day("from", date(today.year - TREND_YEARS + 1, 1, 1)),
        _day("to", min(today, LATEST_DAY)),
        **narrowing,
    )
    return filters, today


def trend_from_request(opening: tuple[date, date] | None = None) -> TrendReport:
    """The trend report for this request's filters (pages, JSON, the API), kept while no figure
    version moves (a guard run or a user's change leaves it standing)."""
    filters, today = trend_filters_from_request(opening)
    return cached(
        ("trend_report", filters, today),
        lambda: trend_report(filters, as_of=today, now=datetime.now(UTC)),
        viewer=None,
        version=figures_version,
    )


def _quarter_or_404(name: str) -> Quarter:
    """The quarter named in the URL; one the app does not take is a 404 that says which it
    takes (the error page's own words say only that nothing is there)."""
    try:
        return Quarter.parse(name)
    except ReportError as exc:
        if is_api_request():
            abort(404, description=exc.message)
        page = render_template("errors.html", code=404, name="Not found", description=exc.message)
        abort(Response(page, 404))


def quarterly_from_request(quarter_name: str, *, whole: bool = False) -> QuarterlyReport:
    """The quarterly review named in the URL for this request's filters and viewer: the page
    of its postmortems that `page` asks for, or (`whole`, for a document) every one."""
    quarter = _quarter_or_404(quarter_name)
    narrowing = narrowing_from_request()
    page = None if whole else _page()
    now = datetime.now(UTC)
    # A quarter not over yet shows guard health and headcount as of now: kept a minute at most.
    moment = now.replace(second=0, microsecond=0) if quarter.last_day >= local_today() else None
    key = ("quarterly_report", quarter, tuple(sorted(narrowing.items())), page, moment)
    return cached(
        key,
        lambda: quarterly_report(quarter, current_user, now=now, page=page, **narrowing),
        viewer=current_user,
    )


def _page() -> int:
    value = request.args.get("page", "1")
    if not value.isdecimal() or not 0 < int(value) <= MAX_ID:
        raise ReportError(fields={"page": ["Give a page number: 1, 2, …"]})
    return int(value)
