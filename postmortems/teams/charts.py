"""The company's headcount over time, a step per change, over the growth stages' bands. It
draws the growth timeline as it is (nothing is computed here); the teams page puts the same
steps in a table under it.

Every step carries an id naming what it shows (`step-2020-08-01-8`), so a test can read the
drawn numbers back from the SVG.
"""

from datetime import date, timedelta

from postmortems.charts import BAND, INK, MUTED, figure, to_svg
from postmortems.teams.service import GrowthTimeline

HEIGHT_INCHES = 3.2


def headcount_chart_svg(timeline: GrowthTimeline, today: date) -> str:
    """Company headcount from its first count to `today` (or its last change, if later), with
    each stage's band shaded and named."""
    from matplotlib.ticker import MaxNLocator

    spans = timeline.spans
    with figure(height=HEIGHT_INCHES) as fig:
        ax = fig.add_subplot()
        if spans:
            last = max(today, spans[-1].start + timedelta(days=1))
            top = max(s.total for s in spans)
            for span in spans:
                end = span.end or last
                ax.plot(
                    [_x(span.start), _x(end)],
                    [span.total, span.total],
                    color=INK,
                    linewidth=2,
                    gid=f"step-{span.start}-{span.total}",
                )
            for before, after in zip(spans, spans[1:], strict=False):
                ax.plot([_x(after.start)] * 2, [before.total, after.total], color=INK)
            ceiling = max([top, *(s.min_headcount for s in timeline.stages)]) * 1.1 + 1
            for i, stage in enumerate(sorted(timeline.stages, key=lambda s: s.min_headcount)):
                low = stage.min_headcount - 0.5
                high = ceiling if stage.max_headcount is None else stage.max_headcount + 0.5
                if i % 2 == 0:
                    ax.axhspan(low, high, color=BAND, gid=f"band-{stage.id}")
                ax.text(
                    0.005,
                    min(high, ceiling),
                    f" {stage.name} ({stage.min_headcount}"
                    + ("+)" if stage.max_headcount is None else f"–{stage.max_headcount})"),
                    transform=ax.get_yaxis_transform(),
                    va="top",
                    color=MUTED,
                )
            ax.set_ylim(0, ceiling)
            ax.set_xlim(_x(spans[0].start), _x(last))
            ax.xaxis_date()
        ax.set_ylabel("people (company)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
        return to_svg(fig)


def _x(day: date) -> float:
    """A day as matplotlib's date axis counts it."""
    from matplotlib.dates import date2num

    return float(date2num(day))  # type: ignore[no-untyped-call]
