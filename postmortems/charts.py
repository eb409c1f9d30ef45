"""Charts drawn on the server as SVG with matplotlib, the same bytes for the same figures.

Each request draws on its own `matplotlib.figure.Figure` (no pyplot, whose global figure
manager is not safe across request threads). matplotlib is imported on first use: it takes
about half a second to load, which a process that draws no chart should not pay.

Pages show a chart as `<img src="….svg">` with a table of the same numbers under it; the SVG
answers with a policy of its own (`SVG_CONTENT_SECURITY_POLICY`): matplotlib writes style
attributes and a <style> element, and an SVG can neither run scripts nor load anything.
"""

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flask import Response

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SVG_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
# Colour-blind-safe (Okabe–Ito), one per cause category in the enum's order.
CATEGORY_COLOURS = ("#E69F00", "#0072B2", "#009E73", "#CC79A7")
INK, MUTED, BAND = "#1f2328", "#656d76", "#eef1f4"
# Drawn for a phone and scaled up on a desktop, never down: 390 units wide (a phone's width in
# CSS pixels; one unit is one point at 72 dpi), text at 11 units, so at least 11 px on screen.
POINTS_PER_INCH = 72
WIDTH_POINTS, FONT_POINTS = 390, 11
WIDTH_INCHES, HEIGHT_INCHES = WIDTH_POINTS / POINTS_PER_INCH, 3.6
# A conservative width of one character, in ems (DejaVu Sans' digits are 0.64 em): what
# placing labels so that they never overlap reckons with.
CHAR_EMS = 0.7

_configured = threading.Lock()
_ready = False


def _configure() -> None:
    """Settings that make the SVG the same on every run: fixed element ids, text kept as text
    (no glyph outlines, whose ids would vary), no creation date; and every label drawn as the
    text it is: no mathtext, which would read a name's `$…$` as a formula (or fail on it), and
    no TeX. Set once per process."""
    global _ready
    with _configured:
        if _ready:
            return
        import matplotlib

        matplotlib.rcParams.update(
            {
                "svg.hashsalt": "postmortems",
                "svg.fonttype": "none",
                "text.parse_math": False,
                "text.usetex": False,
                "font.family": "DejaVu Sans",
                "font.size": FONT_POINTS,
                "axes.edgecolor": MUTED,
                "axes.labelcolor": INK,
                "xtick.color": MUTED,
                "ytick.color": MUTED,
            }
        )
        _ready = True


@contextmanager
def figure(width: float = WIDTH_INCHES, height: float = HEIGHT_INCHES) -> Iterator["Figure"]:
    """A new figure of its own (not pyplot's), for one chart."""
    _configure()
    from matplotlib.figure import Figure

    yield Figure(figsize=(width, height), layout="constrained")


def fixed_figure(height_points: float) -> "Figure":
    """A figure WIDTH_POINTS wide without automatic layout: the caller places every axes, so
    it knows where each label lands."""
    _configure()
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_INCHES, height_points / POINTS_PER_INCH), dpi=POINTS_PER_INCH)


def text_width(text: str, size: float = FONT_POINTS) -> float:
    """A text's width in points, reckoned generously (see CHAR_EMS)."""
    return len(text) * CHAR_EMS * size


def to_svg(fig: "Figure") -> str:
    """The figure as an SVG document, without a creation date."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def svg_response(svg: str) -> Response:
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CONTENT_SECURITY_POLICY
    return response
