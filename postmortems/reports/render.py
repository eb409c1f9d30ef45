"""Report figures as JSON payloads, Markdown, display text and the quarterly page's HTML.
Nothing here computes a figure:
it formats what reports/service.py returned, the same for every renderer.

Rounding happens only here, and only where the page says so: shares and rates in the HTML and
Markdown to the digits shown beside them, durations to the minute. JSON gives seconds exactly,
shares and rates as decimal strings to 4 places.
"""

import sys
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from flask import current_app, render_template

from models import CauseCategory
from postmortems.filters import format_datetime
from postmortems.guards.escapes import EscapeCount
from postmortems.guards.risk import GuardReportFigures
from postmortems.numbers import NO_VALUE, amount, count
from postmortems.reports.figures import (
    DURATIONS,
    ActionFigures,
    DurationStats,
    GroupFigures,
    ImpactTotal,
    TiedBeyond,
)
from postmortems.reports.service import (
    QuarterlyReport,
    Rate,
    StageRow,
    StageSpan,
    TrendReport,
)

JSON_PLACES = 4
DURATION_LABELS = {
    "time_to_detect": "Time to detect",
    "time_to_mitigate": "Time to mitigate",
    "time_to_resolve": "Time to resolve",
}


def fixed(value: Fraction | Decimal | None, places: int) -> str | None:
    """A decimal string rounded half-even to `places` digits; None stays None."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = value
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def plain(value: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros (both databases give the same)."""
    return format(value.normalize(), "f")


def money(value: Decimal) -> str:
    """An exact amount with at least two decimals (cents), never rounded."""
    cents = value.quantize(Decimal("0.01"))
    return format(cents, "f") if cents == value else plain(value)


def exact(value: Decimal, is_money: bool) -> str:
    """A summed amount for JSON: the exact decimal string."""
    return money(value) if is_money else plain(value)


def impact_json(t: ImpactTotal) -> dict[str, Any]:
    """An impact total in JSON: the full ranges' sums, and the estimates kept apart."""
    full = t.ranges > 0
    return {
        "kind": t.kind.name,
        "unit": t.unit,
        "money": t.kind.is_money,
        "estimates": t.n,
        "estimates_in_range": t.ranges,
        "low": exact(t.low, t.kind.is_money) if full else None,
        "likely": exact(t.likely, t.kind.is_money) if full else None,
        "high": exact(t.high, t.kind.is_money) if full else None,
        "estimates_apart": t.apart,
        "estimates_apart_with_likely": t.apart_given,
        "likely_apart": exact(t.apart_likely, t.kind.is_money) if t.apart_given else None,
    }


IMPACT_LEGEND = (
    "low – likely – high summed per kind and currency or unit over the estimates that gave all "
    "three; estimates without a full range are kept apart, their likely values summed"
)


def impact_rows(t: ImpactTotal) -> list[tuple[str, str, str, str]]:
    """An impact total as table rows (estimates, low, likely, high): the full ranges, then
    the estimates kept apart, if any, with their likely sum only."""
    currency = t.unit if t.kind.is_money else None
    rows = []
    if t.ranges:
        label = count(t.ranges) + (" full ranges" if t.apart else "")
        rows.append(
            (label, amount(t.low, currency), amount(t.likely, currency), amount(t.high, currency))
        )
    if t.apart:
        likely = amount(t.apart_likely, currency) if t.apart_given else NO_VALUE
        if 0 < t.apart_given < t.apart:
            likely += f" ({t.apart_given} of {t.apart} gave one)"
        rows.append((f"{count(t.apart)} without a full range", NO_VALUE, likely, NO_VALUE))
    return rows


def number(value: Decimal | None) -> int | float | None:
    """A duration in seconds as a JSON number: exact (an integer, or a tenth-step fraction)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def duration_text(value: Decimal | None) -> str:
    """Seconds as days, hours and minutes, to the minute."""
    if value is None:
        return "—"
    minutes = int((value / 60).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (mins, "min")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 min"


def seconds_text(value: int | float | None) -> str:
    """A duration from a JSON payload (seconds, or null) as days, hours and minutes."""
    return duration_text(None if value is None else Decimal(str(value)))


def percent(value: Fraction | None) -> str:
    return "—" if value is None else f"{fixed(value * 100, 1)} %"


def tied_text(tie: TiedBeyond | None) -> str | None:
    """What ties at a top-N list's cut, in words ("and 3 more at 4 incidents"); None: no tie."""
    if tie is None:
        return None
    noun = "incident" if tie.incidents == 1 else "incidents"
    return f"and {tie.factors} more at {tie.incidents} {noun}"


