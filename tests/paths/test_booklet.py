"""A reading path as one booklet: HTML, Markdown and PDF, every item in order with its note."""

import base64
import hashlib
import re
from pathlib import Path

import pytest
from weasyprint import HTML

from models import Role
from postmortems.paths import booklet
from postmortems.paths.service import visible_items
from tests.conftest import make_user, sign_in
from tests.paths.conftest import make_path, published


@pytest.fixture
def three(db):
    """A path over three postmortems, added in an order unlike their keys', with notes."""
    a = published("Config key meant two things", 1, what_happened_md="The **key** was shared.")
    b = published("Probabilities rounded to integers", 2)
    c = published("Evaluator used the overall maximum", 3)
    path = make_path("Start here", [c, a, b], description_md="Read them *in order*.")
    db.commit()
    return path, [c, a, b]


def positions(text: str, needles: list[str]) -> list[int]:
    found = [text.find(needle) for needle in needles]
    assert -1 not in found, [n for n, f in zip(needles, found, strict=True) if f == -1]
    return found


def test_the_html_booklet_holds_every_item_in_order_with_its_note(client, three) -> None:
    path, incidents = three
    response = client.get(f"/paths/{path.id}/booklet.html")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    contents = html.split('<nav class="contents"', 1)[1].split("</nav>", 1)[0]
    assert positions(contents, [i.key for i in incidents]) == sorted(
        positions(contents, [i.key for i in incidents])
    )
    body = html.split("</nav>", 1)[1]
    titles = [f"<h1>{i.title}</h1>" for i in incidents]
    assert positions(body, titles) == sorted(positions(body, titles))
    notes = ["<p>Why 1</p>", "<p>Why 2</p>", "<p>Why 3</p>"]
    assert positions(body, notes) == sorted(positions(body, notes))
    assert "The <strong>key</strong> was shared." in body and "<em>in order</em>" in html


def test_the_html_booklet_stands_alone_under_its_own_policy(client, three) -> None:
    path, _ = three
    response = client.get(f"/paths/{path.id}/booklet.html")
    html = response.get_data(as_text=True)
    (css,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in policy and "'unsafe-inline'" not in policy
    assert "<script" not in html.lower()
    assert 'href="/' not in html  # links into the site are absolute, so a saved copy works
    assert 'href="http://localhost/incidents/' in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # each article's anchors are its own
    assert "booklet" not in response.headers.get("Content-Disposition", "attachment")


def test_the_markdown_booklet_holds_every_item_in_order_with_its_note(client, three) -> None:
    path, incidents = three
    response = client.get(f"/paths/{path.id}/booklet.md")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="reading-path-{path.id}-start-here.md"'
    )
    assert text.startswith("# Start here\n") and "Read them *in order*." in text
    contents = text.split("## Contents", 1)[1].split("---", 1)[0]
    for number, incident in enumerate(incidents, start=1):
        assert f"{number}. [{incident.key} {incident.title}](#item-" in contents
    headings = [f"## {n}. {i.key} {i.title}" for n, i in enumerate(incidents, start=1)]
    assert positions(text, headings) == sorted(positions(text, headings))
    notes = [f"> **Why read it.** Why {n}" for n in (1, 2, 3)]
    assert positions(text, notes) == sorted(positions(text, notes))
    assert "The **key** was shared." in text  # the sections as written


def test_the_pdf_booklet_is_a_pdf_with_a_bookmark_per_item(client, three) -> None:
    path, _ = three
    response = client.get(f"/paths/{path.id}/booklet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_the_printed_booklet_has_bookmarks_and_contents_pointing_at_each_item(
    app, db, three
) -> None:
    path, incidents = three
    with app.test_request_context():
        reader = make_user(Role.ADMIN)
        items = visible_items(path, reader)
        html, _ = booklet.as_html(path, items, viewer=reader, base_url="http://localhost/")
    document = HTML(string=html, base_url="http://localhost/").render()
    tree = document.make_bookmark_tree()
    labels = [label for label, *_ in tree]
    assert labels == ["Contents", *[i.title for i in incidents]]
    # Every postmortem starts its own page, after the contents, in path order.
    pages = {anchor: n for n, page in enumerate(document.pages) for anchor in page.anchors}
    starts = [pages[f"item-{item.id}"] for item in items]
    assert starts == sorted(starts) and starts[0] >= 1 and len(set(starts)) == 3
    sections = [child[0] for child in tree[2][2]]  # the second item's
    assert sections[:2] == ["What happened", "Timeline"] and "Review" not in sections


def test_a_booklet_of_a_reader_leaves_out_what_they_may_not_see(app, db) -> None:
    path = make_path(
        "P", [published("Open one", 1), published("Hidden one", 2, is_restricted=True)]
    )
    reader = make_user(Role.READER)
    db.commit()
    client = sign_in(app.test_client(), reader)
    for kind in ("html", "md"):
        text = client.get(f"/paths/{path.id}/booklet.{kind}").get_data(as_text=True)
        assert "Open one" in text and "Hidden one" not in text and "Why 2" not in text


def test_an_empty_booklet_says_so(client, db) -> None:
    path = make_path("Nothing yet")
    db.commit()
    assert "No postmortems on this path" in client.get(f"/paths/{path.id}/booklet.md").get_data(
        as_text=True
    )
    assert client.get(f"/paths/{path.id}/booklet.pdf").data.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Start here: the founding story", "reading-path-7-start-here-the-founding-story.pdf"),
        ("Первая неделя", "reading-path-7.pdf"),
        ('Quotes "and" slashes/\\', "reading-path-7-quotes-and-slashes.pdf"),
    ],
)
def test_booklet_file_names_are_plain_ascii(title, name) -> None:
    class Path:
        id = 7

    Path.title = title
    assert booklet.file_name(Path(), "pdf") == name


def test_the_markdown_booklet_escapes_plain_text_and_keeps_markdown_as_written(client, db) -> None:
    incident = published("Split `bin_threshold` <b>now</b> [x](y)", 1, summary="a_b *c*")
    incident.what_happened_md = "Use `<b>` for **bold**"
    path = make_path("Path <i>one</i> #1", [incident])
    db.commit()
    text = client.get(f"/paths/{path.id}/booklet.md").get_data(as_text=True)
    assert text.startswith("# Path &lt;i&gt;one&lt;/i&gt; \\#1\n")
    assert r"Split \`bin\_threshold\` &lt;b&gt;now&lt;/b&gt; \[x\](y)" in text
    assert r"a\_b \*c\*" in text
    assert "Use `<b>` for **bold**" in text  # a Markdown section, as written


def test_the_booklets_stylesheet_is_read_once(client, three) -> None:
    path, _ = three
    client.get(f"/paths/{path.id}/booklet.html")
    before = booklet._read_stylesheet.cache_info()
    response = client.get(f"/paths/{path.id}/booklet.html")
    after = booklet._read_stylesheet.cache_info()
    assert (after.misses, after.hits) == (before.misses, before.hits + 1)
    css = (Path(client.application.static_folder) / booklet.STYLESHEET).read_text()
    assert css in response.get_data(as_text=True)
