"""Requests at the same instant, on one real database file or server: nobody gets a 500, no
acknowledged write is lost, and a lost race is answered with the conflict page or the form."""

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Incident, IncidentRevision, IncidentStatus, Role, Tag, TimelineEvent
from tests.conftest import CSRF_PATTERN, HIDDEN_PATTERN, make_user, sign_in
from tests.factories import make_incident

PEOPLE = 8
FILING = {"title": "Queue stalled", "started_at": "2024-03-01T10:00", "severity": "SEV3"}


def prepared_post(client: FlaskClient, page_url: str, data: dict[str, str]) -> dict[str, str]:
    """What a browser would send from the form on `page_url`: its CSRF token and hidden fields
    as the page filled them, then what the person typed."""
    html = client.get(page_url).get_data(as_text=True)
    payload = {"csrf_token": CSRF_PATTERN.search(html).group(1)}  # type: ignore[union-attr]
    form = html.split('<form method="post" class="form"', 1)[1].split("</form>", 1)[0]
    payload.update(HIDDEN_PATTERN.findall(form))
    payload.update(data)
    return payload


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together by a barrier; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def authors(app: Flask, db: Any) -> list[FlaskClient]:
    people = [make_user(Role.AUTHOR) for _ in range(PEOPLE)]
    db.commit()
    return [sign_in(app.test_client(), person) for person in people]


def _post(client: FlaskClient, url: str, payload: dict[str, str]) -> Callable[[], Any]:
    return lambda: client.post(url, data=payload)


def test_postmortems_filed_at_the_same_instant_all_get_different_keys(authors, db) -> None:
    posts = [
        _post(c, "/incidents/new", prepared_post(c, "/incidents/new", {**FILING, "title": f"#{i}"}))
        for i, c in enumerate(authors)
    ]
    responses = at_once(posts)
    assert [r.status_code for r in responses] == [302] * PEOPLE
    keys = db.scalars(select(Incident.key)).all()
    assert sorted(keys) == [f"PM-2024-{n:03d}" for n in range(1, PEOPLE + 1)]


def test_postmortems_naming_the_same_new_tag_at_once_are_all_filed(authors, db) -> None:
    filing = {**FILING, "tags": "brand-new, ml"}
    posts = [
        _post(c, "/incidents/new", prepared_post(c, "/incidents/new", filing)) for c in authors
    ]
    assert [r.status_code for r in at_once(posts)] == [302] * PEOPLE
    assert sorted(db.scalars(select(Tag.name)).all()) == ["brand-new", "ml"]
    assert len(db.scalars(select(Incident)).all()) == PEOPLE


def test_two_saves_of_one_postmortem_at_once_give_one_save_and_one_conflict_page(app, db) -> None:
    first_person, second_person = make_user(Role.REVIEWER), make_user(Role.REVIEWER)
    incident = make_incident(
        "Disk filled up", what_happened_md="Original.", status=IncidentStatus.PUBLISHED
    )
    db.commit()
    url = f"/incidents/{incident.id}/edit"
    clients = [sign_in(app.test_client(), p) for p in (first_person, second_person)]
    posts = [
        _post(c, url, prepared_post(c, url, {**FILING, "what_happened_md": f"Text {i}."}))
        for i, c in enumerate(clients)
    ]
    responses = at_once(posts)
    assert sorted(r.status_code for r in responses) == [302, 409]
    refused = next(r for r in responses if r.status_code == 409).get_data(as_text=True)
    assert "Someone else saved this postmortem" in refused
    loser = next(i for i, r in enumerate(responses) if r.status_code == 409)
    assert f"Text {loser}.</textarea>" in refused  # what the loser typed is kept
    saved = db.get(Incident, incident.id).what_happened_md
    assert saved == f"Text {1 - loser}."


def test_parts_added_to_one_postmortem_at_once_are_all_kept_with_their_revisions(app, db) -> None:
    admins = [make_user(Role.ADMIN) for _ in range(PEOPLE)]
    incident = make_incident("Disk filled up")
    db.commit()
    url = f"/incidents/{incident.id}/timeline/new"
    clients = [sign_in(app.test_client(), admin) for admin in admins]
    posts = [
        _post(c, url, prepared_post(c, url, {"at": "2024-03-01T10:05", "text_md": f"Step {i}"}))
        for i, c in enumerate(clients)
    ]
    assert [r.status_code for r in at_once(posts)] == [302] * PEOPLE
    events = db.scalars(select(TimelineEvent.text_md)).all()
    assert sorted(events) == sorted(f"Step {i}" for i in range(PEOPLE))
    numbers = db.scalars(
        select(IncidentRevision.number).where(IncidentRevision.incident_id == incident.id)
    ).all()
    assert sorted(numbers) == list(range(1, PEOPLE + 1))


def test_a_key_is_never_given_twice_even_after_postmortems_were_deleted(browser, db) -> None:
    first = browser.submit("/incidents/new", FILING)
    key = re.search(r"/incidents/(\d+)", first.headers["Location"]).group(1)  # type: ignore
    browser.submit(f"/incidents/{key}/delete", {}, action=f"/incidents/{key}/delete")
    browser.submit("/incidents/new", FILING)
    assert db.scalars(select(Incident.key)).all() == ["PM-2024-002"]
