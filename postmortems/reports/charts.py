"""The report charts: the trend report's and the quarterly review's, drawn from the reports' own
figures (nothing is computed here); each page puts the same numbers in a table beside them.

No height is ever a sum of overlapping groups: an incident with factors in three categories is
one incident. So the total is its own bar (its height the number of incidents), and the
categories are small multiples, one panel per category on the same scale, never stacked.

Charts are drawn 390 points wide with 11-point text (postmortems/charts.py) and laid out by
hand, panel under panel, so that every label's place is known: stage names are numbered on the
chart (numbers that would collide go to another row) and named in a key under it.

Every bar carries an id naming what it shows (`bar-2022Q3-incidents`, `bar-2022Q3-PERSONAL`),
each rate point and interval too (`rate-2022Q3`, `interval-2022Q3`), so a test can read the
drawn numbers back from the SVG against its axis.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from models import CauseCategory
from postmortems.charts import (
    CATEGORY_COLOURS,
    FONT_POINTS,
    INK,
    MUTED,
    WIDTH_POINTS,
    fixed_figure,
    text_width,
    to_svg,
)
from postmortems.reports.history import ACTION_PARTS, QuarterHistory
from postmortems.reports.periods import Quarter
from postmortems.reports.service import TrendReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# The layout, in points.
LEFT, RIGHT, TOP, BOTTOM = 38, 10, 4, 6
TITLE_SPACE = 20  # above each panel: its title
QUARTER_ROW, YEAR_ROW = 17, 17  # under a panel with the quarters named
GAP = 10
KEY_LINE = 16
MARKER_ROW = 15  # one row of stage numbers at a panel's top
TOTAL_HEIGHT, SMALL_HEIGHT = 110, 52
AXES_WIDTH = WIDTH_POINTS - LEFT - RIGHT
LABEL_GAP = 4  # the least room between two labels side by side
TOTAL_COLOUR, RATE_COLOUR = "#56B4E9", INK
ACTION_COLOURS = ("#009E73", MUTED, "#D55E00", "#0072B2")  # done, won't do, overdue, open


@dataclass(frozen=True)
class Panel:
    """One panel of quarters: bars, or rates with their intervals."""

    title: str
    top: float  # the y axis' top in data units (panels that compare share it)
    height: float = SMALL_HEIGHT
    bars: Sequence[tuple[str, int]] = ()  # (id, height) per quarter
    colour: str = TOTAL_COLOUR
    rates: Sequence[tuple[str, float, float, float] | None] = ()  # (id part, rate, low, high)
    quarters_named: bool = False
    markers: bool = False  # the stage boundaries numbered at its top


def _category_panels(rows: Sequence[Any], top: int) -> list[Panel]:
    """One panel per cause category on the scale `top`, the quarters named under the last;
    `rows` are quarters with `quarter` and `by_category` (a trend's or a review's)."""
    last = len(CauseCategory) - 1
    return [
        Panel(
            category.label,
            top,
            bars=[
                (f"bar-{r.quarter.label}-{category.name}", r.by_category[category]) for r in rows
            ],
            colour=colour,
            quarters_named=i == last,
        )
        for i, (category, colour) in enumerate(zip(CauseCategory, CATEGORY_COLOURS, strict=True))
    ]


def trend_chart_svg(report: TrendReport) -> str:
    """Incidents per quarter (each once), then one panel per cause category on one scale; a
    dashed line on each day the company entered another growth stage, numbered and named."""
    rows = report.quarters
    quarters = [q.quarter for q in rows]
    top = max([q.incidents for q in rows], default=0)
    panels = [
        Panel(
            "Incidents (each counted once)",
            top,
            TOTAL_HEIGHT,
            bars=[(f"bar-{q.quarter.label}-incidents", q.incidents) for q in rows],
            quarters_named=True,
            markers=True,
        ),
        *_category_panels(rows, top),
    ]
    boundaries = [
        (_position(quarters[0], day), f"stage-{day}", f"{day} entered {name}")
        for _, day, name in stage_key(report)
    ]
    return _draw(quarters, panels, boundaries)


def stage_key(report: TrendReport) -> list[tuple[int, date, str]]:
    """The stage boundaries as the chart numbers them: (number, day, stage entered)."""
    return [(n, day, _entered(report, day)) for n, day in enumerate(report.stage_boundaries, 1)]


def quarterly_incidents_svg(history: QuarterHistory) -> str:
    """Incidents per quarter, and the rate per 10 people with its 90 % interval."""
    rows = history.rows
    highs = [float(r.rate.interval[1]) for r in rows if r.rate.interval is not None]
    return _draw(
        [r.quarter for r in rows],
        [
            Panel(
                "Incidents (each counted once)",
                max([r.incidents for r in rows], default=0),
                TOTAL_HEIGHT,
                bars=[(f"bar-{r.quarter.label}-incidents", r.incidents) for r in rows],
                quarters_named=True,
            ),
            Panel(
                "Per 10 people per quarter, 90 % interval",
                max(highs, default=0),
                TOTAL_HEIGHT,
                rates=[
                    None
                    if r.rate.per_10_people is None or r.rate.interval is None
                    else (
                        r.quarter.label,
                        float(r.rate.per_10_people),
                        float(r.rate.interval[0]),
                        float(r.rate.interval[1]),
                    )
                    for r in rows
                ],
                quarters_named=True,
            ),
        ],
    )


def quarterly_categories_svg(history: QuarterHistory) -> str:
    """One panel per cause category, on the scale of the quarters' incidents."""
    rows = history.rows
    top = max([r.incidents for r in rows], default=0)
    return _draw([r.quarter for r in rows], _category_panels(rows, top))


