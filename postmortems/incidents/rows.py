"""Row-level helpers shared by the incident services: the row lock, keys and tags."""

from datetime import datetime

from sqlalchemy import case, select, update

from models import Incident, IncidentKeyCounter, Tag
from postmortems.db import dialect_insert, session
from postmortems.domain import ConflictError
from postmortems.timezones import local_date


def lock_incident(incident: Incident, expected_version: int | None = None) -> None:
    """Take the incident's row lock for the rest of the transaction, so that concurrent changes
    to it (and the revision numbers they take) happen one after another.

    SQLite needs no row lock: every writing transaction there holds the database's write lock
    from its start (see db.py). With `expected_version`, a change based on an older version
    is refused with ConflictError.
    """
    locked = select(Incident.version).where(Incident.id == incident.id)
    current = session.scalar(locked.with_for_update(key_share=True))
    if expected_version is not None and current != expected_version:
        raise ConflictError(
            "Someone saved this postmortem after you opened it; nothing of yours was saved."
        )


def next_incident_key(started_at: datetime | None, kind: str = "PM") -> str:
    """Take the next key for the start year, PM-2020-001, PM-2020-002, ..., in one atomic
    upsert of the year's counter row: concurrent filings wait for each other there and never
    get the same key. External references count apart (`kind` "EXT": EXT-2020-001); one whose
    start is unknown has year 0000 in its key (EXT-0000-001)."""
    year = local_date(started_at).year if started_at is not None else 0
    prefix = f"{kind}-{year:04d}"
    counter = IncidentKeyCounter.__table__.c
    number = session.scalar(
        update(IncidentKeyCounter)
        .where(counter.prefix == prefix)
        .values(last_number=counter.last_number + 1)
        .returning(counter.last_number)
    )
    if number is not None:
        return f"{prefix}-{number:03d}"
    # The year's first key: start after any key given out before counters existed.
    stmt = (
        dialect_insert(IncidentKeyCounter)
        .values(prefix=prefix, last_number=_highest_key_number(prefix) + 1)
        .on_conflict_do_update(
            index_elements=[IncidentKeyCounter.prefix],
            set_={"last_number": IncidentKeyCounter.last_number + 1},
        )
        .returning(IncidentKeyCounter.last_number)
    )
    number = session.execute(stmt).scalar_one()
    return f"{prefix}-{number:03d}"


def claim_incident_key(key: str) -> None:
    """Record that `key` (PM-2020-007, from an import) is taken: its prefix's counter moves up
    to its number, so that the next key filed under that prefix comes after it."""
    prefix, _, number_text = key.rpartition("-")
    number = int(number_text)
    counter = IncidentKeyCounter.__table__.c
    moved = session.scalar(
        update(IncidentKeyCounter)
        .where(counter.prefix == prefix)
        .values(last_number=case((counter.last_number < number, number), else_=counter.last_number))
        .returning(counter.last_number)
    )
    if moved is not None:
        return
    # The prefix's first key: start after any key given out before counters existed.
    stmt = (
        dialect_insert(IncidentKeyCounter)
        .values(prefix=prefix, last_number=max(number, _highest_key_number(prefix)))
        .on_conflict_do_update(
            index_elements=[IncidentKeyCounter.prefix],
            set_={
                "last_number": case(
                    (counter.last_number < number, number), else_=counter.last_number
                )
            },
        )
    )
    session.execute(stmt)


def _highest_key_number(prefix: str) -> int:
    """The highest number already used under `prefix`: where a new counter row starts."""
    keys = session.scalars(select(Incident.key).where(Incident.key.startswith(f"{prefix}-")))
    numbers = [int(k.rsplit("-", 1)[1]) for k in keys if k.rsplit("-", 1)[1].isdigit()]
    return max(numbers, default=0)


def set_tags(incident: Incident, names: list[str]) -> None:
    """Give the incident exactly these tags, creating the ones that do not exist yet.

    New names are inserted with ON CONFLICT DO NOTHING, so two postmortems naming the same new
    tag at the same instant both keep it.
    """
    names = sorted({n.strip().lower() for n in names if n.strip()})
    if names:
        session.execute(
            dialect_insert(Tag)
            .values([{"name": n} for n in names])
            .on_conflict_do_nothing(index_elements=[Tag.name])
        )
    incident.tags = list(session.scalars(select(Tag).where(Tag.name.in_(names)))) if names else []
