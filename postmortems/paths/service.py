"""Reading paths: the one place where a path, its items and its readers' progress change.

Who a path is meant for: the members of its team (when it names one) and, when it is marked
"for new users", everyone who counts as new (`is_new_user`). A path with neither is listed for
everyone but offered to nobody on the home page.

What a reader sees of a path: only the items whose postmortem they may see anywhere else
(`visible_incidents`); the others are neither shown nor counted in their progress, and a
reader has finished a path when they have read every item they may see.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Integer, Select, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import selectinload

from models import (
    Incident,
    ReadingPath,
    ReadingPathItem,
    ReadingProgress,
    Team,
    User,
    utcnow,
)
from postmortems.audit.service import record_event
from postmortems.auth.access import visible_incidents
from postmortems.db import dialect_insert, is_taken, session
from postmortems.domain import DomainError, Problems

MAX_TITLE = 200
MAX_TEXT = 20_000  # a description or a note; Markdown
MAX_KEY = 20


class PathError(DomainError):
    """A reading path change that would break a rule."""


@dataclass(frozen=True)
class PathValues:
    title: str
    description_md: str = ""
    team_id: int | None = None
    for_new_users: bool = False


@dataclass(frozen=True)
class Progress:
    """How much of a path one reader has read, counting only the items they may see."""

    read: int
    total: int

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.read >= self.total

    @property
    def started(self) -> bool:
        return self.read > 0


@dataclass(frozen=True)
class ReaderProgress:
    """One person who has read at least one item of a path (for admins)."""

    user: User
    progress: Progress
    first_read_at: datetime
    last_read_at: datetime


# Reading the paths.


def list_paths() -> Select[ReadingPath]:
    """A select() of every path by title."""
    return select(ReadingPath).options(selectinload(ReadingPath.team)).order_by(ReadingPath.title)


def visible_items(path: ReadingPath, viewer: User) -> list[ReadingPathItem]:
    """The path's items whose postmortem `viewer` may see, in order, with their postmortems."""
    stmt = (
        select(ReadingPathItem)
        .join(Incident, Incident.id == ReadingPathItem.incident_id)
        .where(ReadingPathItem.path_id == path.id, visible_incidents(viewer))
        .options(selectinload(ReadingPathItem.incident))
        .order_by(ReadingPathItem.position)
    )
    return list(session.scalars(stmt))


def get_visible_item(path: ReadingPath, item_id: int, viewer: User) -> ReadingPathItem | None:
    """One item of the path, if `viewer` may see its postmortem."""
    stmt = (
        select(ReadingPathItem)
        .join(Incident, Incident.id == ReadingPathItem.incident_id)
        .where(
            ReadingPathItem.id == item_id,
            ReadingPathItem.path_id == path.id,
            visible_incidents(viewer),
        )
    )
    return session.scalar(stmt)


def read_item_ids(viewer: User, items: list[ReadingPathItem]) -> set[int]:
    """Which of these items `viewer` has marked read."""
    if not items:
        return set()
    stmt = select(ReadingProgress.item_id).where(
        ReadingProgress.user_id == viewer.id,
        ReadingProgress.item_id.in_([item.id for item in items]),
    )
    return set(session.scalars(stmt))


def progress_by_path(viewer: User, path_ids: list[int]) -> dict[int, Progress]:
    """`viewer`'s progress on each of these paths, in one query (paths without items they may
    see have 0 of 0)."""
    if not path_ids:
        return {}
    stmt = (
        select(
            ReadingPathItem.path_id,
            func.count(ReadingPathItem.id),
            func.count(ReadingProgress.id),
        )
        .join(Incident, Incident.id == ReadingPathItem.incident_id)
        .outerjoin(
            ReadingProgress,
            and_(
                ReadingProgress.item_id == ReadingPathItem.id,
                ReadingProgress.user_id == viewer.id,
            ),
        )
        .where(ReadingPathItem.path_id.in_(path_ids), visible_incidents(viewer))
        .group_by(ReadingPathItem.path_id)
    )
    counts = {path_id: Progress(read, total) for path_id, total, read in session.execute(stmt)}
    return {path_id: counts.get(path_id, Progress(0, 0)) for path_id in path_ids}


def readers_of(path: ReadingPath) -> list[ReaderProgress]:
    """Everyone who has marked an item of the path read, finished first, then by progress.

    Each person's progress counts the items they may see: one statement asks it for every
    reader at once (a part per reader, each with that reader's visibility rule).
    """
    stmt = (
        select(
            User,
            func.min(ReadingProgress.read_at),
            func.max(ReadingProgress.read_at),
        )
        .join(ReadingProgress, ReadingProgress.user_id == User.id)
        .join(ReadingPathItem, ReadingPathItem.id == ReadingProgress.item_id)
        .where(ReadingPathItem.path_id == path.id)
        .group_by(User.id)
    )
    rows = session.execute(stmt).all()
    progress = _progress_of_readers(path, [user for user, _first, _last in rows])
    readers = [
        ReaderProgress(user, progress.get(user.id, Progress(0, 0)), first, last)
        for user, first, last in rows
    ]
    readers.sort(
        key=lambda r: (
            not r.progress.finished,
            -r.progress.read,
            r.user.display_name.lower(),
        )
    )
    return readers


