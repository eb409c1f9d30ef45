"""The trend report and the quarterly review: HTML, JSON and Markdown of the same figures."""

import json
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from models import IncidentStatus, Severity, Team
from postmortems.auth.access import viewer_key
from postmortems.cache import cached
from postmortems.charts import svg_response
from postmortems.db import MAX_ID, session
from postmortems.domain import DomainError
from postmortems.pdf import html_to_pdf
from postmortems.policy import requires
from postmortems.reports import render
from postmortems.reports.charts import trend_chart_svg
from postmortems.reports.periods import Quarter, ReportError
from postmortems.reports.service import (
    DURATIONS,
    QuarterlyReport,
    ReportFilters,
    TrendReport,
    quarterly_report,
    trend_report,
)
from postmortems.timezones import local_today

bp = Blueprint("reports", __name__, url_prefix="/reports")

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


def _team() -> int | None:
    value = request.args.get("team", "")
    if not value:
        return None
    if not value.isdecimal() or not 0 < int(value) <= MAX_ID:
        raise ReportError(fields={"team": ["Choose a team."]})
    return int(value)


def _narrowing() -> dict[str, Any]:
    near = request.args.get("near_misses", "1")
    if near not in ("0", "1"):
        raise ReportError(fields={"near_misses": ["Give 1 to show near-misses or 0 to hide them."]})
    return {
        "team_id": _team(),
        "severity": _choice("severity", Severity),
        "status": _choice("status", IncidentStatus),
        "near_misses": near == "1",
    }


def _trend_filters() -> tuple[ReportFilters, date]:
    today = local_today()
    try:
        narrowing = _narrowing()
        filters = ReportFilters(
            _day("from", date(today.year - TREND_YEARS + 1, 1, 1)),
            _day("to", min(today, LATEST_DAY)),
            **narrowing,
        )
    except DomainError as exc:
        abort(400, description=exc.message)
    return filters, today


def _trend() -> TrendReport:
    filters, today = _trend_filters()
    return cached(
        ("trend_report", filters, today),
        lambda: trend_report(filters, as_of=today, now=datetime.now(UTC)),
    )


def _quarterly(quarter_name: str) -> QuarterlyReport:
    try:
        quarter = Quarter.parse(quarter_name)
    except ReportError:
        abort(404)
    try:
        narrowing = _narrowing()
    except DomainError as exc:
        abort(400, description=exc.message)
    return cached(
        ("quarterly_report", quarter, tuple(sorted(narrowing.items())), viewer_key(current_user)),
        lambda: quarterly_report(quarter, current_user, now=datetime.now(UTC), **narrowing),
    )


def _teams() -> list[tuple[int, str]]:
    def teams() -> tuple[tuple[int, str], ...]:
        rows = session.execute(select(Team.id, Team.name).order_by(Team.name))
        return tuple((team_id, name) for team_id, name in rows)

    return list(cached(("report_teams",), teams))


def quarterly_html(report: QuarterlyReport) -> str:
    """The quarterly page's HTML (the page, the command line's --format html and the PDF)."""
    return render_template("reports/quarterly.html", report=report, durations=DURATIONS, r=render)


def json_response(payload: dict[str, Any]) -> Response:
    """JSON with <, > and & as \\u escapes, so that no browser can read it as HTML."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Response(text + "\n", mimetype="application/json")


@bp.route("/trends")
@requires("read_reports")
def trends() -> ResponseReturnValue:
    """Incidents per quarter and per growth stage, with rates, durations, impact and follow-up."""
    report = _trend()
    return render_template(
        "reports/trends.html",
        report=report,
        teams=_teams(),
        severities=list(Severity),
        statuses=list(IncidentStatus),
        durations=DURATIONS,
        r=render,
    )


@bp.route("/trends.json")
@requires("read_reports")
def trends_json() -> ResponseReturnValue:
    return json_response(render.trend_json(_trend()))


@bp.route("/trends.svg")
@requires("read_reports")
def trends_svg() -> ResponseReturnValue:
    """The trend page's chart (the page's table under it holds the same numbers)."""
    filters, today = _trend_filters()
    svg = cached(("trend_chart", filters, today), lambda: trend_chart_svg(_trend()))
    return svg_response(svg)


@bp.route("/quarterly/")
@requires("read_reports")
def quarterly_index() -> ResponseReturnValue:
    """The quarterly review of the last full quarter."""
    quarter = Quarter.of(local_today()).previous
    return redirect(url_for("reports.quarterly", quarter=quarter.label))


@bp.route("/quarterly/<quarter>")
@requires("read_reports")
def quarterly(quarter: str) -> ResponseReturnValue:
    """The quarter's postmortems and figures against the quarter before and a year before."""
    return quarterly_html(_quarterly(quarter))


@bp.route("/quarterly/<quarter>.json")
@requires("read_reports")
def quarterly_json(quarter: str) -> ResponseReturnValue:
    return json_response(render.quarterly_json(_quarterly(quarter)))


@bp.route("/quarterly/<quarter>.pdf")
@requires("read_reports")
def quarterly_pdf(quarter: str) -> ResponseReturnValue:
    """The quarterly page as a PDF (kept per data version and reader, like the figures)."""
    report = _quarterly(quarter)
    key = ("quarterly_pdf", report.quarter, report.filters, viewer_key(current_user))
    pdf = cached(key, lambda: html_to_pdf(quarterly_html(report)))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="quarterly-{report.quarter}.pdf"'},
    )


@bp.route("/quarterly/<quarter>.md")
@requires("read_reports")
def quarterly_markdown(quarter: str) -> ResponseReturnValue:
    report = _quarterly(quarter)
    return Response(
        render.quarterly_markdown(report),
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="quarterly-{report.quarter}.md"'},
    )
