"""Who may see and change what: the one place where access rules live."""

from collections.abc import Callable, Sequence

from flask import abort, g, has_request_context, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import ColumnElement, CompoundSelect, and_, or_, select, true, union
from sqlalchemy.sql.base import ExecutableOption

from models import ActionItem, Incident, IncidentStatus, Role, User
from models.incident import incident_access
from postmortems.db import session

# Pages anyone may open without signing in.
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.healthz"}


def require_sign_in() -> ResponseReturnValue | None:
    """Before every request: anonymous visitors only see the sign-in page. The JSON API
    authenticates its own requests by token (api/blueprint.py), never by the session cookie."""
    if request.path.startswith("/api/"):
        return None
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.endpoint is None:  # an unknown URL: let it 404 after sign-in, not reveal it
        return redirect(url_for("auth.login"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def named_on(user: User) -> ColumnElement[bool]:
    """Incidents that name the user: as author, owner, action item owner or on the access list.

    The last two are uncorrelated `IN (subquery)`s: the database reads the user's few rows
    once per query, instead of probing them again for every incident it looks at.
    """
    on_access_list = select(incident_access.c.incident_id).where(
        incident_access.c.user_id == user.id
    )
    owns_an_action = select(ActionItem.incident_id).where(ActionItem.owner_id == user.id)
    return or_(
        Incident.author_id == user.id,
        Incident.owner_id == user.id,
        Incident.id.in_(on_access_list),
        Incident.id.in_(owns_an_action),
    )


def named_incident_ids(user: User) -> CompoundSelect[tuple[int]]:
    """The ids of the incidents that name the user (as `named_on` says), each source read
    through its own index: for finding the few among many."""
    return union(
        select(Incident.id).where(Incident.author_id == user.id),
        select(Incident.id).where(Incident.owner_id == user.id),
        select(incident_access.c.incident_id).where(incident_access.c.user_id == user.id),
        select(ActionItem.incident_id).where(ActionItem.owner_id == user.id),
    )


def sees_everything(user: User) -> bool:
    """Whether `user` sees every incident (admins), so a query may skip the visibility join."""
    return user.can(Role.ADMIN)


def visible_incidents(user: User) -> ColumnElement[bool]:
    """The condition an incident must meet for `user` to see it anywhere: lists, pages, guards.

    Published and archived postmortems are for everyone, drafts for the people named on them,
    postmortems in review also for reviewers. Restricted ones only for the people named on
    them and the members of their team. Admins see everything.
    """
    if sees_everything(user):
        return true()
    shown = [IncidentStatus.PUBLISHED, IncidentStatus.ARCHIVED]
    if user.can(Role.REVIEWER):
        shown.append(IncidentStatus.IN_REVIEW)
    # Each way past the restriction with the status condition of its own, as the planner
    # has always been given it (one OR branch per index it can use).
    past_restriction = [
        and_(Incident.status.in_(shown), lets_in) for lets_in in _restriction_lets_in(user)
    ]
    return or_(*past_restriction, named_on(user))


def _restriction_lets_in(user: User) -> list[ColumnElement[bool]]:
    """Each way past the restriction for someone not named on the incident: it is not
    restricted, or it belongs to their team."""
    ways: list[ColumnElement[bool]] = [Incident.is_restricted.is_(False)]
    if user.team_id is not None:
        ways.append(Incident.team_id == user.team_id)
    return ways


def nameable_sent_back(user: User) -> ColumnElement[bool]:
    """Drafts a reviewer sent back leave what they can open, but their queue still names them
    (key and title) when nothing but the status hides them: the restriction as above."""
    if sees_everything(user):
        return true()
    return or_(*_restriction_lets_in(user), named_on(user))


def viewer_key(viewer: User) -> object:
    """What decides which incidents `viewer` sees, as a key for figures kept per viewer:
    admins all see the same; anyone else by their id (their role and team go with it)."""
    return "admin" if sees_everything(viewer) else (viewer.id, viewer.role, viewer.team_id)


def can_read(user: User, incident: Incident) -> bool:
    def ask() -> bool:
        stmt = select(Incident.id).where(Incident.id == incident.id, visible_incidents(user))
        return session.scalar(stmt) is not None

    return _answer_once("read", user, incident, ask)


def can_read_now(user: User, incident: Incident) -> bool:
    """can_read asked again, after a step in this request changed what `user` may see (the
    answer kept for the request predates it)."""
    if has_request_context():
        g.setdefault("access_answers", {}).pop(("read", user.id, incident.id), None)
    return can_read(user, incident)


def may_see(viewer: User, incident: Incident | None) -> bool:
    """May a place that names another postmortem (a recurrence's "recurrence of", a reading
    path, similar postmortems, escaped guards, the API, exports) name `incident` to `viewer`?
    Every such place asks this; a hidden one is shown as nothing, or as "a restricted
    postmortem", never by key or title."""
    return incident is not None and can_read(viewer, incident)


def reference_key(viewer: User, incident: Incident | None) -> str | None:
    """The key of the postmortem `incident` if `viewer` may see it, else None."""
    return incident.key if incident is not None and may_see(viewer, incident) else None


def is_named_on(user: User, incident: Incident) -> bool:
    def ask() -> bool:
        stmt = select(Incident.id).where(Incident.id == incident.id, named_on(user))
        return session.scalar(stmt) is not None

    return _answer_once("named", user, incident, ask)


def _answer_once(question: str, user: User, incident: Incident, ask: Callable[[], bool]) -> bool:
    """Ask the database once per request: a page asks the policy the same thing many times."""
    if not has_request_context():
        return ask()
    answers: dict[tuple[str, int, int], bool] = g.setdefault("access_answers", {})
    key = (question, user.id, incident.id)
    if key not in answers:
        answers[key] = ask()
    return answers[key]


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


def get_readable_incident_or_404(
    incident_id: int, options: Sequence[ExecutableOption] = ()
) -> Incident:
    """The incident if the current user may see it; otherwise 404, so its existence stays hidden.

    One query checks and loads it; `options` may load its parts along with it.
    """
    stmt = select(Incident).where(Incident.id == incident_id, visible_incidents(current_user))
    incident = session.scalar(stmt.options(*options))
    if incident is None:
        abort(404)
    g.setdefault("access_answers", {})[("read", current_user.id, incident.id)] = True
    return incident


def get_editable_incident_or_404(incident_id: int) -> Incident:
    """The incident if the current user may change it: 404 when hidden, 403 when only readable."""
    incident = get_readable_incident_or_404(incident_id)
    if not _may_change(current_user, incident):
        abort(403)
    return incident
