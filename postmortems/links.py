"""Links that pages build many times over, built once per app and script root (issue 18).

`url_for` matches the endpoint's rule and quotes its arguments on every call: nothing once,
but `base.html` links a dozen pages on every request, and a guard's page links a postmortem
on every row. What it returns for an endpoint depends only on the URL map and the prefix the
app is served under (`request.script_root`), so it is kept under those and never under who
asks: a link is the same for everyone, and what a viewer may follow is still the template's
`can(...)`.
"""

from collections.abc import Callable
from typing import Any

from flask import Flask, request, url_for

from postmortems.cache import lru_store, store_get, store_put

_STORE = "links"
# The script root comes from the server's environ: a bound (least recently used out first)
# keeps a server that lets clients choose it from growing the store without end.
MAX_LINKS = 1000


def site_url(endpoint: str) -> str:
    """`url_for(endpoint)` of an endpoint that takes no argument (the navigation's pages)."""
    return _kept(("site", endpoint), lambda: url_for(endpoint))


def static_url(filename: str) -> str:
    """`url_for('static', filename=filename)` of a file the templates name."""
    return _kept(("static", filename), lambda: url_for("static", filename=filename))


def url_stem(endpoint: str, id_arg: str) -> str:
    """The URL of `endpoint` up to its last argument `id_arg`, an integer id: a list links
    each row as the stem followed by the row's id, as `url_for` would."""

    def build() -> str:
        values: dict[str, Any] = {id_arg: 1}
        one = url_for(endpoint, **values)
        two = url_for(endpoint, **(values | {id_arg: 2}))
        # The id must be the URL's last part, or stem + id would not be the row's URL.
        if not one.endswith("1") or one[:-1] != two[:-1] or not two.endswith("2"):
            raise ValueError(f"{endpoint}'s URL does not end with its {id_arg}")
        return one[:-1]

    return _kept(("stem", endpoint, id_arg), build)


def _kept(key: tuple[str, ...], build: Callable[[], str]) -> str:
    """A built link, kept per script root in the cache's one kind of store; the first
    request under a root builds it (two at once build the same string)."""
    store = lru_store(_STORE, MAX_LINKS)
    full_key = (request.script_root, *key)
    link: str | None = store_get(store, full_key)
    if link is None:
        link = build()
        store_put(store, full_key, link)
    return link


def init_links(app: Flask) -> None:
    """Templates link with `site_url('guards.index')`, `static_url('style.css')` and
    `url_stem(...)` followed by an id."""
    app.jinja_env.globals["site_url"] = site_url
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["url_stem"] = url_stem
