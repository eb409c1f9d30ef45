"""A live server on a free loopback port and Debian's Chromium driven by Playwright."""

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import require

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        require("REQUIRE_BROWSER", "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("REQUIRE_BROWSER", "Playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, live_server: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


PASSWORD = "correct horse battery"


@pytest.fixture
def people(app: Any) -> dict[str, Any]:
    """An author, a reviewer and a reader with real passwords, to sign in through the page."""
    from models import Role
    from postmortems.db import session
    from tests.conftest import make_user

    with app.app_context():
        users = {
            role.name.lower(): make_user(
                role, f"{role.name.lower()}@example.com", password=PASSWORD
            )
            for role in (Role.AUTHOR, Role.REVIEWER, Role.READER)
        }
        session.commit()
    return users


def sign_in_through_the_page(page: Any, email: str) -> None:
    from playwright.sync_api import expect

    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .account")).to_contain_text(email.split("@")[0].capitalize())


def sign_out_through_the_page(page: Any) -> None:
    open_the_menu(page)
    page.get_by_role("button", name="Sign out").click()


def open_the_menu(page: Any) -> None:
    """On a phone the navigation and the account fold under "Menu": open it first."""
    menu = page.locator("label.menu-button")
    if menu.is_visible() and not page.locator("#site-menu-toggle").is_checked():
        menu.click()