def day_text(day: date) -> str:
    """A day within a known year, as a reader writes it: 14 Feb."""
    return f"{day.day} {day:%b}"


def stages_text(stages: tuple[StageSpan, ...], first_day: date) -> str:
    """Every growth stage of a span of days from `first_day`, in order: "Scaling → Growth
    (14 Feb) → Large (10 Mar)"; a first stage entered after `first_day` says from when."""
    if not stages:
        return "—"
    parts = []
    for i, stage in enumerate(stages):
        if stage.first_day <= first_day:
            parts.append(stage.name)
        elif i == 0:
            parts.append(f"{stage.name} (from {day_text(stage.first_day)})")
        else:
            parts.append(f"{stage.name} ({day_text(stage.first_day)})")
    return " → ".join(parts)


def stages_json(stages: tuple[StageSpan, ...]) -> list[dict[str, str]]:
    return [{"name": s.name, "from": s.first_day.isoformat()} for s in stages]


def headcount_text(report: QuarterlyReport) -> str:
    """The quarter's growth stages and the company's headcount at its start and end."""
    q = report.quarter

    def people(n: int | None, day: date) -> str:
        return f"none recorded by {day.isoformat()}" if n is None else f"{count(n)} on {day}"

    end = "today" if report.headcount_end_on < q.last_day else "the last day"
    return (
        f"Growth stage: {stages_text(report.stages, q.first_day)}. Company headcount: "
        f"{people(report.headcount_start, q.first_day)} (the first day), "
        f"{people(report.headcount_end, report.headcount_end_on)} ({end})."
    )


def small_columns(report: QuarterlyReport) -> list[str]:
    """The quarters of the review's columns with too few incidents to read a trend from."""
    q = report.quarter
    columns = (
        (q, report.figures),
        (q.previous, report.previous),
        (q.year_before, report.year_before),
    )
    return [quarter.label for quarter, g in columns if g.small]


def small_note(report: QuarterlyReport) -> str | None:
    """The too-small note naming every column it holds for (None: none is too small)."""
    labels = small_columns(report)
    if not labels:
        return None
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    minimum = current_app.config["REPORT_MIN_SAMPLE_SIZE"]
    return f"Fewer than {minimum} incidents in {names}: too few to read a trend from."


# Action items: the partition as of one day, with its legend (docs/reports.md defines it).


def action_parts(actions: ActionFigures) -> list[tuple[str, int, str]]:
    """The four parts of the action items' partition: (label, count, share as text)."""
    a = actions
    return [
        ("done", a.done, percent(a.share_done)),
        ("won't do", a.wont_do, percent(a.share_wont_do)),
        ("overdue", a.overdue, percent(a.share_overdue)),
        ("open, not yet due", a.open_not_due, percent(a.share_open_not_due)),
    ]


def action_parts_text(actions: ActionFigures) -> str:
    """'done 4 (57.1 %), won't do 1 (14.3 %), …' on one line."""
    return ", ".join(f"{label} {n} ({share})" for label, n, share in action_parts(actions))


def action_legend(actions: ActionFigures, near_misses: bool) -> str:
    """One line saying what the four parts are."""
    whose = "near-misses' items included" if near_misses else "near-misses' items left out"
    return (
        f"As of the end of {actions.as_of.isoformat()}: done = completed by then, won't do = "
        "decided by then, overdue = neither and due before that day, open = the rest; the four "
        f"add up to the {actions.total} items of these incidents ({whose})."
    )


def duration_json(stats: DurationStats) -> dict[str, Any]:
    return {"n": stats.n, "median_seconds": number(stats.median), "p90_seconds": number(stats.p90)}


def rate_text(rate: Rate) -> str:
    """A rate and its interval to 2 decimals, or that there is none (no headcount)."""
    if rate.per_10_people is None or rate.interval is None:
        return "no headcount, no rate"
    low, high = (fixed(v, 2) for v in rate.interval)
    return (
        f"{fixed(rate.per_10_people, 2)} incidents per 10 people per quarter "
        f"(90 % interval {low}–{high})"
    )


def rate_sentence(rate: Rate, incidents: int) -> str | None:
    """What a rate means, in words a director reads without statistics."""
    if rate.per_10_people is None or rate.interval is None:
        return None
    low, high = (fixed(v, 2) for v in rate.interval)
    seen = (
        "no incidents"
        if incidents == 0
        else f"{count(incidents)} incident" + ("" if incidents == 1 else "s")
    )
    return (
        f"About {fixed(rate.per_10_people, 1)} incidents for every 10 people in a quarter; "
        f"with {seen} seen, the true rate could be anywhere from {low} to {high}."
    )


