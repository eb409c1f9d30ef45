"""Figures kept in this process while the data they come from has not changed.

Every transaction that writes moves the data version (one row) as it commits (db.py), so a
figure computed at version N is good until the version moves: no write can leave a stale
figure behind, whichever worker made it. Reading the version is one row per request.

Every kept value says whose view it holds: `cached` takes the viewer as a required argument
(None for a value the same for everyone), and the key is built from it, so a page or figure cut
to what one person may see is never served to another.
"""

import contextlib
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import LRUCache
from flask import current_app, g, has_request_context
from sqlalchemy import select

from models import DataVersion, User
from postmortems.auth.access import viewer_key
from postmortems.db import session

T = TypeVar("T")
# One lock for the process's stores: cachetools' caches are not safe across threads (gunicorn
# --threads), and what they guard takes microseconds.
_LOCK = threading.Lock()
# Built once: the statement runs on (almost) every request.
_DATA_VERSION = select(DataVersion.number).where(DataVersion.id == 1)


def lru_store(name: str, max_entries: int) -> "LRUCache[Hashable, Any]":
    """This app's least-recently-used store `name`, made on first use: the one kind of store
    every kept figure lives in (the figures below, the report's month pieces)."""
    with _LOCK:
        store: LRUCache[Hashable, Any] = current_app.extensions.setdefault(
            name, LRUCache(maxsize=max_entries)
        )
    return store


def store_get(store: "LRUCache[Hashable, Any]", key: Hashable) -> Any:
    """A kept value, or None; a hit counts as a use (least recently used goes first)."""
    with _LOCK:
        return store.get(key)


def store_put(store: "LRUCache[Hashable, Any]", key: Hashable, value: Any) -> None:
    """Keep a value, dropping the least recently used past the bound (0 keeps nothing)."""
    # cachetools refuses a value larger than the whole store (a bound of 0): keep nothing.
    with _LOCK, contextlib.suppress(ValueError):
        store[key] = value


def data_version() -> int:
    """The data version: read once per request, and on every call outside one (a command or
    a test holds one context across many changes)."""
    if not has_request_context():
        return int(session.scalar(_DATA_VERSION) or 0)
    if "data_version" not in g:
        g.data_version = session.scalar(_DATA_VERSION)
    return int(g.data_version or 0)


def has_pending_writes() -> bool:
    """This transaction has changes not yet committed (or maybe never): what it sees now must
    not be kept for others."""
    return bool(session.info.get("wrote") or session.new or session.dirty or session.deleted)


def cache_key(key: Hashable, viewer: User | None) -> Hashable:
    """The store's key for `key` as `viewer` sees it (None: the same for everyone)."""
    return (key, "everyone" if viewer is None else viewer_key(viewer))


def cached(
    key: Hashable,
    compute: Callable[[], T],
    *,
    viewer: User | None,
    version: Callable[[], int] = data_version,
) -> T:
    """`compute()`'s value, computed again only when the data changed since it was kept.
    Values must be plain data (numbers, tuples), never rows bound to a session. `viewer` is
    whose view `compute` makes: anything that asks what someone may see is kept per viewer.
    `version` reads the number that moves with every change the value depends on: the data
    version unless a narrower one is honest (the reports' figures_version)."""
    key = cache_key(key, viewer)
    if has_pending_writes():
        return compute()
    store = lru_store("figure_cache", current_app.config["CACHE_MAX_ENTRIES"])
    number = version()
    hit = store_get(store, key)
    if hit is not None and hit[0] == number:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    store_put(store, key, (number, value))
    return value
