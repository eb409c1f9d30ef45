"""HTML to PDF with WeasyPrint, in-process. The HTML must carry its own styles: nothing but
inline `data:` URLs is fetched while rendering (no network, no files), so a document cannot
make the server read a URL or a local file."""

from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of a complete HTML document; `base_url` resolves its relative links (links are
    kept in the PDF, never fetched)."""
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    assert isinstance(pdf, bytes)  # write_pdf without a target returns the bytes
    return pdf