def rate_json(rate: Rate) -> dict[str, Any]:
    return {
        "person_quarters": fixed(rate.person_quarters, JSON_PLACES),
        "rate_per_10_people": fixed(rate.per_10_people, JSON_PLACES),
        "rate_interval": None
        if rate.interval is None
        else [fixed(rate.interval[0], JSON_PLACES), fixed(rate.interval[1], JSON_PLACES)],
    }


def group_json(group: GroupFigures, *, near_misses: bool = True) -> dict[str, Any]:
    actions = group.actions
    return {
        "incidents": group.incidents,
        "near_misses": group.near_misses if near_misses else None,
        "too_small": group.small,
        "by_category": {c.name: group.by_category[c] for c in CauseCategory},
        "category_shares": {c.name: fixed(group.share(c), JSON_PLACES) for c in CauseCategory},
        "top_factors": [
            {
                "id": f.factor_id,
                "name": f.name,
                "category": f.category.name,
                "incidents": f.incidents,
            }
            for f in group.top_factors
        ],
        "top_factors_tied_beyond": None
        if group.top_factors_tied_beyond is None
        else {
            "factors": group.top_factors_tied_beyond.factors,
            "incidents": group.top_factors_tied_beyond.incidents,
        },
        **{kind: duration_json(group.durations[kind]) for kind in DURATIONS},
        "impacts": [impact_json(t) for t in group.impacts],
        "impact_levels": [
            {"kind": lc.kind.name, "level": lc.level, "estimates": lc.n} for lc in group.levels
        ],
        "action_items": {
            "total": actions.total,
            "done": actions.done,
            "wont_do": actions.wont_do,
            "overdue": actions.overdue,
            "open_not_due": actions.open_not_due,
            "overdue_as_of": actions.as_of.isoformat(),
            "share_done": fixed(actions.share_done, JSON_PLACES),
            "share_wont_do": fixed(actions.share_wont_do, JSON_PLACES),
            "share_overdue": fixed(actions.share_overdue, JSON_PLACES),
            "share_open_not_due": fixed(actions.share_open_not_due, JSON_PLACES),
            "days_to_done": {
                "n": actions.days_to_done.n,
                "median_days": number(actions.days_to_done.median),
                "p90_days": number(actions.days_to_done.p90),
            },
            "preventive": actions.preventive,
            "preventive_guarded": actions.preventive_guarded,
            "share_preventive_guarded": fixed(actions.share_preventive_guarded, JSON_PLACES),
        },
        "recurrences": group.recurrences,
    }


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def stage_json(row: StageRow, *, near_misses: bool) -> dict[str, Any]:
    """A stage's figures. `from` is its first period's first day and `to` its last period's
    last day: for a stage entered twice not one span (it was left between); `periods` are."""
    return {
        "name": row.stage.name,
        "band": _band(row),
        "from": _iso(row.periods[0][0]),
        "to": _iso(row.periods[-1][1]),
        "periods": [{"from": _iso(lo), "to": _iso(hi)} for lo, hi in row.periods],
        **group_json(row.figures, near_misses=near_misses),
        **rate_json(row.rate),
    }


def _band(row: StageRow) -> str:
    low, high = row.stage.min_headcount, row.stage.max_headcount
    return f"{low}+" if high is None else f"{low}–{high}"


def filters_json(report: TrendReport | QuarterlyReport) -> dict[str, Any]:
    f = report.filters
    return {
        "team": f.team_id,
        "severity": f.severity.name if f.severity else None,
        "status": f.status.name if f.status else None,
        "near_misses": f.near_misses,
    }


def trend_json(report: TrendReport) -> dict[str, Any]:
    near = report.filters.near_misses
    return {
        "zone": report.zone,
        "from": _iso(report.filters.start),
        "to": _iso(report.filters.end),
        "filters": filters_json(report),
        "computed_at": _iso(report.computed_at),
        "quarters": [
            {
                "quarter": q.quarter.label,
                "stage": q.stage,
                "stages": stages_json(q.stages),
                "incidents": q.incidents,
                "near_misses": q.near_misses if near else None,
                "by_category": {c.name: q.by_category[c] for c in CauseCategory},
            }
            for q in report.quarters
        ],
        "stage_boundaries": [_iso(d) for d in report.stage_boundaries],
        "stages": [stage_json(row, near_misses=near) for row in report.stages],
        "overall": {
            **group_json(report.overall, near_misses=near),
            **rate_json(report.overall_rate),
        },
    }


