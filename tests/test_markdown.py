"""User Markdown renders safely: XSS payloads end up inert, tables and code survive."""

import pytest

from postmortems.markdown import render_markdown

XSS_PAYLOADS = [
    "<script>alert('xss')</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[click](javascript:alert('xss'))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    '<img src=x onerror="alert(1)">',
    '<p onclick="alert(1)">hi</p>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "![x](javascript:alert(1))",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
]

DANGEROUS = [
    "<script",
    "javascript:",
    "onerror",
    "onload",
    "onclick",
    "<iframe",
    "<svg",
    "<object",
    "<embed",
    "<form",
    "<style",
    "<meta",
    "<base",
    "<img",
    "data:text/html",
]


def assert_inert(html: str, *, page_has: tuple[str, ...] = ()) -> None:
    """No dangerous marker in `html`, except those the page's own layout uses (`page_has`)."""
    lowered = html.lower()
    for marker in set(DANGEROUS) - set(page_has):
        assert marker not in lowered, f"{marker!r} survived in {html!r}"


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_renders_inert(payload: str) -> None:
    assert_inert(str(render_markdown(payload)))


def test_tables_survive() -> None:
    html = str(render_markdown("| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<table>" in html and "<td>1</td>" in html


def test_fenced_code_survives_with_its_content_escaped() -> None:
    html = str(render_markdown("```python\nif a < b:\n    print('<b>')\n```"))
    assert "<pre><code" in html
    assert "&lt;b&gt;" in html


def test_links_keep_http_and_get_a_safe_rel() -> None:
    html = str(render_markdown("[docs](https://example.org/x)"))
    assert 'href="https://example.org/x"' in html
    assert "noopener" in html


def test_empty_text_renders_nothing() -> None:
    assert str(render_markdown("")) == ""
    assert str(render_markdown(None)) == ""
