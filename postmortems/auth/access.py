"""Who may see and change what: the one place where access rules live."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, false, or_, select, true

from models import ActionItem, Incident, IncidentStatus, Role, User
from postmortems.db import session

F = TypeVar("F", bound=Callable[..., Any])

# Pages anyone may open without signing in.
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.healthz"}


def require_sign_in() -> ResponseReturnValue | None:
    """Before every request: anonymous visitors only see the sign-in page."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.endpoint is None:  # an unknown URL: let it 404 after sign-in, not reveal it
        return redirect(url_for("auth.login"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def role_required(role: Role) -> Callable[[F], F]:
    """Allow the view only to users with at least `role`; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def named_on(user: User) -> ColumnElement[bool]:
    """Incidents that name the user: as author, owner, action item owner or on the access list."""
    return or_(
        Incident.author_id == user.id,
        Incident.owner_id == user.id,
        Incident.access_users.any(User.id == user.id),
        Incident.action_items.any(ActionItem.owner_id == user.id),
    )


def visible_incidents(user: User) -> ColumnElement[bool]:
    """The condition an incident must meet for `user` to see it anywhere: lists, pages, guards.

    Published and archived postmortems are for everyone, drafts for the people named on them,
    postmortems in review also for reviewers. Restricted ones only for the people named on
    them and the members of their team. Admins see everything.
    """
    if user.can(Role.ADMIN):
        return true()
    named = named_on(user)
    status_ok = Incident.status.in_([IncidentStatus.PUBLISHED, IncidentStatus.ARCHIVED])
    if user.can(Role.REVIEWER):
        status_ok = or_(status_ok, Incident.status == IncidentStatus.IN_REVIEW)
    team = Incident.team_id == user.team_id if user.team_id is not None else false()
    return and_(or_(status_ok, named), or_(Incident.is_restricted.is_(False), named, team))


def can_read(user: User, incident: Incident) -> bool:
    stmt = select(Incident.id).where(Incident.id == incident.id, visible_incidents(user))
    return session.scalar(stmt) is not None


def is_named_on(user: User, incident: Incident) -> bool:
    stmt = select(Incident.id).where(Incident.id == incident.id, named_on(user))
    return session.scalar(stmt) is not None


def can_edit(user: User, incident: Incident) -> bool:
    """Drafts: the authors named on them and reviewers. Later stages: reviewers and admins."""
    return can_read(user, incident) and _may_change(user, incident)


def _may_change(user: User, incident: Incident) -> bool:
    """The editing rule alone, for an incident already known to be readable by `user`."""
    if not user.can(Role.AUTHOR):
        return False
    if user.can(Role.REVIEWER):
        return True
    return incident.status is IncidentStatus.DRAFT and is_named_on(user, incident)


def can_review(user: User, incident: Incident) -> bool:
    """Publish or send back: a reviewer (or admin) who is not the postmortem's author."""
    return (
        user.can(Role.REVIEWER)
        and incident.status is IncidentStatus.IN_REVIEW
        and incident.author_id != user.id
        and can_read(user, incident)
    )


def get_readable_incident_or_404(incident_id: int) -> Incident:
    """The incident if the current user may see it; otherwise 404, so its existence stays hidden."""
    incident = session.get(Incident, incident_id)
    if incident is None or not can_read(current_user, incident):
        abort(404)
    return incident


def get_editable_incident_or_404(incident_id: int) -> Incident:
    """The incident if the current user may change it: 404 when hidden, 403 when only readable."""
    incident = get_readable_incident_or_404(incident_id)
    if not _may_change(current_user, incident):
        abort(403)
    return incident