# Parts of one statement, under SQLite's limit on a compound SELECT (500).
READERS_PER_STATEMENT = 400


def _progress_of_readers(path: ReadingPath, users: list[User]) -> dict[int, Progress]:
    """Each user's progress on `path`, counting the items that user may see."""
    progress: dict[int, Progress] = {}
    for start in range(0, len(users), READERS_PER_STATEMENT):
        parts = [
            select(
                literal(user.id, Integer).label("user_id"),
                func.count(ReadingPathItem.id).label("total"),
                func.count(ReadingProgress.id).label("read"),
            )
            .join(Incident, Incident.id == ReadingPathItem.incident_id)
            .outerjoin(
                ReadingProgress,
                and_(
                    ReadingProgress.item_id == ReadingPathItem.id,
                    ReadingProgress.user_id == user.id,
                ),
            )
            .where(ReadingPathItem.path_id == path.id, visible_incidents(user))
            for user in users[start : start + READERS_PER_STATEMENT]
        ]
        statement = union_all(*parts) if len(parts) > 1 else parts[0]
        for user_id, total, read in session.execute(statement):
            progress[user_id] = Progress(read, total)
    return progress


def count_items(path: ReadingPath) -> int:
    """How many items the path has, all told (without loading them)."""
    stmt = select(func.count()).where(ReadingPathItem.path_id == path.id)
    return session.scalar(stmt) or 0


# Who a path is meant for, and new users.


def is_new_user(user: User, now: datetime | None = None) -> bool:
    """New: the account was made within NEW_USER_DAYS, or its owner has read nothing on any
    path yet."""
    days = current_app.config["NEW_USER_DAYS"]
    if user.created_at >= (now or utcnow()) - timedelta(days=days):
        return True
    has_read = select(ReadingProgress.id).where(ReadingProgress.user_id == user.id).limit(1)
    return session.scalar(has_read) is None


def is_meant_for(path: ReadingPath, user: User, *, new: bool) -> bool:
    """Whether `path` is meant for `user` (`new`: whether they count as a new user)."""
    return (path.for_new_users and new) or (
        path.team_id is not None and path.team_id == user.team_id
    )


def paths_meant_for(user: User, *, new: bool) -> list[ReadingPath]:
    """The paths meant for `user`, by title: their team's, and the new users' when they count
    as new (`new`, from `is_new_user`)."""
    conditions: list[ColumnElement[bool]] = []
    if new:
        conditions.append(ReadingPath.for_new_users.is_(True))
    if user.team_id is not None:
        conditions.append(ReadingPath.team_id == user.team_id)
    if not conditions:
        return []
    return list(session.scalars(list_paths().where(or_(*conditions))))


@dataclass(frozen=True)
class Offer:
    """A path offered on a new user's home page, with their progress."""

    path: ReadingPath
    progress: Progress


def offered_paths(user: User) -> list[Offer]:
    """For a new user: the paths meant for them that have something they may read, unfinished
    first. Anyone else: nothing (their paths are a click away under Reading paths)."""
    if not is_new_user(user):
        return []
    paths = paths_meant_for(user, new=True)
    progress = progress_by_path(user, [p.id for p in paths])
    offers = [Offer(p, progress[p.id]) for p in paths if progress[p.id].total]
    return sorted(offers, key=lambda o: o.progress.finished)


# Curating: paths.


def create_path(values: PathValues, *, by: User | None) -> ReadingPath:
    """Add a reading path (without items)."""
    values = _checked(values, path=None)
    path = ReadingPath(
        title=values.title,
        description_md=values.description_md,
        team_id=values.team_id,
        for_new_users=values.for_new_users,
        created_by_id=by.id if by is not None else None,
    )
    session.add(path)
    session.flush()
    record_event("added reading path", "reading_path", path.id, path.title)
    return path


def update_path(path: ReadingPath, values: PathValues) -> None:
    """Change a path's title, description or audience."""
    values = _checked(values, path=path)
    path.title = values.title
    path.description_md = values.description_md
    path.team_id = values.team_id
    path.for_new_users = values.for_new_users
    session.flush()
    record_event("edited reading path", "reading_path", path.id, path.title)


def delete_path(path: ReadingPath) -> None:
    """Delete a path with its items and everyone's progress on it (postmortems stay)."""
    record_event("deleted reading path", "reading_path", path.id, path.title)
    session.delete(path)
    session.flush()


