"""The quarterly PDF's layout, read from WeasyPrint's laid-out pages (no PDF reader needed): a
header naming the review and its quarter and a footer with when it was made and "page N of M"
on every page; no page but the last holding only a few lines; no heading last on its page;
small tables in one piece; the charts inside the page. On the demo quarters and on a quarter
with many postmortems, each with its charts as the route makes it."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from models import (
    ActionItem,
    ActionStatus,
    ActionType,
    ContributingFactor,
    ImpactEstimate,
    ImpactKind,
    Incident,
    IncidentFactor,
    LessonGroup,
)
from postmortems.demo import load_demo_data
from postmortems.pdf import render_document
from postmortems.reports.periods import Quarter
from postmortems.reports.service import quarterly_report
from postmortems.reports.views import quarterly_document

MADE_AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
# A page other than the last holds more lines of text than this.
MIN_LINES = 8
# A table with fewer rows than this is never split (the PDF's rule).
SMALL_TABLE_ROWS = 15
HEADINGS = {"h1", "h2", "h3", "h4"}


@dataclass
class Page:
    header: str = ""
    footer: str = ""
    # The page's body lines in order, each (inside a heading?, text).
    lines: list[tuple[bool, str]] = field(default_factory=list)
    # The table elements with a piece on this page (with its rows here), the images' sizes (px).
    tables: list[tuple[Any, int]] = field(default_factory=list)
    images: list[tuple[float, float]] = field(default_factory=list)
    width: float = 0
    height: float = 0


def _text(box: Any) -> str:
    from weasyprint.formatting_structure.boxes import TextBox

    words = (b.text for b in box.descendants() if isinstance(b, TextBox))
    return re.sub(r"\s+", " ", " ".join(words)).strip()


def read_pages(document: Any) -> list[Page]:
    """Each laid-out page's header, footer, body lines, tables and images."""
    from weasyprint.formatting_structure import boxes

    pages = []
    for laid_out in document.pages:
        page_box = laid_out._page_box
        page = Page(width=page_box.width, height=page_box.height)

        def walk(box: Any, in_heading: bool, page: Page = page) -> None:
            in_heading = in_heading or box.element_tag in HEADINGS
            if isinstance(box, boxes.TableBox) and box.element is not None:
                rows = sum(isinstance(b, boxes.TableRowBox) for b in box.descendants())
                page.tables.append((box.element, rows))
            if isinstance(box, boxes.ReplacedBox):
                page.images.append((box.width, box.height))
            if isinstance(box, boxes.LineBox):
                text = _text(box)
                if text:
                    page.lines.append((in_heading, text))
            for child in getattr(box, "children", ()):
                walk(child, in_heading)

        for child in page_box.children:
            if isinstance(child, boxes.MarginBox):
                if child.at_keyword.startswith("@top"):
                    page.header += _text(child)
                else:
                    page.footer += " " + _text(child)
            else:
                walk(child, False)
        page.footer = page.footer.strip()
        pages.append(page)
    return pages


def quarterly_pages(app: Any, quarter: str) -> list[Page]:
    """The quarter's PDF as the route makes it (charts included), read page by page."""
    with app.test_request_context(f"/reports/quarterly/{quarter}"):
        report = quarterly_report(Quarter.parse(quarter), None, now=MADE_AT, page=None)
        document = render_document(quarterly_document(report), made_at=MADE_AT)
    return read_pages(document)


def check_layout(pages: list[Page], quarter: str) -> int:
    """Check every rule of the layout; return how many tables are split across pages."""
    count = len(pages)
    for number, page in enumerate(pages, 1):
        where = f"page {number} of {count}"
        assert page.header == f"Quarterly review {quarter}", where
        assert page.footer == f"made 2026-12-04 09:30 UTC page {number} of {count}", where
        if number < count:
            assert len(page.lines) > MIN_LINES, (where, page.lines)
        # A heading has text after it on its own page.
        assert page.lines and not page.lines[-1][0], (where, page.lines[-3:])
        for width, height in page.images:
            assert width <= page.width and height <= page.height / 2, where
    # A small table is on one page; a longer one leaves 3 rows (its header and 2) or more on
    # each page it is on.
    pieces: dict[int, list[tuple[int, int]]] = {}
    rows_of: dict[int, int] = {}
    for number, page in enumerate(pages, 1):
        for table, rows in page.tables:
            pieces.setdefault(id(table), []).append((number, rows))
            rows_of[id(table)] = sum(1 for _ in table.iter("tr"))
    assert pieces
    for key, on_pages in pieces.items():
        if rows_of[key] < SMALL_TABLE_ROWS:
            assert len(on_pages) == 1, (rows_of[key], on_pages)
        else:
            assert all(rows >= 2 for _, rows in on_pages), on_pages
            assert on_pages[0][1] >= 3, on_pages
    return sum(len(on_pages) > 1 for on_pages in pieces.values())