def quarterly_figures_json(report: QuarterlyReport) -> dict[str, Any]:
    """The figures of a quarterly review that do not depend on who reads it (what freezing
    stores and compares)."""
    near = report.filters.near_misses
    return {
        "quarter": report.quarter.label,
        "zone": report.zone,
        "from": _iso(report.quarter.first_day),
        "to": _iso(report.quarter.last_day),
        "filters": filters_json(report),
        "this_quarter": group_json(report.figures, near_misses=near),
        "previous_quarter": {
            "quarter": report.quarter.previous.label,
            **group_json(report.previous, near_misses=near),
        },
        "year_before": {
            "quarter": report.quarter.year_before.label,
            **group_json(report.year_before, near_misses=near),
        },
        "action_items_at_quarter_end": {
            "as_of": _iso(report.quarter.last_day),
            "opened": report.actions_opened,
            "closed": report.actions_closed,
            "overdue": report.actions_overdue_at_end,
        },
        "guard_checks_added": list(report.guards_added),
        "stages": stages_json(report.stages),
        "headcount": {
            "start": report.headcount_start,
            "start_on": _iso(report.quarter.first_day),
            "end": report.headcount_end,
            "end_on": _iso(report.headcount_end_on),
        },
        "guard_checks": guards_json(report.guards),
    }


def guards_json(
    guards: GuardReportFigures, seen: dict[int, EscapeCount] | None = None
) -> dict[str, Any]:
    """The guard section: health at `as_of` and the guards recurrences got past; with `seen`
    (the viewer's split) each escaped guard also says how many recurrences are hidden."""

    def escaped(guard_id: int, name: str, n: int) -> dict[str, Any]:
        item: dict[str, Any] = {"id": guard_id, "name": name, "recurrences": n}
        if seen is not None:
            item["recurrences_not_shown"] = seen.get(guard_id, EscapeCount()).hidden
        return item

    return {
        "as_of": _iso(guards.as_of),
        "states": {state.name: n for state, n in guards.states.items()},
        "failing": list(guards.failing),
        "stale": list(guards.stale),
        "escapes": guards.escapes,
        "escaped": [escaped(*row) for row in guards.escaped],
    }


def quarterly_json(report: QuarterlyReport) -> dict[str, Any]:
    return {
        **quarterly_figures_json(report),
        "guard_checks": guards_json(report.guards, report.escapes_seen),
        "computed_at": _iso(report.computed_at),
        "postmortems": [
            {
                "key": i.key,
                "title": i.title,
                "severity": i.severity.name,
                "status": i.status.name,
                "started_on": _iso(i.started_on),
                "near_miss": i.is_near_miss,
                "categories": [c.name for c in i.categories],
                "impacts": list(i.impacts),
                "recurrence_of": i.recurrence_of,
            }
            for i in report.incidents
            if report.filters.near_misses or not i.is_near_miss
        ],
        "postmortems_not_shown": report.hidden,
        "postmortems_shown": report.listing.shown,
        "page": report.listing.page,
        "pages": report.listing.pages,
    }