def _checked(values: PathValues, *, path: ReadingPath | None) -> PathValues:
    title = values.title.strip()
    problems = Problems()
    if not title:
        problems.add("title", "Give the path a title.")
    problems.check_length("title", title, MAX_TITLE)
    problems.check_length("description_md", values.description_md, MAX_TEXT)
    if title and len(title) <= MAX_TITLE and is_taken(ReadingPath, path, title=title):
        problems.add("title", "Another reading path has this title.")
    if values.team_id is not None and session.get(Team, values.team_id) is None:
        problems.add("team_id", "This team no longer exists.")
    problems.raise_if_any(PathError)
    return PathValues(title, values.description_md, values.team_id, values.for_new_users)


# Curating: items.


def add_item(
    path: ReadingPath, key: str, note_md: str = "", *, curator: User | None
) -> ReadingPathItem:
    """Put the postmortem with this key (as the curator may see it) at the end of the path.

    A key the curator may not see reads as unknown, so that adding cannot reveal it exists.
    `curator` None (the demo loader, the CLI) may add any postmortem.
    """
    key = key.strip().upper()
    problems = Problems()
    problems.check_length("note_md", note_md, MAX_TEXT)
    incident = None
    if not key:
        problems.add("key", "Give the key of a postmortem, such as PM-2020-001.")
    elif len(key) > MAX_KEY:
        problems.add("key", f"No postmortem has the key {key[:MAX_KEY]}…")
    else:
        stmt = select(Incident).where(Incident.key == key)
        if curator is not None:
            stmt = stmt.where(visible_incidents(curator))
        incident = session.scalar(stmt)
        if incident is None:
            problems.add("key", f"No postmortem has the key {key}.")
        elif is_taken(ReadingPathItem, None, path_id=path.id, incident_id=incident.id):
            problems.add("key", f"{key} is already on this path.")
    problems.raise_if_any(PathError)
    assert incident is not None
    last = session.scalar(
        select(func.max(ReadingPathItem.position)).where(ReadingPathItem.path_id == path.id)
    )
    item = ReadingPathItem(
        path_id=path.id, incident_id=incident.id, position=(last or 0) + 1, note_md=note_md
    )
    session.add(item)
    session.flush()
    _touch(path, f"added {incident.key} to reading path")
    return item


def update_item(item: ReadingPathItem, note_md: str) -> None:
    """Change the note on why to read an item."""
    problems = Problems()
    problems.check_length("note_md", note_md, MAX_TEXT)
    problems.raise_if_any(PathError)
    item.note_md = note_md
    session.flush()
    _touch(item.path, f"edited the note on {item.incident.key} in reading path")


def move_item(item: ReadingPathItem, direction: str) -> None:
    """Swap the item with the one before it ("up") or after it ("down")."""
    if direction not in ("up", "down"):
        raise PathError(f"Move up or down, not {direction!r}.")
    position = ReadingPathItem.position
    neighbour_stmt = select(ReadingPathItem).where(ReadingPathItem.path_id == item.path_id)
    if direction == "up":
        neighbour_stmt = neighbour_stmt.where(position < item.position).order_by(position.desc())
    else:
        neighbour_stmt = neighbour_stmt.where(position > item.position).order_by(position)
    neighbour = session.scalar(neighbour_stmt.limit(1))
    if neighbour is None:
        edge = "first" if direction == "up" else "last"
        raise PathError(f"{item.incident.key} is already {edge} on this path.")
    # Positions are unique per path: step aside to a free one, then swap.
    mine, theirs = item.position, neighbour.position
    item.position = -1
    session.flush()
    neighbour.position = mine
    session.flush()
    item.position = theirs
    session.flush()
    _touch(item.path, f"moved {item.incident.key} {direction} in reading path")


def remove_item(item: ReadingPathItem) -> None:
    """Take a postmortem off the path, with everyone's mark that they read it there."""
    path, key = item.path, item.incident.key
    session.delete(item)
    session.flush()
    _touch(path, f"removed {key} from reading path")


def _touch(path: ReadingPath, action: str) -> None:
    path.updated_at = utcnow()
    session.flush()
    record_event(action, "reading_path", path.id, path.title)


# Reading.


def mark_read(user: User, item: ReadingPathItem) -> None:
    """Mark the item read by `user`; marking it again keeps the first time."""
    _check_may_read(user, item)
    stmt = dialect_insert(ReadingProgress).values(
        user_id=user.id, item_id=item.id, read_at=utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["user_id", "item_id"]))


def mark_unread(user: User, item: ReadingPathItem) -> None:
    """Take back `user`'s mark that they read the item (nothing happens if there is none)."""
    _check_may_read(user, item)
    mark = session.scalar(
        select(ReadingProgress).where(
            ReadingProgress.user_id == user.id, ReadingProgress.item_id == item.id
        )
    )
    if mark is not None:
        session.delete(mark)
        session.flush()


def _check_may_read(user: User, item: ReadingPathItem) -> None:
    visible = select(Incident.id).where(Incident.id == item.incident_id, visible_incidents(user))
    if session.scalar(visible) is None:
        raise PathError("This postmortem is not one you may read.")
