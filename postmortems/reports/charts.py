"""The trend report's chart: incidents per quarter stacked by cause category, with the days
the company entered another growth stage marked. It draws the report's own figures (nothing
is computed here) and the page puts the same numbers in a table under it.

Every bar segment carries an id naming what it shows (`bar-2020Q3-PERSONAL-1`), so a test can
read the drawn numbers back from the SVG.
"""

from datetime import date

from models import CauseCategory
from postmortems.charts import CATEGORY_COLOURS, INK, MUTED, figure, to_svg
from postmortems.reports.periods import Quarter
from postmortems.reports.service import TrendReport

LABEL_EVERY_QUARTER_UP_TO = 12  # more quarters than this: only each year's first is labelled


def trend_chart_svg(report: TrendReport) -> str:
    """Incidents per quarter, one stacked segment per cause category (an incident with factors
    in two categories is in both), a dashed line on each stage boundary."""
    from matplotlib.ticker import MaxNLocator

    quarters = report.quarters
    with figure() as fig:
        ax = fig.add_subplot()
        xs = list(range(len(quarters)))
        bottoms = [0] * len(quarters)
        for category, colour in zip(CauseCategory, CATEGORY_COLOURS, strict=True):
            heights = [q.by_category[category] for q in quarters]
            bars = ax.bar(xs, heights, bottom=bottoms, color=colour, label=category.label)
            for bar, q, n in zip(bars, quarters, heights, strict=True):
                bar.set_gid(f"bar-{q.quarter.label}-{category.name}-{n}")
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        top = max(bottoms, default=0)
        ax.set_ylim(0, max(1, top) * 1.15)
        for boundary in report.stage_boundaries:
            x = _position(quarters[0].quarter, boundary)
            ax.axvline(x, color=INK, linestyle="--", linewidth=1, gid=f"stage-{boundary}")
            ax.annotate(
                _entered(report, boundary),
                (x, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                va="top",
                color=INK,
            )
        ax.set_xticks(xs, [_tick(q.quarter, len(quarters)) for q in quarters])
        ax.tick_params(axis="x", labelrotation=90 if len(quarters) <= 24 else 0)
        ax.set_xlim(-0.6, len(quarters) - 0.4)
        ax.set_ylabel("incidents (per category)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, labelcolor=MUTED)
        return to_svg(fig)


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


def _tick(quarter: Quarter, count: int) -> str:
    if count <= LABEL_EVERY_QUARTER_UP_TO:
        return quarter.label
    return str(quarter.year) if quarter.number == 1 else ""
