"""The quarterly review as a PDF (WeasyPrint): from the page's link, the route and the command
line; its text holds the headline figures; it fetches nothing but the app's static files."""

import re

import pytest

from postmortems.demo import load_demo_data
from postmortems.pdf import html_to_pdf, render_document
from postmortems.reports.periods import Quarter
from postmortems.reports.render import quarterly_html
from postmortems.reports.service import quarterly_report
from tests.factories import utc


@pytest.fixture
def demo(db) -> None:
    load_demo_data()
    db.commit()


def document_text(document) -> str:
    """Every piece of text laid out on the document's pages, in order (WeasyPrint's boxes)."""
    from weasyprint.formatting_structure.boxes import TextBox

    pieces = []
    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box, TextBox):
                pieces.append(box.text)
    return re.sub(r"\s+", " ", " ".join(pieces))


def test_the_quarterly_page_links_to_its_pdf(client, demo) -> None:
    html = client.get("/reports/quarterly/2020Q4").get_data(as_text=True)
    assert 'href="/reports/quarterly/2020Q4.pdf"' in html


def test_pdf_route_answers_a_pdf_download(client, demo) -> None:
    response = client.get("/reports/quarterly/2020Q4.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF-")
    assert "quarterly-2020Q4.pdf" in response.headers["Content-Disposition"]
    assert client.get("/reports/quarterly/2020Q9.pdf").status_code == 404


def test_pdf_text_holds_the_headline_figures(app, client, demo) -> None:
    data = client.get("/reports/quarterly/2020Q4.json").get_json()
    with app.test_request_context("/reports/quarterly/2020Q4"):
        report = quarterly_report(Quarter.parse("2020Q4"), None, now=utc(2026, 1, 1))
        text = document_text(render_document(quarterly_html(report)))
    assert "Quarterly review 2020Q4" in text
    assert "2020-10-01 to 2020-12-31, days in UTC" in text
    this = data["this_quarter"]
    headline = re.search(r"incidents (\d+) (\d+) (\d+)", text)
    assert headline is not None
    assert [int(n) for n in headline.groups()] == [
        this["incidents"],
        data["previous_quarter"]["incidents"],
        data["year_before"]["incidents"],
    ]
    assert f"recurrences {this['recurrences']}" in text
    for postmortem in data["postmortems"]:
        assert postmortem["key"] in text, text[text.find("Postmortems") :][:600]
    # Print rules apply: no navigation, no buttons.
    assert "Sign out" not in text and "Markdown JSON" not in text


def test_command_line_writes_the_pdf(runner, demo, tmp_path) -> None:
    target = tmp_path / "q4.pdf"
    result = runner.invoke(
        args=["report", "quarterly", "2020Q4", "--format", "pdf", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")


def test_command_line_pdf_draws_the_charts_the_route_draws(runner, client, demo, tmp_path) -> None:
    """WeasyPrint draws each chart's SVG as form XObjects: the command line's PDF holds as many
    as the route's (it had none: its document lacked the last quarters and their charts)."""
    target = tmp_path / "q4.pdf"
    runner.invoke(
        args=["report", "quarterly", "2020Q4", "--format", "pdf", "--output", str(target)]
    )
    drawn = target.read_bytes().count(b"/Subtype /Form")
    route = client.get("/reports/quarterly/2020Q4.pdf").get_data()
    assert drawn > 0 and drawn == route.count(b"/Subtype /Form")


def test_a_pdf_fetches_static_files_and_nothing_else(app, tmp_path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    html = (
        '<link rel="stylesheet" href="/static/style.css">'
        f'<img src="file://{secret}"><img src="http://127.0.0.1:9/x.png">'
        '<img src="/static/../postmortems/config.py"><p>Hello</p>'
    )
    fetched: list[str] = []
    with app.test_request_context("/"):
        from postmortems import pdf

        fetcher = pdf._fetcher()
        for url in (
            "https://postmortems.invalid/static/style.css",
            f"file://{secret}",
            "http://127.0.0.1:9/x.png",
            "https://postmortems.invalid/static/../postmortems/config.py",
            "https://postmortems.invalid/reports/trends.json",
        ):
            try:
                fetcher.fetch(url)
            except pdf.PdfError:
                continue
            fetched.append(url)
        assert fetched == ["https://postmortems.invalid/static/style.css"]
        assert html_to_pdf(html).startswith(b"%PDF-")
