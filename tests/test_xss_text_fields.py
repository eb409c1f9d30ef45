"""A script typed into any text field comes out of every page as text, never as markup."""

from datetime import date
from decimal import Decimal

from flask import url_for

from models import (
    ActionItem,
    ActionType,
    CauseCategory,
    ContributingFactor,
    GuardKind,
    ImpactEstimate,
    ImpactKind,
    IncidentFactor,
    IncidentStatus,
    Lesson,
    LessonGroup,
    ReadingPath,
    ReadingPathItem,
    ReviewAction,
    ReviewComment,
    Role,
    TimelineEvent,
)
from postmortems.incidents.history import record_revision
from postmortems.incidents.service import set_tags
from tests.auth.test_access_matrix import FIXED_VALUES
from tests.conftest import make_user, sign_in
from tests.factories import make_guard, make_incident, make_stage, make_team, utc

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_every_text_field_is_escaped_on_every_page(app, db) -> None:
    user = make_user(Role.ADMIN, email="x@example.com")
    user.name = PAYLOAD
    team = make_team(PAYLOAD, [(date(2024, 1, 1), 3)])
    team.description = PAYLOAD
    stage = make_stage(PAYLOAD, 0, 10)
    stage.description = PAYLOAD
    guard = make_guard(PAYLOAD, GuardKind.MONITOR)
    guard.location, guard.owner = PAYLOAD, PAYLOAD
    factor = ContributingFactor(category=CauseCategory.CHANCE, name=PAYLOAD, description=PAYLOAD)
    incident = make_incident(
        PAYLOAD,
        utc(2024, 3, 1),
        summary=PAYLOAD,
        affected_system=PAYLOAD,
        environment=PAYLOAD[:60],
        team=team,
        owner_name=PAYLOAD,
        status=IncidentStatus.IN_REVIEW,
    )
    set_tags(incident, ["<script>alert(1)</script>"])
    incident.timeline.append(TimelineEvent(at=utc(2024, 3, 1), text_md=PAYLOAD))
    incident.factors.append(IncidentFactor(factor=factor, note=PAYLOAD))
    incident.impacts.append(
        ImpactEstimate(
            kind=ImpactKind.DOWNTIME,
            likely=Decimal(1),
            unit=PAYLOAD[:40],
            method_note=PAYLOAD,
            estimated_by=PAYLOAD[:120],
        )
    )
    incident.lessons.append(Lesson(group=LessonGroup.PERSONAL, text_md=PAYLOAD))
    incident.action_items.append(
        ActionItem(
            title=PAYLOAD,
            group=LessonGroup.TECHNICAL,
            type=ActionType.DETECTIVE,
            owner=PAYLOAD,
            wont_do_reason=PAYLOAD,
            guards=[guard],
        )
    )
    incident.review_comments.append(
        ReviewComment(user=user, action=ReviewAction.COMMENTED, text=PAYLOAD)
    )
    path = ReadingPath(title=PAYLOAD, description_md=PAYLOAD)
    path.items = [ReadingPathItem(incident=incident, position=1, note_md=PAYLOAD)]
    db.add(path)
    db.flush()
    record_revision(incident, PAYLOAD)
    db.commit()
    ids = {
        "incident_id": incident.id,
        "key": incident.key,
        "guard_id": guard.id,
        "team_id": team.id,
        "stage_id": stage.id,
        "factor_id": factor.id,
        "user_id": user.id,
        "number": 1,
        "part_id": incident.lessons[0].id,
        "snapshot_id": team.snapshots[0].id,
        "path_id": path.id,
        "item_id": path.items[0].id,
    }
    client = sign_in(app.test_client(), user)
    with app.test_request_context():
        urls = [
            url_for(rule.endpoint, **{n: ids.get(n, FIXED_VALUES.get(n)) for n in rule.arguments})
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint not in ("static", "index")
        ]
    urls.append(f"/incidents/{incident.id}/history?a=1&b=1")
    pages_with_payload = 0
    for url in urls:
        # A PDF is binary: it renders the same HTML as the page it comes from, checked too.
        html = client.get(url).get_data().decode("utf-8", "replace")
        assert "<script>" not in html, url
        assert "<img src=x" not in html, url
        pages_with_payload += "&lt;script&gt;" in html
    assert pages_with_payload >= 10
