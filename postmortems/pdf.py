"""HTML to PDF with WeasyPrint, in process: the quarterly review's PDF, reading-path booklets.

    pdf_bytes = html_to_pdf(render_template("reports/quarterly.html", ...))

The HTML is a page of this app: its stylesheet (`/static/…`, with the `@media print` rules,
as a browser prints it) is read from the static folder, never over the network. Every other
URL in it (an image in someone's Markdown, a link to another host) is refused, so rendering
a PDF can never make the server fetch anything. `data:` URLs are allowed.
WeasyPrint is imported on first use: it takes a while to load.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from flask import current_app
from werkzeug.security import safe_join

if TYPE_CHECKING:
    from weasyprint import Document

# Relative URLs in the page resolve against this origin, which names no real host.
BASE_URL = "https://postmortems.invalid/"
PAGE_CSS = """
@page {
  size: A4;
  margin: 16mm 14mm 18mm;
  @bottom-right {
    content: "page " counter(page) " of " counter(pages);
    font-size: 8pt;
    color: #656d76;
  }
}
body { font-size: 10pt; }
"""


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


def render_document(html: str) -> "Document":
    """The laid-out pages of `html` (a WeasyPrint Document), for writing or inspecting."""
    from weasyprint import CSS, HTML

    fetcher = _fetcher()
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=PAGE_CSS, url_fetcher=fetcher)]
    )


def html_to_pdf(html: str) -> bytes:
    """`html` (a page of this app) as a PDF document."""
    pdf = render_document(html).write_pdf()
    assert pdf is not None  # with no target, WeasyPrint returns the bytes
    return bytes(pdf)
