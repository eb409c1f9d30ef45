"""Recording changes in the audit log."""

from flask_login import current_user
from sqlalchemy import Select, select

from models import AuditEvent, Incident
from postmortems.db import session


def record_event(action: str, object_type: str, object_id: int | None, summary: str = "") -> None:
    """Add one audit event by the signed-in user (or by nobody, from the CLI)."""
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    session.add(
        AuditEvent(
            user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary[:2000],
        )
    )


def list_events() -> Select[AuditEvent]:
    return select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def incident_names(events: list[AuditEvent]) -> dict[int, str]:
    """ "PM-2024-001 Title" of the incidents the events name, in one query (deleted ones are
    left out; their events keep their own summary)."""
    ids = {e.object_id for e in events if e.object_type == "incident" and e.object_id}
    rows = session.execute(
        select(Incident.id, Incident.key, Incident.title).where(Incident.id.in_(ids))
    )
    return {incident_id: f"{key} {title}" for incident_id, key, title in rows}