def quarterly_actions_svg(history: QuarterHistory) -> str:
    """The action items of each quarter's incidents as of one day, a panel per part of the
    partition (done, won't do, overdue, open and not yet due), on the scale of the largest
    quarter's items."""
    rows = history.rows
    top = max([r.actions.total for r in rows], default=0)
    return _draw(
        [r.quarter for r in rows],
        [
            Panel(
                label,
                top,
                bars=[(f"bar-{r.quarter.label}-{name}", r.action_parts[name]) for r in rows],
                colour=colour,
                quarters_named=i == len(ACTION_PARTS) - 1,
            )
            for i, ((name, label), colour) in enumerate(
                zip(ACTION_PARTS, ACTION_COLOURS, strict=True)
            )
        ],
    )


def _draw(
    quarters: Sequence[Quarter],
    panels: Sequence[Panel],
    boundaries: Sequence[tuple[float, str, str]] = (),
) -> str:
    """The panels one under another, then the key of the numbered stage boundaries
    (x on the quarters' axis, id, what the number stands for)."""
    from matplotlib.ticker import MaxNLocator

    named = _quarters_fit(len(quarters))
    below = (QUARTER_ROW if named else 0) + YEAR_ROW
    spaces = [TITLE_SPACE + p.height + (below if p.quarters_named else 0) + GAP for p in panels]
    key = [_fit(f"{n}  {text}") for n, (_, _, text) in enumerate(boundaries, 1)]
    height = TOP + sum(spaces) + len(key) * KEY_LINE + BOTTOM
    fig = fixed_figure(height)
    y = height - TOP  # points from the bottom
    count = len(quarters)
    xs = list(range(count))
    for panel, space in zip(panels, spaces, strict=True):
        bottom = y - TITLE_SPACE - panel.height
        ax = fig.add_axes(
            (LEFT / WIDTH_POINTS, bottom / height, AXES_WIDTH / WIDTH_POINTS, panel.height / height)
        )
        ax.set_xlim(-0.5, count - 0.5)
        rows = _marker_rows([x for x, _, _ in boundaries], count) if panel.markers else []
        reserved = (max(rows, default=-1) + 1) * MARKER_ROW
        # The top label's room, and the markers' rows above the tallest bar.
        ax.set_ylim(0, max(panel.top, 1) * 1.08 / (1 - reserved / panel.height))
        if panel.bars:
            drawn = ax.bar(xs, [h for _, h in panel.bars], color=panel.colour, width=0.7)
            for bar, (gid, _) in zip(drawn, panel.bars, strict=True):
                bar.set_gid(gid)
        for i, rate in zip(xs, panel.rates, strict=False):
            if rate is not None:
                label, value, low, high = rate
                ax.plot([i, i], [low, high], color=RATE_COLOUR, gid=f"interval-{label}")
                ax.plot([i], [value], "o", color=RATE_COLOUR, markersize=5, gid=f"rate-{label}")
        for n, (place, gid, _) in enumerate(boundaries, 1):
            ax.axvline(
                place, color=INK, linestyle="--", linewidth=1, gid=gid if panel.markers else None
            )
            if panel.markers:
                _marker(ax, place, count, rows[n - 1], str(n))
        ax.set_title(panel.title, loc="left", pad=5, fontsize=FONT_POINTS, color=INK)
        ax.yaxis.set_major_locator(
            MaxNLocator(nbins=max(2, int(panel.height // 30)), integer=bool(panel.bars))
        )
        ax.spines[["top", "right"]].set_visible(False)
        if panel.quarters_named:
            _name_quarters(ax, quarters)
        else:
            ax.set_xticks(xs, [""] * count)
        y -= space
    for line in key:
        fig.text(LEFT / WIDTH_POINTS / 4, y / height, line, va="top", color=INK)
        y -= KEY_LINE
    return to_svg(fig)


def _points(x: float, count: int) -> float:
    """Where a place on the quarters' axis falls, in points from the axes' left edge."""
    return (x + 0.5) / count * AXES_WIDTH


def _marker_rows(xs: Sequence[float], count: int) -> list[int]:
    """A row for each boundary's number: the first row where it clears the numbers already
    placed (each takes its width to the right of its line)."""
    ends: list[float] = []  # per row, the right edge of its last number
    rows = []
    for n, x in enumerate(xs, 1):
        left = _points(x, count)
        row = next((i for i, end in enumerate(ends) if end + LABEL_GAP <= left), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = left + 2 + text_width(str(n)) + 2
        rows.append(row)
    return rows


def _marker(ax: "Axes", x: float, count: int, row: int, number: str) -> None:
    """A boundary's number at the panel's top, right of its line (left of it at the far end)."""
    right = _points(x, count) + 2 + text_width(number) > AXES_WIDTH + RIGHT
    ax.annotate(
        number,
        (x, 1),
        xycoords=("data", "axes fraction"),
        xytext=(-2 if right else 2, -2 - row * MARKER_ROW),
        textcoords="offset points",
        va="top",
        ha="right" if right else "left",
        color=INK,
    )


def _quarters_fit(count: int) -> bool:
    """Whether each of `count` quarters has room for its name (Q1…Q4)."""
    return AXES_WIDTH / max(count, 1) >= text_width("Q4") + LABEL_GAP


def _name_quarters(ax: "Axes", quarters: Sequence[Quarter]) -> None:
    """Q1…Q4 under the bars where they fit, and the years under those, each centred on its
    quarters; a year whose label would touch the one before is left unnamed."""
    count = len(quarters)
    named = _quarters_fit(count)
    ax.set_xticks(
        range(count),
        [f"Q{q.number}" if named else "" for q in quarters],
        fontsize=FONT_POINTS,
    )
    ax.tick_params(axis="x", length=3, colors=MUTED)
    years: dict[int, list[int]] = {}
    for i, q in enumerate(quarters):
        years.setdefault(q.year, []).append(i)
    previous_end = -float(LABEL_GAP)  # clear of the y axis' labels, left of the axes
    for year, indexes in years.items():
        half = text_width(str(year)) / 2
        centre = _points((indexes[0] + indexes[-1]) / 2, count)
        centre = min(max(centre, half), AXES_WIDTH + RIGHT - half - 2)
        if centre - half < previous_end + LABEL_GAP:
            continue
        previous_end = centre + half
        ax.annotate(
            str(year),
            (centre / AXES_WIDTH, 0),
            xycoords="axes fraction",
            xytext=(0, -(QUARTER_ROW + 3) if named else -6),
            textcoords="offset points",
            ha="center",
            va="top",
            color=MUTED,
        )


def _fit(line: str) -> str:
    """A key line cut to the chart's width (the page's table names it whole)."""
    room = WIDTH_POINTS - LEFT / 4 - RIGHT
    if text_width(line) <= room:
        return line
    keep = int(room // text_width("x")) - 1
    return line[:keep] + "…"


def _entered(report: TrendReport, day: date) -> str:
    """The name of the stage whose period begins on `day`."""
    for row in report.stages:
        if any(first == day for first, _ in row.periods):
            return row.stage.name
    return ""


def _position(first: Quarter, day: date) -> float:
    """Where a day falls on the quarters' axis: bar i spans i − 0.5 to i + 0.5."""
    quarter = Quarter.of(day)
    index = (quarter.year - first.year) * 4 + quarter.number - first.number
    return index - 0.5 + (day - quarter.first_day).days / quarter.days