# Markdown.


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell or line: Markdown's own characters escaped, and
    HTML's as entities (a Markdown file is often rendered to HTML)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\|*_`[]#":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def quarterly_markdown(report: QuarterlyReport) -> str:
    """The quarterly review as Markdown (the golden file's format: change it knowingly)."""
    q = report.quarter
    this, prev, before = report.figures, report.previous, report.year_before
    lines = [
        f"# Quarterly review {q.label}",
        "",
        f"{q.first_day.isoformat()} to {q.last_day.isoformat()}, days in {report.zone}. "
        "Counted: every incident not excluded from metrics, whatever its review status; "
        "near-misses apart.",
        "",
        headcount_text(report),
        "",
        "## Headline",
        "",
        f"| figure | {q.label} | {q.previous.label} | {q.year_before.label} |",
        "|---|---:|---:|---:|",
        f"| incidents | {this.incidents} | {prev.incidents} | {before.incidents} |",
    ]
    if report.filters.near_misses:
        lines.append(
            f"| near-misses | {this.near_misses} | {prev.near_misses} | {before.near_misses} |"
        )
    for c in CauseCategory:
        lines.append(
            f"| {c.label} | {this.by_category[c]} | {prev.by_category[c]} | "
            f"{before.by_category[c]} |"
        )
    for kind in DURATIONS:
        cells = " | ".join(
            f"{duration_text(g.durations[kind].median)} (n={g.durations[kind].n})"
            for g in (this, prev, before)
        )
        lines.append(f"| {DURATION_LABELS[kind]}, median | {cells} |")
    lines.append(
        f"| recurrences | {this.recurrences} | {prev.recurrences} | {before.recurrences} |"
    )
    small = " | ".join("yes" if g.small else "no" for g in (this, prev, before))
    lines += [f"| too few to read a trend from | {small} |", ""]
    note = small_note(report)
    if note:
        lines += [note, ""]
    lines += [
        "An incident with factors in two categories counts once in each. Durations are "
        "shown to the minute.",
        "",
        "## Postmortems",
        "",
    ]
    shown = [i for i in report.incidents if report.filters.near_misses or not i.is_near_miss]
    if shown:
        lines += [
            "| key | title | severity | status | categories | impact |",
            "|---|---|---|---|---|---|",
        ]
        for i in shown:
            title = _md(i.title) + (" (near-miss)" if i.is_near_miss else "")
            if i.recurrence_of:
                title += f" (recurrence of {i.recurrence_of})"
            lines.append(
                f"| {i.key} | {title} | {i.severity.name} | {i.status.label} | "
                f"{', '.join(c.label for c in i.categories) or '—'} | "
                f"{'; '.join(_md(x) for x in i.impacts) or '—'} |"
            )
    else:
        lines.append("None.")
    if report.hidden:
        lines += ["", f"{report.hidden} more counted, not shown to you."]
    lines += ["", "## Top contributing factors", ""]
    if this.top_factors:
        lines += [f"- {_md(f.name)} ({f.category.label}): {f.incidents}" for f in this.top_factors]
        tie = tied_text(this.top_factors_tied_beyond)
        if tie:
            lines += ["", f"{tie.capitalize()} (tied at the cut, not listed)."]
    else:
        lines.append("None.")
    lines += ["", "## Impact totals", ""]
    if this.impacts:
        lines += [
            f"{IMPACT_LEGEND[0].upper()}{IMPACT_LEGEND[1:]}.",
            "",
            "| kind | unit | estimates | low | likely | high |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for t in this.impacts:
            for estimates, low, likely, high in impact_rows(t):
                lines.append(
                    f"| {t.kind.label} | {_md(t.unit)} | {estimates} | {low} | {likely} | {high} |"
                )
    else:
        lines.append("None.")
    lines += [
        "",
        "## Action items",
        "",
        f"- on this quarter's incidents: {report.actions_opened}; "
        f"{action_parts_text(this.actions)}",
        f"- closed in the quarter, on any incident: {report.actions_closed}",
        f"- overdue at quarter end, on any incident: {report.actions_overdue_at_end}",
        "",
        action_legend(this.actions, report.filters.near_misses),
        "",
        "## Guard checks added",
        "",
    ]
    lines += [f"- {_md(name)}" for name in report.guards_added] or ["None."]
    lines += ["", *_guards_markdown(report), ""]
    return "\n".join(lines)


def _guards_markdown(report: QuarterlyReport) -> list[str]:
    """The guard section as the quarterly page shows it: health at the quarter's end (or now)
    and the guards the quarter's recurrences got past, with what is hidden from the reader."""
    gr = report.guards
    lines = [
        "## Guard checks",
        "",
        f"Every team. Health at {format_datetime(gr.as_of)} ({report.zone}): guard checks "
        "added by then, retired ones left out; a guard is failing when its last run failed, "
        "stale when not seen passing within its window.",
        "",
        "| state | guard checks |",
        "|---|---:|",
        *(f"| {state.label} | {n} |" for state, n in gr.states.items()),
        "",
    ]
    if gr.failing:
        lines += [f"Failing: {', '.join(_md(n) for n in gr.failing)}.", ""]
    if gr.stale:
        lines += [f"Stale: {', '.join(_md(n) for n in gr.stale)}.", ""]
    escaped = []
    for guard_id, name, n in gr.escaped:
        hidden = report.escapes_seen.get(guard_id, EscapeCount()).hidden
        more = f", and {hidden} more counted, not shown to you" if hidden else ""
        escaped.append(f"{_md(name)} ({n - hidden}{more})")
    listed = (": " + ", ".join(escaped)) if escaped else ""
    lines.append(
        f"Escaped guards (recurrences from {gr.start} to {gr.end} that got past a guard of the "
        f"earlier postmortem, excluded ones not counted): {gr.escapes}{listed}."
    )
    return lines


def quarterly_html(report: QuarterlyReport, **page: Any) -> str:
    """The quarterly page's HTML (the page, the command line's --format html and the PDF).
    `page` adds what only the web page shows: the frozen versions and the freeze button; and
    the last quarters' figures (`history`) with their charts (`chart_src`, name → image URL)."""
    # The template formats through this module's functions, as `r`.
    formatters = sys.modules[__name__]
    return render_template(
        "reports/quarterly.html", report=report, durations=DURATIONS, r=formatters, **page
    )