@pytest.fixture
def demo(db) -> None:
    load_demo_data()
    db.commit()


@pytest.mark.parametrize("quarter", ["2020Q3", "2020Q4", "2022Q3"])
def test_demo_quarters_lay_out_as_a_report(app, demo, quarter) -> None:
    pages = quarterly_pages(app, quarter)
    check_layout(pages, quarter)
    text = " ".join(t for page in pages for _, t in page.lines)
    assert f"Quarterly review {quarter}" in text
    # The charts are in it, each inside the page.
    assert sum(len(page.images) for page in pages) == 3


def test_the_demo_2022q3_no_longer_strands_a_heading_or_two_bullets(app, demo) -> None:
    """The walkthrough's 5 pages: page 2 held two bullets, page 3 only a heading."""
    pages = quarterly_pages(app, "2022Q3")
    for page in pages:
        headings = [t for heading, t in page.lines if heading]
        assert len(headings) < len(page.lines) - 2
    action_page = next(
        p for p in pages if any(t.startswith("on this quarter's incidents") for _, t in p.lines)
    )
    assert len(action_page.lines) > MIN_LINES
    detail = next(p for p in pages if (True, "This quarter in detail") in p.lines)
    after = detail.lines[detail.lines.index((True, "This quarter in detail")) + 1 :]
    assert len([t for heading, t in after if not heading]) > 3


@pytest.fixture
def big_quarter(db, demo) -> None:
    """2022Q3 with 60 more postmortems: factors in every category, money and action items."""
    factors = db.scalars(select(ContributingFactor).order_by(ContributingFactor.id)).all()
    start = datetime(2022, 7, 2, 9, tzinfo=UTC)
    for i in range(60):
        started = start + timedelta(days=i * 1.4)
        incident = Incident(
            key=f"BIG-{i}",
            title=f"Synthetic incident {i} with a title long enough to wrap in its cell",
            started_at=started,
            detected_at=started + timedelta(hours=i % 7 + 1),
            resolved_at=started + timedelta(days=i % 5 + 1),
        )
        incident.factors = [
            IncidentFactor(factor_id=factors[(i + k) % len(factors)].id) for k in range(1 + i % 3)
        ]
        incident.impacts = [
            ImpactEstimate(
                kind=ImpactKind.LOST_REVENUE,
                currency=("RUB", "EUR", "USD")[i % 3],
                low=Decimal(1000 + i),
                likely=Decimal(2000 + i),
                high=Decimal(4000 + i),
            )
        ]
        incident.action_items = [
            ActionItem(
                title=f"Follow up {k}",
                group=LessonGroup.TECHNICAL,
                type=ActionType.PREVENTIVE,
                status=ActionStatus.DONE if k % 2 else ActionStatus.OPEN,
                due_on=started.date() + timedelta(days=30),
                completed_on=started.date() + timedelta(days=10) if k % 2 else None,
            )
            for k in range(i % 4)
        ]
        db.add(incident)
    db.commit()


def test_a_big_quarter_lays_out_as_a_report(app, big_quarter) -> None:
    pages = quarterly_pages(app, "2022Q3")
    assert len(pages) > 4
    # The list of 61 postmortems goes over several pages, its rows kept in threes at the breaks.
    assert check_layout(pages, "2022Q3") >= 1
    text = " ".join(t for page in pages for _, t in page.lines)
    for i in (0, 30, 59):
        assert f"BIG-{i}" in text
    # The postmortems' table repeats its header row on every page it runs over.
    spanned = [
        page
        for page in pages
        if any(table.get("id") == "postmortems-table" for table, _ in page.tables)
    ]
    assert len(spanned) > 1
    header = ["key", "title", "severity", "status", "categories", "impact"]  # a line a cell
    for page in spanned:
        texts = [t for _, t in page.lines]
        at = texts.index("key")
        assert texts[at : at + len(header)] == header, texts[:8]


def test_the_footer_says_when_the_pdf_was_made(app) -> None:
    """Without `made_at`, the footer names the minute the PDF was made, in UTC."""
    html = "<h1>A title</h1>" + "<p>Some text.</p>" * 3
    with app.test_request_context("/"):
        before = datetime.now(UTC).replace(second=0, microsecond=0)
        (page,) = read_pages(render_document(html))
    made = datetime.strptime(page.footer[5:21], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert before <= made <= before + timedelta(minutes=1)
    assert page.header == "A title" and page.footer.endswith("page 1 of 1")
