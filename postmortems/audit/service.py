"""Recording changes in the audit log."""

from flask_login import current_user
from sqlalchemy import Select, select

from models import AuditEvent
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
