"""The trend report and the quarterly review: HTML, JSON and Markdown of the same figures."""

import json
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from models import CauseCategory, IncidentStatus, Severity, Team
from postmortems.api.errors import is_api_request
from postmortems.cache import cached
from postmortems.charts import svg_response
from postmortems.db import MAX_ID, commit_change, session
from postmortems.domain import DomainError
from postmortems.pdf import html_to_pdf
from postmortems.policy import requires
from postmortems.reports import render
from postmortems.reports.charts import trend_chart_svg
from postmortems.reports.figures import DURATIONS, ReportFilters
from postmortems.reports.freezing import (
    FrozenVersion,
    changed_figures,
    filters_args,
    filters_query,
    freeze_quarterly,
    get_frozen,
    list_frozen,
)
from postmortems.reports.periods import Quarter, ReportError
from postmortems.reports.service import (
    QuarterlyReport,
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


def trend_from_request() -> TrendReport:
    """The trend report for this request's filters (pages, JSON, the API), kept per data version."""
    filters, today = _trend_filters()
    return cached(
        ("trend_report", filters, today),
        lambda: trend_report(filters, as_of=today, now=datetime.now(UTC)),
        viewer=None,
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
    try:
        narrowing = _narrowing()
        page = None if whole else _page()
    except DomainError as exc:
        abort(400, description=exc.message)
    key = ("quarterly_report", quarter, tuple(sorted(narrowing.items())), page)
    return cached(
        key,
        lambda: quarterly_report(
            quarter, current_user, now=datetime.now(UTC), page=page, **narrowing
        ),
        viewer=current_user,
    )


def _page() -> int:
    value = request.args.get("page", "1")
    if not value.isdecimal() or not 0 < int(value) <= MAX_ID:
        raise ReportError(fields={"page": ["Give a page number: 1, 2, …"]})
    return int(value)


def _teams() -> list[tuple[int, str]]:
    def teams() -> tuple[tuple[int, str], ...]:
        rows = session.execute(select(Team.id, Team.name).order_by(Team.name))
        return tuple((team_id, name) for team_id, name in rows)

    return list(cached(("report_teams",), teams, viewer=None))


def quarterly_html(report: QuarterlyReport, **page: Any) -> str:
    """The quarterly page's HTML (the page, the command line's --format html and the PDF).
    `page` adds what only the web page shows: the frozen versions and the freeze button."""
    return render_template(
        "reports/quarterly.html", report=report, durations=DURATIONS, r=render, **page
    )


def _frozen_id() -> int | None:
    value = request.args.get("frozen", "")
    if not value:
        return None
    if not value.isdecimal() or not 0 < int(value) <= MAX_ID:
        abort(404)
    return int(value)


def _frozen_versions(report: QuarterlyReport) -> dict[str, Any]:
    """The quarter's frozen versions, and what changed since the newest one frozen with the
    page's filters."""
    versions = list_frozen(report.quarter)
    query = filters_query(report.filters)
    same = next((v for v in versions if v.filters == query), None)
    today = render.quarterly_figures_json(report)
    return {
        "frozen_versions": versions,
        "latest_frozen": same,
        "changes": None if same is None else changed_figures(same.figures, today),
        "filters_args": filters_args,
    }


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
    report = trend_from_request()
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
    return json_response(render.trend_json(trend_from_request()))


@bp.route("/trends.svg")
@requires("read_reports")
def trends_svg() -> ResponseReturnValue:
    """The trend page's chart (the page's table under it holds the same numbers)."""
    filters, today = _trend_filters()
    svg = cached(
        ("trend_chart", filters, today),
        lambda: trend_chart_svg(trend_from_request()),
        viewer=None,
    )
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
    """The quarter's postmortems and figures against the quarter before and a year before;
    with `frozen`, a frozen version of its figures and what changed since."""
    frozen_id = _frozen_id()
    if frozen_id is not None:
        return _frozen_page(quarter, frozen_id)
    report = quarterly_from_request(quarter)
    page_query = filters_args(filters_query(report.filters))
    return quarterly_html(report, page_query=page_query, **_frozen_versions(report))


def _frozen(quarter: str, frozen_id: int) -> tuple[FrozenVersion, QuarterlyReport]:
    """The frozen version, and today's report for the same quarter and filters (a URL whose
    filters differ from the version's is sent to the version's own)."""
    try:
        version = get_frozen(Quarter.parse(quarter), frozen_id)
    except ReportError:
        abort(404)
    report = quarterly_from_request(quarter)
    if filters_query(report.filters) != version.filters:
        target = url_for(
            request.endpoint or "reports.quarterly",
            quarter=quarter,
            frozen=frozen_id,
            **filters_args(version.filters),
        )
        abort(redirect(target))
    return version, report


def _frozen_page(quarter: str, frozen_id: int) -> ResponseReturnValue:
    version, report = _frozen(quarter, frozen_id)
    return render_template(
        "reports/frozen.html",
        version=version,
        report=report,
        figures=version.figures,
        changes=changed_figures(version.figures, render.quarterly_figures_json(report)),
        today_args=filters_args(version.filters),
        categories=[(c.name, c.label) for c in CauseCategory],
        durations=DURATIONS,
        r=render,
    )


@bp.route("/quarterly/<quarter>/freeze", methods=["POST"])
@requires("freeze_reports")
def freeze(quarter: str) -> ResponseReturnValue:
    """Store the quarter's figures as today's data gives them (with the page's filters)."""
    try:
        parsed = Quarter.parse(quarter)
    except ReportError:
        abort(404)
    try:
        narrowing = _narrowing()
    except DomainError as exc:
        abort(400, description=exc.message)
    frozen = commit_change(
        lambda: freeze_quarterly(parsed, user=current_user, now=datetime.now(UTC), **narrowing)
    )
    flash(f"Figures of {parsed.label} frozen as version {frozen.id}.")
    return redirect(
        url_for(
            "reports.quarterly",
            quarter=parsed.label,
            frozen=frozen.id,
            **filters_args(frozen.filters),
        )
    )


@bp.route("/quarterly/<quarter>.json")
@requires("read_reports")
def quarterly_json(quarter: str) -> ResponseReturnValue:
    """The quarter's figures; with `frozen`, the frozen version's exactly as stored, with when
    and by whom, and the figures today's data gives differently."""
    frozen_id = _frozen_id()
    if frozen_id is None:
        return json_response(render.quarterly_json(quarterly_from_request(quarter)))
    version, report = _frozen(quarter, frozen_id)
    changes = changed_figures(version.figures, render.quarterly_figures_json(report))
    return json_response(
        {
            **version.figures,
            "frozen": {
                "id": version.id,
                "data_cutoff_at": version.data_cutoff_at.isoformat(),
                "data_version": version.data_version,
                "frozen_by": version.frozen_by,
            },
            "changed_since_frozen": [
                {"figure": c.path, "frozen": c.before, "today": c.after} for c in changes
            ],
        }
    )


@bp.route("/quarterly/<quarter>.pdf")
@requires("read_reports")
def quarterly_pdf(quarter: str) -> ResponseReturnValue:
    """The quarterly page as a PDF (kept per data version and reader, like the figures)."""
    report = quarterly_from_request(quarter, whole=True)
    key = ("quarterly_pdf", report.quarter, report.filters)
    pdf = cached(key, lambda: html_to_pdf(quarterly_html(report)), viewer=current_user)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="quarterly-{report.quarter}.pdf"'},
    )


@bp.route("/quarterly/<quarter>.md")
@requires("read_reports")
def quarterly_markdown(quarter: str) -> ResponseReturnValue:
    report = quarterly_from_request(quarter, whole=True)
    return Response(
        render.quarterly_markdown(report),
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="quarterly-{report.quarter}.md"'},
    )
