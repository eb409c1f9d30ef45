"""The trend report and the quarterly review: HTML, JSON and Markdown of the same figures."""

from base64 import b64encode
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from models import CauseCategory, IncidentStatus, Severity
from postmortems.api.errors import error_response
from postmortems.cache import cached
from postmortems.charts import svg_response
from postmortems.db import MAX_ID, commit_change, rollback_if_open
from postmortems.pdf import html_to_pdf
from postmortems.policy import requires
from postmortems.reports import render
from postmortems.reports.charts import (
    quarterly_actions_svg,
    quarterly_categories_svg,
    quarterly_incidents_svg,
    stage_key,
    trend_chart_svg,
)
from postmortems.reports.figures import DURATIONS
from postmortems.reports.freezing import (
    FrozenVersion,
    changed_figures,
    filters_args,
    filters_query,
    freeze_quarterly,
    get_frozen,
    list_frozen,
)
from postmortems.reports.history import QuarterHistory, quarter_history
from postmortems.reports.navigation import (
    neighbours,
    opening_quarter,
    quarters_with_incidents,
    trend_span,
)
from postmortems.reports.periods import Quarter, ReportError
from postmortems.reports.piece_store import figures_version
from postmortems.reports.requests import (
    asks_for_dates,
    narrowing_from_request,
    quarterly_from_request,
    report_teams,
    trend_filters_from_request,
    trend_from_request,
)
from postmortems.reports.service import QuarterlyReport
from postmortems.responses import json_response
from postmortems.timezones import local_today

bp = Blueprint("reports", __name__, url_prefix="/reports")

# The quarterly review's charts of its last quarters, by the name in their URL.
QUARTERLY_CHARTS: dict[str, Callable[[QuarterHistory], str]] = {
    "incidents": quarterly_incidents_svg,
    "categories": quarterly_categories_svg,
    "actions": quarterly_actions_svg,
}


# The narrowing filters every report's form carries, as the query string names them.
NARROWING = ("team", "severity", "status", "near_misses")


def _choices(quarters: tuple[Quarter, ...] = ()) -> dict[str, list[tuple[Any, str]]]:
    """What the reports' filter forms offer, as (value, label) per field."""
    return {
        "quarter": [(q.label, q.label) for q in quarters],
        "team": [("", "Any"), *report_teams()],
        "severity": [("", "Any"), *((s.name, s.label) for s in Severity)],
        "status": [("", "Any"), *((s.name, s.label) for s in IncidentStatus)],
        "near_misses": [("1", "Show apart"), ("0", "Leave out")],
    }


def _typed(names: tuple[str, ...]) -> dict[str, str]:
    """The query string's values of `names`, as typed (a form shows them back)."""
    return {name: request.args.get(name, "") for name in names}


def _narrowing_values(filters: Any) -> dict[str, str]:
    """The narrowing filters of a report as the form's values."""
    return {
        "team": "" if filters.team_id is None else str(filters.team_id),
        "severity": "" if filters.severity is None else filters.severity.name,
        "status": "" if filters.status is None else filters.status.name,
        "near_misses": "1" if filters.near_misses else "0",
    }


@bp.errorhandler(ReportError)
def bad_filter(error: ReportError) -> ResponseReturnValue:
    """A filter a report cannot take: the page again with its form as typed and the message
    beside the field; JSON a JSON error naming the field; anything else a 400 page."""
    rollback_if_open()
    endpoint = request.endpoint or ""
    if endpoint.endswith("_json"):
        return error_response(400, error.message, error.fields)
    errors = error.fields
    if endpoint == "reports.trends":
        values = _typed(("from", "to", *NARROWING))
        form = Markup(
            render_template(
                "reports/_trend_filters.html", values=values, errors=errors, choices=_choices()
            )
        )
        heading = "Trends across growth stages"
    elif endpoint in ("reports.quarterly", "reports.quarterly_index"):
        quarter = (request.view_args or {}).get("quarter", "")
        quarters = quarters_with_incidents(current_user)
        picker = {
            "quarters": quarters,
            "choices": _choices(quarters),
            "values": {"quarter": request.args.get("quarter", quarter), **_typed(NARROWING)},
            "errors": errors,
        }
        form = Markup(render_template("reports/_quarterly_filters.html", picker=picker))
        heading = f"Quarterly review {quarter}".strip()
    else:
        page = render_template(
            "errors.html", code=400, name="Bad request", description=error.message
        )
        return page, 400
    page = render_template(
        "reports/bad_filters.html", heading=heading, form=form, message=error.message
    )
    return page, 400


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


def report_json(payload: dict[str, Any]) -> Response:
    """A report's JSON: keys sorted (the same figures give the same bytes), cacheable."""
    return json_response(payload, sort_keys=True, no_store=False)


