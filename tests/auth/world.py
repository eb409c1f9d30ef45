"""A small world of people and postmortems for access tests: one of everything."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from models import (
    ActionItem,
    ActionType,
    ImpactEstimate,
    ImpactKind,
    Incident,
    IncidentFactor,
    IncidentStatus,
    Lesson,
    LessonGroup,
    ReadingPath,
    ReadingPathItem,
    Role,
    TimelineEvent,
    User,
)
from postmortems.db import session
from postmortems.incidents.history import record_revision
from tests.conftest import make_user
from tests.factories import factor_named, make_guard, make_incident, make_stage, make_team, utc

ROLES = ["anonymous", "reader", "author", "other_author", "reviewer", "admin"]


@dataclass
class World:
    users: dict[str, User]
    draft: Incident
    published: Incident
    ids: dict[str, int]


def with_parts(incident: Incident, guard: Any) -> Incident:
    incident.timeline.append(TimelineEvent(at=utc(2024, 3, 1, 10, 5), text_md="Alert"))
    incident.factors.append(IncidentFactor(factor=factor_named("Fatigue")))
    incident.impacts.append(
        ImpactEstimate(kind=ImpactKind.DIRECT_COST, likely=Decimal("10"), currency="EUR")
    )
    incident.lessons.append(Lesson(group=LessonGroup.TECHNICAL, text_md="Test it"))
    incident.action_items.append(
        ActionItem(
            title="Add test",
            group=LessonGroup.TECHNICAL,
            type=ActionType.PREVENTIVE,
            guards=[guard],
        )
    )
    return incident


def build_world() -> World:
    """Users of every role; a draft by `author` and a published postmortem, both with parts."""
    users = {
        role: make_user(Role[role.upper()] if role != "other_author" else Role.AUTHOR)
        for role in ROLES[1:]
    }
    team = make_team("Platform", [(date(2024, 1, 1), 5)])
    stage = make_stage("Founding", 0, 10)
    guard = make_guard("Smoke test")
    draft = with_parts(
        make_incident("Draft incident", utc(2024, 3, 1, 10), author_id=users["author"].id), guard
    )
    published = with_parts(
        make_incident(
            "Published incident",
            utc(2024, 2, 1, 10),
            author_id=users["other_author"].id,
            status=IncidentStatus.PUBLISHED,
        ),
        guard,
    )
    session.flush()
    record_revision(draft, "filed")
    draft.title = "Draft incident, edited"
    record_revision(draft, "edited")
    record_revision(published, "filed")
    path = ReadingPath(title="First week", for_new_users=True)
    path.items = [ReadingPathItem(incident=published, position=1, note_md="Read it")]
    session.add(path)
    session.commit()
    ids = {
        "incident_id": draft.id,
        "guard_id": guard.id,
        "team_id": team.id,
        "snapshot_id": team.snapshots[0].id,
        "stage_id": stage.id,
        "factor_id": factor_named("Fatigue").id,
        "user_id": users["reader"].id,
        "number": 1,
        "part_id": draft.lessons[0].id,
        "path_id": path.id,
        "item_id": path.items[0].id,
    }
    return World(users=users, draft=draft, published=published, ids=ids)
