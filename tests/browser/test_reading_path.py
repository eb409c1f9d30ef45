"""In a real browser: a reader opens the path their home page offers and marks items read in
place (htmx), with no page load and no CSP error; the HTML booklet renders under its policy."""

import pytest

from tests.browser.conftest import sign_in_through_the_page

pytestmark = pytest.mark.browser


@pytest.fixture
def founding_path(app, people):
    from postmortems.db import session
    from tests.paths.conftest import make_path, published

    with app.app_context():
        incidents = [published(title, day) for day, title in enumerate(["One", "Two", "Three"], 1)]
        path = make_path("Start here", incidents, for_new_users=True)
        session.commit()
        return path.id


def test_a_reader_marks_items_read_in_place(page, founding_path) -> None:
    from playwright.sync_api import expect

    problems = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    sign_in_through_the_page(page, "reader@example.com")
    page.locator("#reading-paths").get_by_role("link", name="Start here").click()
    expect(page.locator("#progress")).to_contain_text("0 of 3 read")

    loads = []
    page.on("framenavigated", lambda frame: loads.append(frame.url))
    items = page.locator("li.path-item")
    items.nth(0).get_by_role("button", name="Mark read").click()
    expect(page.locator("#progress")).to_contain_text("1 of 3 read")
    expect(items.nth(0)).to_have_class("path-item is-read")
    items.nth(2).get_by_role("button", name="Mark read").click()
    expect(page.locator("#progress")).to_contain_text("2 of 3 read")
    items.nth(0).get_by_role("button", name="Mark unread").click()
    expect(page.locator("#progress")).to_contain_text("1 of 3 read")
    assert loads == []  # all in place

    page.reload()
    expect(page.locator("#progress")).to_contain_text("1 of 3 read")
    expect(items.nth(2)).to_contain_text("read")

    page.goto(f"/paths/{founding_path}/booklet.html")
    expect(page.locator("h1.booklet-title")).to_have_text("Start here")
    # The inline stylesheet applies under the booklet's own policy (hash): the note is boxed.
    border = page.locator(".note").first.evaluate("e => getComputedStyle(e).borderLeftStyle")
    assert border == "solid"
    assert problems == []
