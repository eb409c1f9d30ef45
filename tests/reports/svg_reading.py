"""Reading a chart back from its SVG as a reader would: each bar's height against its panel's
y axis, each label's box from its position, font size and length."""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

NS = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
PHONE_WIDTH = 390  # CSS pixels
CHAR_EMS = 0.7  # a generous width of one character (DejaVu Sans' digits are 0.64 em)


@dataclass(frozen=True)
class Box:
    text: str
    left: float
    right: float
    top: float
    bottom: float
    size: float

    def overlaps(self, other: "Box") -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


def parse(svg: bytes) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def view_width(root: ET.Element) -> float:
    return float(root.get("viewBox", "").split()[2])


def _numbers(path_d: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path_d)]


def _axis(axes: ET.Element) -> tuple[float, float]:
    """The panel's y axis as (value per SVG unit, SVG y of 0), from two of its ticks."""
    ticks = []
    for tick in axes.iter(f"{NS}g"):
        if not tick.get("id", "").startswith("ytick_"):
            continue
        mark = next(tick.iter(f"{NS}use"))
        label = "".join(next(tick.iter(f"{NS}text")).itertext())
        ticks.append((float(mark.get("y", "")), float(label.replace("−", "-"))))
    (y0, v0), (y1, v1) = ticks[0], ticks[-1]
    per_unit = (v1 - v0) / (y0 - y1)
    return per_unit, y0 + v0 / per_unit


@dataclass(frozen=True)
class Bar:
    bottom: float  # in data units
    height: float


def bars(root: ET.Element) -> dict[str, Bar]:
    """Every drawn bar by its id, its bottom and height read against its panel's axis."""
    found = {}
    for axes in root.iter(f"{NS}g"):
        if not axes.get("id", "").startswith("axes_"):
            continue
        per_unit, zero = _axis(axes)
        for group in axes.iter(f"{NS}g"):
            gid = group.get("id", "")
            if gid.startswith("bar-"):
                ys = _numbers(next(group.iter(f"{NS}path")).get("d", ""))[1::2]
                found[gid] = Bar(
                    round((zero - max(ys)) * per_unit, 6), round((max(ys) - min(ys)) * per_unit, 6)
                )
    return found


def points(root: ET.Element, prefix: str) -> dict[str, float]:
    """Every drawn point (a marker) whose id starts with `prefix`, as its value on its axis."""
    found = {}
    for axes in root.iter(f"{NS}g"):
        if not axes.get("id", "").startswith("axes_"):
            continue
        per_unit, zero = _axis(axes)
        for group in axes.iter(f"{NS}g"):
            if group.get("id", "").startswith(prefix):
                mark = next(group.iter(f"{NS}use"))
                found[group.get("id", "")] = (zero - float(mark.get("y", ""))) * per_unit
    return found


def text_boxes(root: ET.Element) -> list[Box]:
    """Every text element's box, reckoned from its anchor, baseline, size and length."""
    boxes = []
    for text in root.iter(f"{NS}text"):
        style = dict(part.split(":", 1) for part in text.get("style", "").split(";") if ":" in part)
        style = {k.strip(): v.strip() for k, v in style.items()}
        assert "rotate(-0 " in text.get("transform", "rotate(-0 "), "every label is level"
        size = float(style["font-size"].removesuffix("px"))
        string = "".join(text.itertext())
        width = len(string) * CHAR_EMS * size
        x, y = float(text.get("x", "")), float(text.get("y", ""))
        anchor = style.get("text-anchor", "start")
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        boxes.append(Box(string, left, left + width, y - 0.8 * size, y + 0.2 * size, size))
    return boxes


def overlapping_labels(root: ET.Element) -> list[tuple[str, str]]:
    boxes = text_boxes(root)
    return [
        (a.text, b.text)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a.text.strip() and b.text.strip() and a.overlaps(b)
    ]


def smallest_font_at_phone_width(root: ET.Element) -> float:
    """The smallest text's size in CSS pixels when the chart is shown 390 pixels wide."""
    return min(b.size for b in text_boxes(root)) * PHONE_WIDTH / view_width(root)


def outside(root: ET.Element) -> list[str]:
    """Labels whose box leaves the drawing."""
    width = view_width(root)
    return [b.text for b in text_boxes(root) if b.left < 0 or b.right > width]