@bp.route("/trends")
@requires("read_reports")
def trends() -> ResponseReturnValue:
    """Incidents per quarter and per growth stage, with rates, durations, impact and follow-up.
    Without days asked for, the last quarters that hold incidents the reader may see."""
    opening = None
    if not asks_for_dates():
        opening = trend_span(quarters_with_incidents(current_user), local_today())
    report = trend_from_request(opening)
    f = report.filters
    args = request.args.to_dict()
    if opening is not None:  # the JSON and the chart of the days shown, whatever comes next
        args |= {"from": f.start.isoformat(), "to": f.end.isoformat()}
    values = {"from": f.start.isoformat(), "to": f.end.isoformat(), **_narrowing_values(f)}
    return render_template(
        "reports/trends.html",
        report=report,
        args=args,
        values=values,
        errors={},
        choices=_choices(),
        opened=opening is not None,
        durations=DURATIONS,
        stage_key=stage_key(report),
        r=render,
    )


@bp.route("/trends.json")
@requires("read_reports")
def trends_json() -> ResponseReturnValue:
    return report_json(render.trend_json(trend_from_request()))


@bp.route("/trends.svg")
@requires("read_reports")
def trends_svg() -> ResponseReturnValue:
    """The trend page's chart (the page's table under it holds the same numbers)."""
    filters, today = trend_filters_from_request()
    svg = cached(
        ("trend_chart", filters, today),
        lambda: trend_chart_svg(trend_from_request()),
        viewer=None,
        version=figures_version,
    )
    return svg_response(svg)


@bp.route("/quarterly/")
@requires("read_reports")
def quarterly_index() -> ResponseReturnValue:
    """The quarterly review of the quarter the picker names (`quarter`, with the filters), or
    else of the newest quarter holding incidents the reader may see (the last full quarter
    when none does)."""
    name = request.args.get("quarter", "")
    if name:
        quarter = Quarter.parse(name)  # a bad one: the form again, with the message beside it
        narrowing_from_request()
    else:
        quarter = opening_quarter(quarters_with_incidents(current_user), local_today())
    kept: dict[str, Any] = {k: v for k, v in _typed(NARROWING).items() if v}
    return redirect(url_for("reports.quarterly", quarter=quarter.label, **kept))


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
    charts = {
        name: url_for("reports.quarterly_chart", quarter=quarter, chart=name, **page_query)
        for name in QUARTERLY_CHARTS
    }
    quarters = quarters_with_incidents(current_user)
    before, after = neighbours(quarters, report.quarter)
    picker = {
        "quarters": quarters,
        "choices": _choices(quarters),
        "values": {"quarter": report.quarter.label, **_narrowing_values(report.filters)},
        "errors": {},
        "before": before,
        "after": after,
        "kept": page_query,
    }
    return render.quarterly_html(
        report,
        history=_history(report.quarter),
        chart_src=charts,
        page_query=page_query,
        picker=picker,
        **_frozen_versions(report),
    )


def _history_key(quarter: Quarter) -> tuple[Any, ...]:
    """What the last quarters' figures depend on: the quarter, this request's filters, today."""
    narrowing = narrowing_from_request()
    return ("quarter_history", quarter, tuple(sorted(narrowing.items())), local_today())


def _history(quarter: Quarter) -> QuarterHistory:
    """The last quarters up to `quarter` with this request's filters, kept per data version."""
    key = _history_key(quarter)
    _, _, narrowing, today = key
    return cached(
        key, lambda: quarter_history(quarter, today=today, **dict(narrowing)), viewer=None
    )


def _chart(quarter: Quarter, chart: str) -> str:
    """One of the quarterly review's charts, kept like the figures it draws."""
    key = (*_history_key(quarter), chart)
    return cached(key, lambda: QUARTERLY_CHARTS[chart](_history(quarter)), viewer=None)


@bp.route("/quarterly/<quarter>/<chart>.svg")
@requires("read_reports")
def quarterly_chart(quarter: str, chart: str) -> ResponseReturnValue:
    """One of the quarterly review's charts (the page's tables beside them hold the numbers)."""
    try:
        parsed = Quarter.parse(quarter)
    except ReportError:
        abort(404)
    if chart not in QUARTERLY_CHARTS:
        abort(404)
    return svg_response(_chart(parsed, chart))


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
    narrowing = narrowing_from_request()
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
        return report_json(render.quarterly_json(quarterly_from_request(quarter)))
    version, report = _frozen(quarter, frozen_id)
    changes = changed_figures(version.figures, render.quarterly_figures_json(report))
    return report_json(
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
    pdf = cached(key, lambda: html_to_pdf(quarterly_document(report)), viewer=current_user)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="quarterly-{report.quarter}.pdf"'},
    )


def quarterly_document(report: QuarterlyReport) -> str:
    """The quarterly page for a PDF: its charts inside it as data URLs (a PDF fetches nothing)."""
    history = _history(report.quarter)
    charts = {
        name: "data:image/svg+xml;base64,"
        + b64encode(_chart(report.quarter, name).encode()).decode()
        for name in QUARTERLY_CHARTS
    }
    return render.quarterly_html(report, history=history, chart_src=charts)


@bp.route("/quarterly/<quarter>.md")
@requires("read_reports")
def quarterly_markdown(quarter: str) -> ResponseReturnValue:
    report = quarterly_from_request(quarter, whole=True)
    return Response(
        render.quarterly_markdown(report),
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="quarterly-{report.quarter}.md"'},
    )
