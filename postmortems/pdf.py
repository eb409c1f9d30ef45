"""HTML to PDF with WeasyPrint, in process: the quarterly review's PDF, reading-path booklets.

    pdf_bytes = html_to_pdf(render_template("reports/quarterly.html", ...))

The HTML is a page of this app: its stylesheet (`/static/…`, with the `@media print` rules,
as a browser prints it) is read from the static folder, never over the network. Every other
URL in it (an image in someone's Markdown, a link to another host) is refused, so rendering
a PDF can never make the server fetch anything. `data:` URLs are allowed.
WeasyPrint is imported on first use: it takes a while to load.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from flask import current_app
from werkzeug.security import safe_join

if TYPE_CHECKING:
    from weasyprint import Document

# Relative URLs in the page resolve against this origin, which names no real host.
BASE_URL = "https://postmortems.invalid/"
# Every PDF's pages: a header naming the document (its first heading: "Quarterly review 2022Q3",
# a booklet's title), a footer with when the PDF was made and "page N of M". Then the layout
# rules a printed report needs and a page on screen does not: a heading stays with what follows,
# a small table (fewer than 15 rows) or list (fewer than 9 items), a row, an item or a figure is
# never split, a longer table leaves at least its header and 2 rows before a break and 2 rows
# after it, and a paragraph leaves at least 3 lines on each side of a break.
PAGE_CSS = """
@page {
  size: A4;
  margin: 18mm 14mm 18mm;
  @top-left {
    content: string(pdf-title);
    font-size: 8pt;
    color: #656d76;
  }
  @bottom-left {
    content: "made MADE_AT UTC";
    font-size: 8pt;
    color: #656d76;
  }
  @bottom-right {
    content: "page " counter(page) " of " counter(pages);
    font-size: 8pt;
    color: #656d76;
  }
}
body { font-size: 10pt; orphans: 3; widows: 3; }
h1 { string-set: pdf-title content(); }
h1, h2, h3, h4 { break-after: avoid; break-inside: avoid; }
tr, li, figure, img { break-inside: avoid; }
table:not(:has(tr:nth-child(15))), ul:not(:has(li:nth-child(9))),
ol:not(:has(li:nth-child(9))) { break-inside: avoid; }
tr:nth-child(-n+3) { break-after: avoid; }
tr:nth-last-child(-n+2) { break-before: avoid; }
"""


def page_css(made_at: datetime) -> str:
    """The pages' rules for a PDF made at `made_at` (shown to the minute, in UTC)."""
    return PAGE_CSS.replace("MADE_AT", made_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))


class PdfError(Exception):
    """A resource the page asked for that a PDF may not fetch."""


def _fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves the app's static files and nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static_folder = current_app.static_folder
    static_path = (current_app.static_url_path or "/static").rstrip("/") + "/"

    class StaticOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            parts = urlsplit(url)
            base = urlsplit(BASE_URL)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not (
                parts.path.startswith(static_path)
            ):
                raise PdfError(f"not fetched for a PDF: {url}")
            name = unquote(parts.path.removeprefix(static_path))
            path = None if static_folder is None else safe_join(static_folder, name)
            if path is None:
                raise PdfError(f"not a static file: {url}")
            with open(path, "rb") as file:
                body = file.read()
            mimetype = "text/css" if path.endswith(".css") else None
            return URLFetcherResponse(url, body, {"Content-Type": mimetype} if mimetype else {})

    return StaticOnly()


def render_document(html: str, *, made_at: datetime | None = None) -> "Document":
    """The laid-out pages of `html` (a WeasyPrint Document), for writing or inspecting; the
    footer says it was made at `made_at` (default: now)."""
    from weasyprint import CSS, HTML

    fetcher = _fetcher()
    css = page_css(datetime.now(UTC) if made_at is None else made_at)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=css, url_fetcher=fetcher)]
    )


def html_to_pdf(html: str, *, made_at: datetime | None = None) -> bytes:
    """`html` (a page of this app) as a PDF document, made at `made_at` (default: now)."""
    pdf = render_document(html, made_at=made_at).write_pdf()
    assert pdf is not None  # with no target, WeasyPrint returns the bytes
    return bytes(pdf)
