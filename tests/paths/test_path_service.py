"""Reading path rules: curating, reading, progress over what each reader may see, new users."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from models import ReadingPathItem, ReadingProgress, Role
from postmortems.domain import DomainError
from postmortems.incidents.service import delete_incident
from postmortems.paths import service
from postmortems.paths.service import (
    PathValues,
    Progress,
    add_item,
    create_path,
    delete_path,
    is_new_user,
    mark_read,
    mark_unread,
    move_item,
    offered_paths,
    progress_by_path,
    readers_of,
    remove_item,
    update_path,
    visible_items,
)
from tests.conftest import make_user, sign_in
from tests.factories import make_incident, make_team, utc
from tests.paths.conftest import make_path, old_account, published


def keys(items):
    return [item.incident.key for item in items]


def test_a_path_needs_a_title(db) -> None:
    with pytest.raises(DomainError) as refused:
        create_path(PathValues("   "), by=None)
    assert refused.value.fields == {"title": ["Give the path a title."]}


def test_path_titles_are_unique_and_bounded(db) -> None:
    make_path("First week")
    with pytest.raises(DomainError) as taken:
        create_path(PathValues(" First week "), by=None)
    assert taken.value.fields["title"] == ["Another reading path has this title."]
    with pytest.raises(DomainError) as long:
        create_path(PathValues("x" * 201), by=None)
    assert long.value.fields["title"] == ["At most 200 characters."]


def test_a_path_keeps_its_own_title_when_edited(db) -> None:
    path = make_path("First week")
    update_path(path, PathValues("First week", "Now with a description", for_new_users=True))
    assert (path.description_md, path.for_new_users) == ("Now with a description", True)


def test_a_path_names_a_team_that_exists(db) -> None:
    with pytest.raises(DomainError) as refused:
        create_path(PathValues("Team path", team_id=999_999), by=None)
    assert refused.value.fields == {"team_id": ["This team no longer exists."]}


def test_items_are_added_at_the_end_by_key(db) -> None:
    a, b = published("A", 1), published("B", 2)
    path = make_path("P", [b])
    add_item(path, f"  {a.key.lower()} ", "Read it", curator=None)
    assert keys(visible_items(path, make_user(Role.ADMIN))) == [b.key, a.key]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "Give the key of a postmortem, such as PM-2020-001."),
        ("PM-1999-001", "No postmortem has the key PM-1999-001."),
        ("X" * 300, f"No postmortem has the key {'X' * 20}…"),
    ],
)
def test_adding_an_unknown_key_is_refused(db, key, message) -> None:
    path = make_path("P")
    with pytest.raises(DomainError) as refused:
        add_item(path, key, curator=None)
    assert refused.value.fields == {"key": [message]}


def test_a_postmortem_is_on_a_path_once(db) -> None:
    incident = published("A", 1)
    path = make_path("P", [incident])
    with pytest.raises(DomainError) as refused:
        add_item(path, incident.key, curator=None)
    assert refused.value.fields == {"key": [f"{incident.key} is already on this path."]}


def test_a_curator_cannot_add_or_discover_a_postmortem_they_may_not_see(db) -> None:
    hidden = published("Secret", 1, is_restricted=True)
    reviewer = make_user(Role.REVIEWER)
    path = make_path("P")
    with pytest.raises(DomainError) as refused:
        add_item(path, hidden.key, curator=reviewer)
    assert refused.value.fields == {"key": [f"No postmortem has the key {hidden.key}."]}
    add_item(path, hidden.key, curator=make_user(Role.ADMIN))  # admins see everything


def test_moving_swaps_an_item_with_its_neighbour(db) -> None:
    a, b, c = published("A", 1), published("B", 2), published("C", 3)
    path = make_path("P", [a, b, c])
    admin = make_user(Role.ADMIN)
    move_item(path.items[2], "up")
    assert keys(visible_items(path, admin)) == [a.key, c.key, b.key]
    first = visible_items(path, admin)[0]
    move_item(first, "down")
    assert keys(visible_items(path, admin)) == [c.key, a.key, b.key]


def test_moving_past_either_end_is_refused(db) -> None:
    a, b = published("A", 1), published("B", 2)
    path = make_path("P", [a, b])
    items = visible_items(path, make_user(Role.ADMIN))
    with pytest.raises(DomainError, match="already first"):
        move_item(items[0], "up")
    with pytest.raises(DomainError, match="already last"):
        move_item(items[1], "down")


def test_marking_read_twice_keeps_one_mark_and_unread_takes_it_back(db) -> None:
    incident = published("A", 1)
    path = make_path("P", [incident])
    reader = make_user(Role.READER)
    item = path.items[0]
    mark_read(reader, item)
    mark_read(reader, item)
    assert progress_by_path(reader, [path.id]) == {path.id: Progress(1, 1)}
    mark_unread(reader, item)
    mark_unread(reader, item)
    assert progress_by_path(reader, [path.id]) == {path.id: Progress(0, 1)}


def test_restricted_and_draft_items_are_neither_shown_nor_counted_for_a_reader(db) -> None:
    shown = published("Open", 1)
    restricted = published("Restricted", 2, is_restricted=True)
    draft = make_incident("Draft", utc(2024, 3, 9, 10))
    path = make_path("P", [shown, restricted, draft])
    reader = make_user(Role.READER)
    assert keys(visible_items(path, reader)) == [shown.key]
    assert progress_by_path(reader, [path.id])[path.id] == Progress(0, 1)
    with pytest.raises(DomainError):
        mark_read(reader, path.items[1])
    mark_read(reader, path.items[0])
    assert progress_by_path(reader, [path.id])[path.id].finished


def test_a_team_member_sees_their_teams_restricted_postmortem_on_the_path(db) -> None:
    team = make_team("ML")
    restricted = published("Restricted", 2, is_restricted=True, team_id=team.id)
    path = make_path("P", [restricted])
    member = make_user(Role.READER, team_id=team.id)
    assert keys(visible_items(path, member)) == [restricted.key]


def test_removing_an_item_forgets_who_read_it(db) -> None:
    a, b = published("A", 1), published("B", 2)
    path = make_path("P", [a, b])
    reader = make_user(Role.READER)
    mark_read(reader, path.items[0])
    remove_item(path.items[0])
    assert db.scalar(select(func.count()).select_from(ReadingProgress)) == 0
    assert progress_by_path(reader, [path.id])[path.id] == Progress(0, 1)


def test_deleting_a_postmortem_takes_it_off_every_path(db) -> None:
    a, b = published("A", 1), published("B", 2)
    path = make_path("P", [a, b])
    reader = make_user(Role.READER)
    mark_read(reader, path.items[0])
    db.commit()
    delete_incident(a)
    db.commit()
    db.expire_all()
    assert [item.incident_id for item in path.items] == [b.id]
    assert db.scalar(select(func.count()).select_from(ReadingProgress)) == 0


def test_deleting_a_path_deletes_its_items_and_marks_only(db) -> None:
    a = published("A", 1)
    path = make_path("P", [a])
    mark_read(make_user(Role.READER), path.items[0])
    delete_path(path)
    db.commit()
    assert db.scalar(select(func.count()).select_from(ReadingPathItem)) == 0
    assert db.scalar(select(func.count()).select_from(ReadingProgress)) == 0
    assert db.get(type(a), a.id) is not None


def test_a_new_account_is_new_and_an_old_one_only_until_it_reads(app, db) -> None:
    assert is_new_user(make_user(Role.READER))
    veteran = old_account()
    assert is_new_user(veteran)
    path = make_path("P", [published("A", 1)])
    mark_read(veteran, path.items[0])
    assert not is_new_user(veteran)
    app.config["NEW_USER_DAYS"] = 500
    assert is_new_user(veteran)


def test_the_new_user_age_is_counted_from_the_account_creation(app, db) -> None:
    user = make_user(Role.READER)
    path = make_path("P", [published("A", 1)])
    mark_read(user, path.items[0])
    now = datetime.now(UTC)
    assert is_new_user(user, now + timedelta(days=29))
    assert not is_new_user(user, now + timedelta(days=31))


def test_a_new_user_is_offered_the_new_users_paths_and_their_teams(db) -> None:
    ml, web = make_team("ML"), make_team("Web")
    incident = published("A", 1)
    make_path("Everyone new", [incident], for_new_users=True)
    make_path("ML first week", [incident], team_id=ml.id)
    make_path("Web first week", [incident], team_id=web.id)
    make_path("Not aimed", [incident])
    make_path("New but empty", [], for_new_users=True)
    user = make_user(Role.READER, team_id=ml.id)
    offered = [offer.path.title for offer in offered_paths(user)]
    assert offered == ["Everyone new", "ML first week"]


def test_someone_no_longer_new_is_offered_nothing(app, db) -> None:
    incident = published("A", 1)
    path = make_path("Everyone new", [incident], for_new_users=True)
    veteran = old_account()
    mark_read(veteran, path.items[0])
    assert offered_paths(veteran) == []


def test_readers_of_a_path_say_who_finished_and_who_started(db) -> None:
    a, b = published("A", 1), published("B", 2, is_restricted=True)
    path = make_path("P", [a, b])
    admin, reader, idle = make_user(Role.ADMIN), make_user(Role.READER), make_user(Role.READER)
    mark_read(admin, path.items[0])
    mark_read(reader, path.items[0])  # the only item the reader may see
    rows = {row.user.id: row.progress for row in readers_of(path)}
    assert rows == {reader.id: Progress(1, 1), admin.id: Progress(1, 2)}
    assert rows[reader.id].finished and not rows[admin.id].finished
    assert idle.id not in rows
    assert [row.user.id for row in readers_of(path)][0] == reader.id  # finished first


def test_readers_progress_comes_in_one_statement_per_batch_as_each_would_count_it(
    app, db, monkeypatch
) -> None:
    """Each reader's progress counts what that reader may see, as progress_by_path counts it
    for one person, however many readers are asked in one statement."""
    monkeypatch.setattr(service, "READERS_PER_STATEMENT", 2)
    team = make_team("ML")
    a, b = published("A", 1), published("B", 2, is_restricted=True, team_id=team.id)
    c = make_incident("C draft", utc(2024, 3, 3))
    path = make_path("P", [a, b, c])
    people = [
        make_user(Role.ADMIN),
        make_user(Role.READER),
        make_user(Role.READER, team_id=team.id),
        make_user(Role.REVIEWER),
        make_user(Role.AUTHOR),
    ]
    for n, person in enumerate(people):
        for item in visible_items(path, person)[: n % 3 + 1]:
            mark_read(person, item)
    statements: list[str] = []
    event.listen(app.extensions["db_engine"], "before_cursor_execute", _record(statements))
    rows = {row.user.id: row.progress for row in readers_of(path)}
    assert len(statements) == 1 + 3  # the readers, then three batches of at most two
    assert rows == {p.id: progress_by_path(p, [path.id])[path.id] for p in people}
    assert rows[people[0].id] == Progress(1, 3) and rows[people[2].id] == Progress(2, 2)


def test_the_paths_page_tells_a_curator_how_many_items_they_may_not_see(app, db) -> None:
    a, b, c = published("A", 1), published("B", 2, is_restricted=True), published("C", 3)
    path = make_path("P", [a, b, c])
    curator = make_user(Role.REVIEWER)
    db.commit()
    html = sign_in(app.test_client(), curator).get(f"/paths/{path.id}").get_data(as_text=True)
    assert "1 more on this path is a postmortem you may not see." in html


def _record(statements: list[str]):
    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    return record
